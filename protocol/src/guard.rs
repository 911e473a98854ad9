//! A guard run before any YAML is parsed for real: it walks libyaml's event stream and
//! refuses, as soon as it sees one, the two shapes that make parsing cost far more than the
//! input's size. Requests and replies are written by `serde_yaml`, which never produces
//! either, so the guard refuses nothing lutf sends.
//!
//! - **Nesting deeper than [`MAX_DEPTH`].** libyaml's scanner does work proportional to the
//!   flow nesting depth for every token, so `[[[[…` costs time quadratic in its length
//!   (100,000 brackets took 58 s, a 32 MiB request would take weeks), and `serde_yaml`
//!   applies its own depth limit only after the whole document has been scanned.
//! - **Aliases (`*name`).** `serde_yaml` limits how often aliases are followed, but not how
//!   much each one expands: a 34 KB request of 1,000 aliases to a 10,000-item list took
//!   5 s and 1 GB of memory, and a few kilobytes more would exhaust any node's memory.
//!
//! And shapes that read but cannot be written back, so that a decoded value can always be
//! re-serialised (logged, stored in results) and read again:
//!
//! - **Tags** (`!name`): `serde_yaml` cannot write a tagged mapping key (it panics in
//!   `to_yaml`) and writes a tag holding `,` or `[` unescaped (the result does not parse).
//! - **Mapping keys that are collections** (`{a: 1}: x`): `serde_yaml` cannot write a
//!   mapping key that is a mapping.
//!
//! All were found by fuzzing (see `fuzz/`).
//!
//! - **More than a budget of items** (scalars, lists and mappings; a mapping entry is two,
//!   its key and its value). `serde_yaml` holds every event of a document in memory before
//!   building anything, and then the value: about 235 bytes per item in all, so 32 MiB of
//!   `[a,a,a,…` (16 million items) took 3.7 GB. The caller gives the budget:
//!   [`crate::MAX_REQUEST_ITEMS`] for requests, [`crate::MAX_REPLY_ITEMS`] for replies.
//!   Counting costs nothing: the guard already sees every event.

use std::mem::MaybeUninit;

use libyaml_rs as sys;

/// The deepest nesting of sequences and mappings a document may have: `serde_yaml`'s own
/// limit, so this guard refuses nothing that would otherwise parse.
pub const MAX_DEPTH: usize = 128;

/// Why the guard refused a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Sequences and mappings nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// It uses an alias.
    Alias,
    /// It uses a tag.
    Tag,
    /// A mapping key is a collection.
    ComplexKey,
    /// It holds more items than the budget (given here).
    TooManyItems(usize),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooDeep => write!(f, "it nests deeper than {MAX_DEPTH} levels"),
            Refusal::Alias => f.write_str(
                "it uses a YAML alias (`*name`), which lutf never writes and which could \
                 expand a few bytes into gigabytes",
            ),
            Refusal::Tag => f.write_str(
                "it uses a YAML tag (`!name`), which lutf never writes and cannot always \
                 write back",
            ),
            Refusal::ComplexKey => f.write_str(
                "a mapping key is a list or a mapping, which lutf never writes and cannot \
                 always write back",
            ),
            Refusal::TooManyItems(budget) => write!(
                f,
                "it holds more than {budget} YAML items (scalars, lists and mappings; a \
                 mapping entry counts two), which would take too much memory to parse",
            ),
        }
    }
}

