//! pdsh host lists: `onyx-[15-18]vm1,host[01-03,7]` expands to `onyx-15vm1`, ...,
//! `host01`, `host02`, `host03`, `host7`; [`compress`] goes the other way for output
//! (like `dshbak -c`).
//!
//! Syntax: terms separated by commas outside brackets; each term is text with any number
//! of bracket groups `[a-b,c,...]` of decimal numbers or ranges, expanded left to right
//! (several groups give every combination). Zero padding is kept as pdsh keeps it: a range
//! is as wide as its first number (`[08-10]` gives `08 09 10`), each item on its own
//! (`[01-03,7]` gives `01 02 03 7`).

use std::fmt;

/// The most names one list may expand to: more is a typo (`[1-100000]`), not a cluster.
pub const MAX_HOSTS: usize = 65_536;

/// Why a host list could not be expanded. Positions are 1-based character offsets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct HostlistError {
    /// The list as given.
    pub list: String,
    /// Where the problem is (1-based character position), when it has a place.
    pub at: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for HostlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(
                f,
                "bad host list `{}` at character {at}: {}",
                self.list, self.reason
            ),
            None => write!(f, "bad host list `{}`: {}", self.list, self.reason),
        }
    }
}

/// Expands a pdsh host list into names, in order. Duplicates are kept (the caller decides
/// whether they are an error).
pub fn expand(list: &str) -> Result<Vec<String>, HostlistError> {
    let err = |at: Option<usize>, reason: String| HostlistError {
        list: list.to_string(),
        at,
        reason,
    };
    let chars: Vec<char> = list.chars().collect();
    if chars.iter().all(|c| c.is_whitespace()) {
        return Err(err(None, "it is empty".into()));
    }
    let mut names = Vec::new();
    // Split at commas outside brackets, checking bracket balance on the way.
    let mut depth_open: Option<usize> = None;
    let mut start = 0;
    let mut terms: Vec<(usize, usize)> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '[' if depth_open.is_some() => {
                return Err(err(Some(i + 1), "brackets cannot nest".into()))
            }
            '[' => depth_open = Some(i),
            ']' if depth_open.is_none() => {
                return Err(err(Some(i + 1), "`]` without a matching `[`".into()))
            }
            ']' => depth_open = None,
            ',' if depth_open.is_none() => {
                terms.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    if let Some(open) = depth_open {
        return Err(err(Some(open + 1), "`[` is never closed".into()));
    }
    terms.push((start, chars.len()));
    for (from, to) in terms {
        // Surrounding blanks are forgiven (`a, b`); blanks inside a name are not.
        let mut from = from;
        let mut to = to;
        while from < to && chars[from].is_whitespace() {
            from += 1;
        }
        while to > from && chars[to - 1].is_whitespace() {
            to -= 1;
        }
        if from == to {
            return Err(err(
                Some(from + 1),
                "empty host name (two commas in a row?)".into(),
            ));
        }
        let expanded = expand_term(&chars, from, to).map_err(|(at, r)| err(Some(at), r))?;
        if names.len() + expanded.len() > MAX_HOSTS {
            return Err(err(None, format!("it names more than {MAX_HOSTS} hosts")));
        }
        names.extend(expanded);
    }
    Ok(names)
}

/// One term (no top-level commas): text and bracket groups, every combination.
fn expand_term(chars: &[char], from: usize, to: usize) -> Result<Vec<String>, (usize, String)> {
    let mut out = vec![String::new()];
    let mut i = from;
    while i < to {
        let c = chars[i];
        if c == '[' {
            let close = (i..to)
                .find(|&j| chars[j] == ']')
                .expect("brackets were checked to balance");
            let items = expand_group(chars, i + 1, close)?;
            if out.len().saturating_mul(items.len()) > MAX_HOSTS {
                return Err((i + 1, format!("it names more than {MAX_HOSTS} hosts")));
            }
            out = out
                .iter()
                .flat_map(|prefix| items.iter().map(move |item| format!("{prefix}{item}")))
                .collect();
            i = close + 1;
        } else {
            if c.is_whitespace() || c.is_control() {
                return Err((
                    i + 1,
                    "blank or control character inside a host name".into(),
                ));
            }
            for s in &mut out {
                s.push(c);
            }
            i += 1;
        }
    }
    Ok(out)
}

/// The inside of one `[...]`: comma-separated numbers and `lo-hi` ranges.
fn expand_group(chars: &[char], from: usize, to: usize) -> Result<Vec<String>, (usize, String)> {
    if from == to {
        return Err((from, "empty brackets `[]`".into()));
    }
    let mut items = Vec::new();
    let mut start = from;
    for end in (from..=to).filter(|&j| j == to || chars[j] == ',') {
        let piece: String = chars[start..end].iter().collect();
        let at = start + 1;
        if piece.is_empty() {
            return Err((at, "empty item in brackets".into()));
        }
        let (lo, hi) = match piece.split_once('-') {
            Some((lo, hi)) => (lo, Some(hi)),
            None => (piece.as_str(), None),
        };
        let number = |s: &str| -> Result<u64, (usize, String)> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err((
                    at,
                    format!("`{piece}` is not a number or a range like `1-4`"),
                ));
            }
            if s.len() > 18 {
                return Err((at, format!("`{s}` is too large a number")));
            }
            Ok(s.parse().expect("checked to be digits"))
        };
        let lo_n = number(lo)?;
        match hi {
            None => items.push((lo_n, lo.len())),
            Some(hi) => {
                let hi_n = number(hi)?;
                if hi_n < lo_n {
                    return Err((at, format!("range `{piece}` goes backwards")));
                }
                if hi_n - lo_n >= MAX_HOSTS as u64 {
                    return Err((
                        at,
                        format!("range `{piece}` names more than {MAX_HOSTS} hosts"),
                    ));
                }
                // The first number's width is the range's padding (`08-10`).
                for n in lo_n..=hi_n {
                    items.push((n, lo.len()));
                }
            }
        }
        start = end + 1;
    }
    Ok(items
        .into_iter()
        .map(|(n, width)| format!("{n:0width$}"))
        .collect())
}

