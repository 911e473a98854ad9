//! Reads what `lst` (lnet_selftest's console) prints.
//!
//! `lst stat` prints, every interval until it is stopped, a block per group:
//!
//! ```text
//! [LNet Rates of clients]
//! [R] Avg: 462      RPC/s Min: 462      RPC/s Max: 462      RPC/s
//! [W] Avg: 462      RPC/s Min: 462      RPC/s Max: 462      RPC/s
//! [LNet Bandwidth of clients]
//! [R] Avg: 0.07     MiB/s Min: 0.07     MiB/s Max: 0.07     MiB/s
//! [W] Avg: 11.64    MiB/s Min: 11.64    MiB/s Max: 11.64    MiB/s
//! ```
//!
//! which [`parse_stat`] turns into samples, in order. The other commands print one or two
//! fixed sentences, read by the small parsers below; anything unexpected is kept, not lost.

use serde::{Deserialize, Serialize};

/// Output of an lst command that is not what the command prints on success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected `lst {command}` output: {reason}\n--- output ---\n{text}")]
pub struct LstError {
    /// The lst command (`stat`, `new_session`, ...).
    pub command: String,
    /// What was expected.
    pub reason: String,
    /// The whole output.
    pub text: String,
}

fn unexpected(command: &str, reason: impl Into<String>, text: &str) -> LstError {
    LstError {
        command: command.to_owned(),
        reason: reason.into(),
        text: text.to_owned(),
    }
}

/// Average, minimum and maximum over a group's nodes, in `unit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Average.
    pub avg: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    /// `RPC/s` or `MiB/s`.
    pub unit: String,
}

/// A read (`[R]`) and a write (`[W]`) measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadWrite {
    /// `[R]`.
    pub read: Measure,
    /// `[W]`.
    pub write: Measure,
}

/// One group's block of one `lst stat` interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStat {
    /// The group (`clients`, `servers`).
    pub group: String,
    /// The interval it belongs to, from 0 (a new interval starts when a group repeats).
    pub round: usize,
    /// RPC rates.
    pub rates: Option<ReadWrite>,
    /// Bandwidth.
    pub bandwidth: Option<ReadWrite>,
}

/// All `lst stat` printed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LstStat {
    /// Every group block, in order.
    pub samples: Vec<GroupStat>,
    /// Lines that are not part of a block (warnings, ...), kept.
    pub other_lines: Vec<String>,
}

impl LstStat {
    /// The last block of each group, in the order groups first appear.
    pub fn latest(&self) -> Vec<&GroupStat> {
        let mut out: Vec<&GroupStat> = Vec::new();
        for s in &self.samples {
            match out.iter_mut().find(|o| o.group == s.group) {
                Some(o) => *o = s,
                None => out.push(s),
            }
        }
        out
    }

