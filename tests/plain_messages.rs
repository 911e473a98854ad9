//! What a user sees by default is plain sentences through the reporter: the master logs
//! nothing at the levels shown without `-v` (warn and error), since such a line would come
//! out as a raw tracing line (`2026-12-03T17:52:56Z  WARN ... node=local job=...`).

use std::path::Path;

#[test]
fn the_master_has_no_default_visible_tracing_line() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        if entry.path().extension() != Some(std::ffi::OsStr::new("rs")) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if ["warn!(", "error!("].iter().any(|m| code.contains(m)) {
                found.push(format!(
                    "{}:{}: {}",
                    entry.path().display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "say these through lutf::reporter (plain sentences), or log them at info/debug:\n{}",
        found.join("\n")
    );
}