/// Compresses names into a host list, the inverse of [`expand`]: `["h1","h2","h3","x"]`
/// gives `h[1-3],x` and `["onyx-15vm1","onyx-16vm1"]` gives `onyx-[15-16]vm1`. Groups appear
/// in the order of their first name; names are grouped on whichever run of digits gathers
/// the most of them; duplicates are dropped.
pub fn compress<S: AsRef<str>>(names: &[S]) -> String {
    let mut names: Vec<&str> = names.iter().map(|s| s.as_ref()).collect();
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    let mut taken = vec![false; names.len()];
    let mut out = Vec::new();
    for i in 0..names.len() {
        if taken[i] {
            continue;
        }
        // The (prefix, suffix) around each maximal run of digits in this name.
        let mut best: Option<(&str, &str, Vec<usize>)> = None;
        for (start, end) in digit_runs(names[i]).into_iter().rev() {
            let (prefix, suffix) = (&names[i][..start], &names[i][end..]);
            let members: Vec<usize> = (i..names.len())
                .filter(|&j| !taken[j] && number_between(names[j], prefix, suffix).is_some())
                .collect();
            if best.as_ref().map_or(true, |b| members.len() > b.2.len()) {
                best = Some((prefix, suffix, members));
            }
        }
        match best {
            Some((prefix, suffix, members)) if members.len() > 1 => {
                let mut numbers: Vec<(u64, usize)> = members
                    .iter()
                    .map(|&j| {
                        taken[j] = true;
                        number_between(names[j], prefix, suffix).expect("matched above")
                    })
                    .collect();
                numbers.sort();
                out.push(format!("{prefix}[{}]{suffix}", ranges(&numbers)));
            }
            _ => {
                taken[i] = true;
                out.push(names[i].to_string());
            }
        }
    }
    out.join(",")
}

/// Byte ranges of the maximal runs of ASCII digits in `name`.
fn digit_runs(name: &str) -> Vec<(usize, usize)> {
    let b = name.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    runs
}

/// The number (and its width) when `name` is `prefix`, digits, `suffix`.
fn number_between(name: &str, prefix: &str, suffix: &str) -> Option<(u64, usize)> {
    let mid = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let ok = !mid.is_empty() && mid.len() <= 18 && mid.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| (mid.parse().expect("checked to be digits"), mid.len()))
}