    /// How many intervals were printed.
    pub fn rounds(&self) -> usize {
        self.samples.last().map_or(0, |s| s.round + 1)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rates,
    Bandwidth,
}

/// Reads `lst stat` output (possibly cut short where lst was stopped).
pub fn parse_stat(text: &str) -> Result<LstStat, LstError> {
    let mut stat = LstStat::default();
    // The block being read: its kind and the [R]/[W] lines seen so far.
    let mut current: Option<(Kind, Option<Measure>, Option<Measure>)> = None;
    let mut seen_in_round: Vec<String> = Vec::new();
    let mut round = 0;
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(header) = l.strip_prefix("[LNet ").and_then(|h| h.strip_suffix(']')) {
            let (kind, group) = if let Some(g) = header.strip_prefix("Rates of ") {
                (Kind::Rates, g)
            } else if let Some(g) = header.strip_prefix("Bandwidth of ") {
                (Kind::Bandwidth, g)
            } else {
                stat.other_lines.push(line.to_owned());
                continue;
            };
            let group = group.trim().to_owned();
            // Rates open a group's block; a group seen already in this round opens a new one.
            if kind == Kind::Rates || stat.samples.last().map_or(true, |s| s.group != group) {
                if seen_in_round.contains(&group) {
                    round += 1;
                    seen_in_round.clear();
                }
                seen_in_round.push(group.clone());
                stat.samples.push(GroupStat {
                    group,
                    round,
                    rates: None,
                    bandwidth: None,
                });
            }
            current = Some((kind, None, None));
            continue;
        }
        let rw = if let Some(rest) = l.strip_prefix("[R]") {
            Some((true, rest))
        } else {
            l.strip_prefix("[W]").map(|rest| (false, rest))
        };
        match (rw, current.as_mut(), stat.samples.last_mut()) {
            (Some((is_read, rest)), Some((kind, r, w)), Some(sample)) => {
                let m = parse_measure(rest).ok_or_else(|| {
                    unexpected(
                        "stat",
                        format!("cannot read the measure line {line:?}"),
                        text,
                    )
                })?;
                if is_read {
                    *r = Some(m);
                } else {
                    *w = Some(m);
                }
                if let (Some(read), Some(write)) = (r.clone(), w.clone()) {
                    let both = Some(ReadWrite { read, write });
                    match kind {
                        Kind::Rates => sample.rates = both,
                        Kind::Bandwidth => sample.bandwidth = both,
                    }
                }
            }
            _ => stat.other_lines.push(line.to_owned()),
        }
    }
    if stat.samples.is_empty() && !stat.other_lines.is_empty() {
        return Err(unexpected(
            "stat",
            "no [LNet Rates/Bandwidth of GROUP] block",
            text,
        ));
    }
    Ok(stat)
}

/// `Avg: 462      RPC/s Min: 462      RPC/s Max: 462      RPC/s`
fn parse_measure(rest: &str) -> Option<Measure> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (mut avg, mut min, mut max, mut unit) = (None, None, None, None::<&str>);
    for triple in words.chunks(3) {
        let [label, value, u] = triple else {
            return None;
        };
        let v: f64 = value.parse().ok()?;
        match *label {
            "Avg:" => avg = Some(v),
            "Min:" => min = Some(v),
            "Max:" => max = Some(v),
            _ => return None,
        }
        if unit.is_some_and(|known| known != *u) {
            return None;
        }
        unit = Some(u);
    }
    Some(Measure {
        avg: avg?,
        min: min?,
        max: max?,
        unit: unit?.to_owned(),
    })
}

/// `lst new_session`'s answer: `SESSION: rw FEATURES: 1 TIMEOUT: 100 FORCE: No`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The session's name.
    pub name: String,
    /// The feature mask.
    pub features: u32,
    /// The session timeout, seconds.
    pub timeout: u32,
    /// Whether an existing session was forced out.
    pub force: bool,
}

/// Reads `lst new_session`'s output.
pub fn parse_new_session(text: &str) -> Result<Session, LstError> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("SESSION:"))
        .ok_or_else(|| unexpected("new_session", "no SESSION: line", text))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let field = |key: &str| {
        words
            .iter()
            .position(|w| *w == key)
            .and_then(|i| words.get(i + 1).copied())
            .ok_or_else(|| unexpected("new_session", format!("no {key} in {line:?}"), text))
    };
    let number = |key: &str| -> Result<u32, LstError> {
        field(key)?
            .parse()
            .map_err(|_| unexpected("new_session", format!("{key} is not a number"), text))
    };
    Ok(Session {
        name: field("SESSION:")?.to_owned(),
        features: number("FEATURES:")?,
        timeout: number("TIMEOUT:")?,
        force: field("FORCE:")?.eq_ignore_ascii_case("yes"),
    })
}

/// Reads `lst add_group`'s output: the NIDs added (`NID are added to session`).
pub fn parse_add_group(text: &str) -> Result<Vec<String>, LstError> {
    let mut added = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.strip_suffix(" are added to session") {
            Some(nids) => added.extend(nids.split_whitespace().map(str::to_owned)),
            None => {
                return Err(unexpected(
                    "add_group",
                    format!("unexpected line {line:?}"),
                    text,
                ))
            }
        }
    }
    if added.is_empty() {
        return Err(unexpected("add_group", "no NID was added", text));
    }
    Ok(added)
}

