//! The release `lutf-helper` that `lutf` embeds and pushes to nodes: static, runs with an
//! empty environment, makes no NSS look-ups, and stays small.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The helper `build.rs` built (release, crt-static) and embedded in `lutf`.
const HELPER: &str = env!("LUTF_HELPER_PATH");

/// The size limit for the stripped helper.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Symbols whose presence means NSS (name service switch) code is linked in: user and
/// host look-ups that a static glibc binary cannot do reliably on another machine.
const NSS_NAMES: &[&str] = &[
    "getpwnam",
    "getpwuid",
    "getgrnam",
    "getgrgid",
    "getaddrinfo",
    "gethostbyname",
    "nsswitch.conf",
    "_nss_",
];

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The NSS names found in `bytes`.
fn nss_names_in(bytes: &[u8]) -> Vec<&'static str> {
    NSS_NAMES
        .iter()
        .copied()
        .filter(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .collect()
}

fn call(workdir: &Path, request: &str) -> (i32, String) {
    let mut child = Command::new(HELPER)
        .env_clear()
        .arg("--workdir")
        .arg(workdir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn release_helper_is_static() {
    if !have("file") {
        eprintln!("skipped: `file` is not installed (scripts/install-deps test installs it)");
        return;
    }
    let out = Command::new("file").arg("-L").arg(HELPER).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("statically linked") || text.contains("static-pie linked"),
        "{text}"
    );
}

#[test]
fn release_helper_is_small() {
    let size = std::fs::metadata(HELPER).unwrap().len();
    println!(
        "lutf-helper: {size} bytes ({:.2} MiB)",
        size as f64 / 1048576.0
    );
    assert!(size <= MAX_BYTES, "{size} bytes is more than 4 MiB");
    if have("file") {
        let out = Command::new("file").arg("-L").arg(HELPER).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("stripped") && !text.contains("not stripped"),
            "{text}"
        );
    }
}

#[test]
fn release_helper_makes_no_nss_lookups() {
    let bytes = std::fs::read(HELPER).unwrap();
    assert_eq!(nss_names_in(&bytes), Vec::<&str>::new());
    // Symbols too, when the binary has any (the release profile strips them).
    if have("nm") {
        let out = Command::new("nm").arg(HELPER).output().unwrap();
        let symbols = String::from_utf8_lossy(&out.stdout);
        if symbols.trim().is_empty() {
            eprintln!("note: {HELPER} is stripped: symbol check skipped, byte scan done");
        }
        for name in NSS_NAMES {
            assert!(!symbols.contains(name), "symbol {name} in the helper");
        }
    }
}

#[test]
fn the_nss_scan_does_find_nss_in_a_static_binary() {
    // Proves the scan above can fail: a static C program calling getpwuid, stripped.
    if !have("cc") || !have("strip") {
        eprintln!("skipped: needs cc and strip to build the sample");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("nss.c");
    std::fs::write(
        &src,
        "#include <pwd.h>\n#include <stdio.h>\nint main(void){struct passwd*p=getpwuid(0);\
         puts(p?p->pw_name:\"?\");return 0;}\n",
    )
    .unwrap();
    let bin = dir.path().join("nss");
    let built = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .unwrap();
    if !built.status.success() {
        eprintln!(
            "skipped: no static libc to link the sample: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        return;
    }
    assert!(Command::new("strip").arg(&bin).status().unwrap().success());
    assert!(!nss_names_in(&std::fs::read(&bin).unwrap()).is_empty());
}

#[test]
fn release_helper_runs_with_an_empty_environment() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    let (code, out) = call(&w, "version: 1\nop: hello\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("operations:"), "{out}");

    let (code, out) = call(&w, "version: 1\nop: facts\n");
    assert_eq!(code, 0, "{out}");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(
        out.contains(&format!("hostname: {}", hostname.trim())),
        "{out}"
    );

    // No PATH at all: the command is still found, in the standard places.
    let (code, out) = call(
        &w,
        "version: 1\nop: exec\nargs: {argv: [uname, -s], timeout: 10}\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Linux"), "{out}");
}

/// The companion `build.rs` built (release, dynamically linked) and embedded in `lutf`.
const COMPANION: &str = env!("LUTF_LNETCONFIG_PATH");

/// A sentence only the safe layer's library loader holds (lutf-lnet's `lnetconfig` module).
const LOADER_MARK: &[u8] = b"neither it nor its dependencies provide calloc and free";

#[test]
fn the_static_helper_leaves_library_loading_to_its_companion() {
    let helper = std::fs::read(HELPER).unwrap();
    let companion = std::fs::read(COMPANION).unwrap();
    let has = |bytes: &[u8]| bytes.windows(LOADER_MARK.len()).any(|w| w == LOADER_MARK);
    assert!(
        has(&companion),
        "the mark is in the companion: the scan can fail"
    );
    assert!(
        !has(&helper),
        "the static helper has liblnetconfig loading code"
    );
}

#[test]
fn the_companion_is_dynamically_linked_and_in_every_bundle() {
    if have("file") {
        let out = Command::new("file")
            .arg("-L")
            .arg(COMPANION)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("dynamically linked"), "{text}");
    } else {
        eprintln!("skipped the `file` check: `file` is not installed");
    }
    let bundle = lutf::bundle::Bundle::new(&[]).unwrap();
    let file = bundle
        .files()
        .iter()
        .find(|f| f.path == lutf::bundle::LNETCONFIG_NAME)
        .expect("lutf-lnetconfig in the bundle");
    assert_eq!(file.mode, 0o755);
    assert_eq!(&*file.data, std::fs::read(COMPANION).unwrap().as_slice());
    println!(
        "lutf-lnetconfig: {} bytes ({:.2} MiB)",
        file.data.len(),
        file.data.len() as f64 / 1048576.0
    );
}
