//! Builds `liblnetconfig-abi-double`, the stand-in for `liblnetconfig.so.4` that tests load
//! instead of the real library (see `tests/liblnetconfig-abi-double.c` for what it does).
//!
//! It is compiled with the C compiler (`$CC`, else `cc`) from the same declaration headers
//! the bindings come from, once per ABI, into `liblnetconfig-abi-double-<abi>.so`.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The C source of the stand-in.
pub const SOURCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/liblnetconfig-abi-double.c"
);

/// The folder of the declaration headers (`abi-2.15.h`, ...).
pub const HEADERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/headers");

/// The ABIs the stand-in can be built for, as their header names them.
pub const ABIS: [&str; 3] = ["2.15", "2.16", "2.17"];

/// Compiles the stand-in for `abi` ("2.15", "2.16" or "2.17") into `out_dir` and returns
/// the path of the shared library. The file is written under a temporary name and renamed,
/// so concurrent builds into the same folder never load a half-written file.
pub fn build(abi: &str, out_dir: &Path) -> io::Result<PathBuf> {
    if !ABIS.contains(&abi) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no header for ABI {abi:?}: expected one of {ABIS:?}"),
        ));
    }
    std::fs::create_dir_all(out_dir)?;
    let target = out_dir.join(format!("liblnetconfig-abi-double-{abi}.so"));
    // Unique per build, even for concurrent builds in one process.
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = out_dir.join(format!(
        ".liblnetconfig-abi-double-{abi}.{}.{n}.so",
        std::process::id()
    ));
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let output = Command::new(&cc)
        .args([
            "-shared", "-fPIC", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
        ])
        .arg("-fvisibility=hidden")
        .arg(format!("-I{HEADERS}"))
        .args(["-include", &format!("abi-{abi}.h")])
        .arg("-o")
        .arg(&partial)
        .arg(SOURCE)
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run the C compiler {cc:?} to build the ABI double: {e}"),
            )
        })?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "building the ABI double for {abi} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    std::fs::rename(&partial, &target)?;
    Ok(target)
}