/// Sorted numbers as `1-3,7`; a run needs consecutive numbers of one width, or unpadded
/// numbers (`9-10`).
fn ranges(numbers: &[(u64, usize)]) -> String {
    let unpadded = |(n, w): (u64, usize)| n.to_string().len() == w;
    let mut parts = Vec::new();
    let mut k = 0;
    while k < numbers.len() {
        let (lo, w) = numbers[k];
        let mut j = k;
        while j + 1 < numbers.len()
            && numbers[j + 1].0 == numbers[j].0 + 1
            && (numbers[j + 1].1 == w || (unpadded(numbers[k]) && unpadded(numbers[j + 1])))
        {
            j += 1;
        }
        parts.push(if j == k {
            format!("{lo:0w$}")
        } else {
            format!("{lo:0w$}-{:0w$}", numbers[j].0)
        });
        k = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(list: &str) -> Vec<String> {
        expand(list).unwrap_or_else(|e| panic!("{list}: {e}"))
    }

    fn bad(list: &str) -> String {
        match expand(list) {
            Ok(v) => panic!("{list} should be refused, gave {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn plain_names_and_commas() {
        assert_eq!(ok("a"), ["a"]);
        assert_eq!(ok("a,b,c"), ["a", "b", "c"]);
        assert_eq!(ok(" a , b "), ["a", "b"]);
        assert_eq!(ok("local"), ["local"]);
        assert_eq!(ok("h.example.com,10.0.0.1"), ["h.example.com", "10.0.0.1"]);
    }

    #[test]
    fn ranges_and_lists_in_brackets() {
        assert_eq!(
            ok("onyx-[15-18]vm1"),
            ["onyx-15vm1", "onyx-16vm1", "onyx-17vm1", "onyx-18vm1"]
        );
        assert_eq!(ok("host[01-03,7]"), ["host01", "host02", "host03", "host7"]);
        assert_eq!(ok("n[1,3,5]"), ["n1", "n3", "n5"]);
        assert_eq!(ok("n[3]"), ["n3"]);
        assert_eq!(ok("n[5-5]"), ["n5"]);
    }

    #[test]
    fn zero_padding_is_kept() {
        assert_eq!(ok("n[08-10]"), ["n08", "n09", "n10"]);
        assert_eq!(ok("n[8-10]"), ["n8", "n9", "n10"]);
        assert_eq!(ok("n[001-002]"), ["n001", "n002"]);
        assert_eq!(ok("n[007]"), ["n007"]);
        assert_eq!(ok("n[098-101]"), ["n098", "n099", "n100", "n101"]);
    }

    #[test]
    fn several_groups_give_every_combination() {
        assert_eq!(ok("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"]);
        assert_eq!(
            ok("onyx-[15-16]vm1,host[01-02,7],x"),
            ["onyx-15vm1", "onyx-16vm1", "host01", "host02", "host7", "x"]
        );
        assert_eq!(ok("[1-3]"), ["1", "2", "3"]);
    }

    #[test]
    fn duplicates_are_kept_for_the_caller() {
        assert_eq!(ok("a,a"), ["a", "a"]);
    }

    #[test]
    fn bad_lists_say_what_and_where() {
        assert!(bad("").contains("empty"));
        assert!(bad("  ").contains("empty"));
        assert!(bad("a,,b").contains("at character 3: empty host name"));
        assert!(bad("a,").contains("empty host name"));
        assert!(bad("host[1-3").contains("at character 5: `[` is never closed"));
        assert!(bad("host1-3]").contains("at character 8: `]` without a matching `[`"));
        assert!(bad("h[1[2]]").contains("cannot nest"));
        assert!(bad("h[]").contains("empty brackets"));
        assert!(bad("h[5-3]").contains("range `5-3` goes backwards"));
        assert!(bad("h[1,,2]").contains("empty item"));
        assert!(bad("h[1-]").contains("not a number"));
        assert!(bad("h[-1]").contains("not a number"));
        assert!(bad("h[a-c]").contains("`a-c` is not a number"));
        assert!(bad("h[1-2-3]").contains("not a number"));
        assert!(bad("h[ 1]").contains("not a number"));
        assert!(bad("h[1-100000]").contains("more than 65536"));
        assert!(bad("a[1-300]b[1-300]").contains("more than 65536"));
        assert!(bad("h[99999999999999999999]").contains("too large"));
        assert!(bad("a b").contains("blank"));
        assert!(bad("a\tb").contains("blank"));
    }

    #[test]
    fn the_total_is_bounded_across_terms() {
        let list = (0..3)
            .map(|i| format!("g{i}x[1-30000]"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(bad(&list).contains("more than 65536"));
    }

    #[test]
    fn compress_groups_numbered_names() {
        assert_eq!(compress(&["h1", "h2", "h3"]), "h[1-3]");
        assert_eq!(compress(&["h1", "h3", "h4", "x"]), "h[1,3-4],x");
        assert_eq!(compress(&["n08", "n09", "n10"]), "n[08-10]");
        assert_eq!(compress(&["n9", "n10"]), "n[9-10]");
        assert_eq!(compress(&["onyx-15vm1", "onyx-16vm1"]), "onyx-[15-16]vm1");
        assert_eq!(compress(&["local"]), "local");
        assert_eq!(compress(&["a7"]), "a7");
        assert_eq!(compress::<&str>(&[]), "");
        assert_eq!(compress(&["h1", "h1", "h2"]), "h[1-2]");
        assert_eq!(
            compress(&["host01", "host02", "host03", "host7"]),
            "host[01-03,7]"
        );
        assert_eq!(compress(&["r1n1", "r1n2", "r2n1"]), "r1n[1-2],r2n1");
    }

    #[test]
    fn compress_then_expand_gives_the_names_back() {
        for names in [
            vec!["h1", "h2", "h3", "h7"],
            vec!["n08", "n09", "n10", "n12"],
            vec!["a", "b1", "b2", "c10"],
            vec!["x9", "x10", "x11"],
        ] {
            let mut back = ok(&compress(&names));
            let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            back.sort();
            want.sort();
            assert_eq!(back, want, "{names:?} -> {}", compress(&names));
        }
    }
}
