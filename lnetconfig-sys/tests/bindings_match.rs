//! Proves the committed bindings (`src/generated/`) are exactly what bindgen makes of the
//! headers today. Needs the `bindgen` feature (and libclang): `scripts/check-bindings`.
#![cfg(feature = "bindgen")]

use std::path::Path;

#[test]
fn committed_bindings_match_the_headers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/generated");
    let mut stale = Vec::new();
    for (file, fresh) in lnetconfig_sys::regenerated::FILES {
        let committed = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        if committed != fresh {
            let line = committed
                .lines()
                .zip(fresh.lines())
                .position(|(a, b)| a != b)
                .map_or_else(
                    || committed.lines().count().min(fresh.lines().count()) + 1,
                    |i| i + 1,
                );
            stale.push(format!("{file} (first difference at line {line})"));
        }
    }
    assert!(
        stale.is_empty(),
        "the committed bindings differ from the headers: {}; run scripts/check-bindings --update and commit",
        stale.join(", ")
    );
}