/// Reads `lst show_error`'s output: the number of error nodes of each group.
pub fn parse_show_error(text: &str) -> Result<Vec<(String, u64)>, LstError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        // "Total 0 error nodes in clients"
        let Some(rest) = line.strip_prefix("Total ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let count = words.next().and_then(|n| n.parse().ok());
        let group = rest.split(" error nodes in ").nth(1);
        match (count, group) {
            (Some(c), Some(g)) => out.push((g.trim().to_owned(), c)),
            _ => {
                return Err(unexpected(
                    "show_error",
                    format!("unreadable {line:?}"),
                    text,
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(unexpected(
            "show_error",
            "no \"Total N error nodes in GROUP\" line",
            text,
        ));
    }
    Ok(out)
}

/// Reads `lst run BATCH`'s output (`BATCH is running now`): the batch started.
pub fn parse_run(text: &str) -> Result<String, LstError> {
    text.lines()
        .find_map(|l| l.trim().strip_suffix(" is running now"))
        .map(str::to_owned)
        .ok_or_else(|| unexpected("run", "no \"BATCH is running now\"", text))
}

/// Reads `lst stop BATCH`'s output: fine when it says `Batch is stopped`.
pub fn parse_stop(text: &str) -> Result<(), LstError> {
    if text.lines().any(|l| l.trim() == "Batch is stopped") {
        Ok(())
    } else {
        Err(unexpected("stop", "no \"Batch is stopped\"", text))
    }
}

/// Reads `lst add_test`'s output: fine when it says `Test was added successfully`.
pub fn parse_add_test(text: &str) -> Result<(), LstError> {
    if text
        .lines()
        .any(|l| l.trim() == "Test was added successfully")
    {
        Ok(())
    } else {
        Err(unexpected(
            "add_test",
            "no \"Test was added successfully\"",
            text,
        ))
    }
}

/// Reads the output of the commands that print nothing on success (`add_batch`,
/// `end_session`): anything printed is a failure, returned.
pub fn parse_silent(command: &str, text: &str) -> Result<(), LstError> {
    if text.trim().is_empty() {
        Ok(())
    } else {
        Err(unexpected(command, "it prints nothing on success", text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_need_all_three_and_one_unit() {
        let m =
            parse_measure(" Avg: 0.07     MiB/s Min: 0.05     MiB/s Max: 0.09     MiB/s ").unwrap();
        assert_eq!(
            (m.avg, m.min, m.max, m.unit.as_str()),
            (0.07, 0.05, 0.09, "MiB/s")
        );
        assert!(parse_measure("Avg: 1 RPC/s Min: 1 RPC/s").is_none());
        assert!(parse_measure("Avg: 1 RPC/s Min: 1 MiB/s Max: 1 RPC/s").is_none());
        assert!(parse_measure("Avg: x RPC/s Min: 1 RPC/s Max: 1 RPC/s").is_none());
    }

    #[test]
    fn a_cut_short_stat_keeps_what_was_complete() {
        let s = parse_stat("[LNet Rates of clients]\n[R] Avg: 1 RPC/s Min: 1 RPC/s Max: 1 RPC/s\n")
            .unwrap();
        assert_eq!(s.samples.len(), 1);
        assert_eq!(s.samples[0].rates, None, "only [R] was printed");
    }

    #[test]
    fn garbage_is_an_error_that_keeps_the_text() {
        let e = parse_stat("lst: no session\n").unwrap_err();
        assert!(e.text.contains("no session"), "{e}");
        assert!(parse_new_session("Can't create session: busy\n").is_err());
        assert!(parse_add_group("Can't add 10.0.0.1@tcp\n").is_err());
        assert!(parse_silent("add_batch", "batch exists\n").is_err());
    }
}