/// Checks `text` for what [`Refusal`] lists, with at most `max_items` items, reading only
/// as far as the first refusal. Syntax errors are not reported here (the real parse reports
/// them with their position): a document that stops being YAML before anything is refused
/// passes.
pub fn check(text: &str, max_items: usize) -> Result<(), Refusal> {
    // libyaml keeps pointers into the parser struct: give it a fixed place on the heap.
    let mut parser: Box<MaybeUninit<sys::yaml_parser_t>> = Box::new(MaybeUninit::uninit());
    let parser = parser.as_mut_ptr();
    // SAFETY: `parser` points to memory that lives until the end of this function, is
    // initialised by yaml_parser_initialize before any other use and deleted once; the
    // input outlives the parser; every event is deleted after it was looked at.
    unsafe {
        if sys::yaml_parser_initialize(parser).fail {
            // Out of memory: let the real parse report whatever it will.
            return Ok(());
        }
        sys::yaml_parser_set_encoding(parser, sys::YAML_UTF8_ENCODING);
        sys::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        // One entry per open collection: for a mapping, whether its next node is a key.
        let mut open: Vec<Option<bool>> = Vec::new();
        let mut items = 0usize;
        let mut verdict = Ok(());
        loop {
            let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
            if sys::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                break;
            }
            let event = event.as_mut_ptr();
            let kind = (*event).type_;
            let tag = match kind {
                sys::YAML_SCALAR_EVENT => (*event).data.scalar.tag,
                sys::YAML_SEQUENCE_START_EVENT => (*event).data.sequence_start.tag,
                sys::YAML_MAPPING_START_EVENT => (*event).data.mapping_start.tag,
                _ => std::ptr::null_mut(),
            };
            let tagged = !tag.is_null();
            sys::yaml_event_delete(event);
            if tagged {
                verdict = Err(Refusal::Tag);
                break;
            }
            let starts_node = matches!(
                kind,
                sys::YAML_SCALAR_EVENT
                    | sys::YAML_ALIAS_EVENT
                    | sys::YAML_SEQUENCE_START_EVENT
                    | sys::YAML_MAPPING_START_EVENT
            );
            if starts_node {
                items += 1;
                if items > max_items {
                    verdict = Err(Refusal::TooManyItems(max_items));
                    break;
                }
                if let Some(Some(expect_key)) = open.last_mut() {
                    let is_key = *expect_key;
                    *expect_key = !is_key;
                    if is_key && kind != sys::YAML_SCALAR_EVENT && kind != sys::YAML_ALIAS_EVENT {
                        verdict = Err(Refusal::ComplexKey);
                        break;
                    }
                }
            }
            match kind {
                sys::YAML_SEQUENCE_START_EVENT | sys::YAML_MAPPING_START_EVENT => {
                    if open.len() == MAX_DEPTH {
                        verdict = Err(Refusal::TooDeep);
                        break;
                    }
                    open.push((kind == sys::YAML_MAPPING_START_EVENT).then_some(true));
                }
                sys::YAML_SEQUENCE_END_EVENT | sys::YAML_MAPPING_END_EVENT => {
                    open.pop();
                }
                sys::YAML_ALIAS_EVENT => {
                    verdict = Err(Refusal::Alias);
                    break;
                }
                sys::YAML_STREAM_END_EVENT => break,
                _ => {}
            }
        }
        sys::yaml_parser_delete(parser);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape checks alone, with no item budget.
    fn check(text: &str) -> Result<(), Refusal> {
        super::check(text, usize::MAX)
    }

    #[test]
    fn counts_items_up_to_the_budget() {
        // A list and its 3 scalars; a mapping, 2 keys and 2 values; a list holding a
        // mapping (key, value) and a list (1 scalar).
        for (text, items) in [
            ("[a, b, c]", 4),
            ("{a: 1, b: [x]}", 6),
            ("- {k: v}\n- [1]\n", 6),
            ("version: 1\nop: hello\n", 5),
            ("just text", 1),
            // Empty values still count: `{a, b}` is `{a: null, b: null}`.
            ("{a, b}", 5),
        ] {
            assert_eq!(super::check(text, items), Ok(()), "{text:?}");
            assert_eq!(
                super::check(text, items - 1),
                Err(Refusal::TooManyItems(items - 1)),
                "{text:?}"
            );
        }
        // Scalars in quotes and block text are one item however long.
        let long = format!(
            "a: '{}'\nb: |\n  {}\n",
            "x, ".repeat(10_000),
            "- y\n  ".repeat(1000)
        );
        assert_eq!(super::check(&long, 5), Ok(()));
    }

    #[test]
    fn stops_early_on_many_items() {
        // 16 MiB of `a,` is 8 million items: refused at the first item over the budget.
        // (Did-not-hang bound; parsing it took 3.7 GB and half a minute before the budget.)
        let many = format!("[{}a]", "a,".repeat(8 << 20));
        let start = std::time::Instant::now();
        assert_eq!(super::check(&many, 1000), Err(Refusal::TooManyItems(1000)));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn counts_real_nesting_only() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(check(&nested(MAX_DEPTH)), Ok(()));
        assert_eq!(check(&nested(MAX_DEPTH + 1)), Err(Refusal::TooDeep));
        // Block style nests too.
        let block: String = (0..=MAX_DEPTH)
            .map(|i| format!("{}- \n", "  ".repeat(i)))
            .collect();
        assert_eq!(check(&block), Err(Refusal::TooDeep));
        // Brackets inside strings are not nesting.
        let quoted = format!("a: '{}'\nb: |\n  {}\n", "[".repeat(1000), "{".repeat(1000));
        assert_eq!(check(&quoted), Ok(()));
        // Not YAML before it gets deep: for the real parser to report.
        assert_eq!(check("a: [\n- :"), Ok(()));
        // Depth after closing does not accumulate.
        let siblings = format!("[{}]", vec![nested(100); 50].join(", "));
        assert_eq!(check(&siblings), Ok(()));
    }

    #[test]
    fn aliases_are_refused_anchors_alone_are_not() {
        assert_eq!(check("a: &x [1, 2]\nb: *x\n"), Err(Refusal::Alias));
        assert_eq!(check("a: &x [1, 2]\n<<: *x\n"), Err(Refusal::Alias));
        assert_eq!(check("a: &x [1, 2]\n"), Ok(()));
        // `*` inside a string is just a character.
        assert_eq!(check("a: '*x'\nb: \"*y\"\nc: x*y\n"), Ok(()));
    }

    #[test]
    fn tags_and_collection_keys_are_refused() {
        for (refused, why) in [
            ("{a: 1}: x\n", Refusal::ComplexKey),
            ("? [a, b]\n: c\n", Refusal::ComplexKey),
            ("- a\n- {x: 1, {y: 2}: 3}\n", Refusal::ComplexKey),
            ("k: !foo [x]\n", Refusal::Tag),
            ("k: !!str x\n", Refusal::Tag),
            ("- !e%5B x\n", Refusal::Tag),
            ("k: !m {a: 1}\n", Refusal::Tag),
            // Found by fuzzing the reply decoding: a tagged key in `ok` made `to_yaml` panic.
            (
                "version: 1\nok:\n  !el~er_version:/1 s:\n  - hello\n  - facts\n",
                Refusal::Tag,
            ),
        ] {
            assert_eq!(check(refused), Err(why), "{refused:?}");
        }
        for fine in [
            "a: {b: [1, {c: d}]}\n",
            "{1: a, ~: b, true: c, 1.5: d, 'q': e, \"!x\": f}\n",
            "- [a, {b: c}]\n- {d: e}\n",
            "k: x!y\n",
        ] {
            assert_eq!(check(fine), Ok(()), "{fine:?}");
        }
    }

    #[test]
    fn stops_early_on_deep_input() {
        // Linear, not quadratic: 1 MiB of `[` is refused after reading its first levels.
        // (Did-not-hang bound: before this guard, 100,000 brackets took 58 s.)
        let start = std::time::Instant::now();
        assert_eq!(check(&"[".repeat(1 << 20)), Err(Refusal::TooDeep));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
}
