//! Builds the static `lutf-helper` and its dynamically linked companion `lutf-lnetconfig`
//! and embeds them, with the Python package the helper ships, in the `lutf` binary, so that
//! one `lutf` file is all an operator needs to copy around.
//!
//! The helper is built by a nested `cargo build --target <host> ` with `crt-static`: the
//! explicit `--target` keeps the static flag off proc-macros and build scripts, and a
//! separate target folder keeps the nested build from waiting on the outer build's lock.
//! The companion is built the same way without `crt-static` (it must load the node's
//! liblnetconfig), into a target folder of its own since its flags differ; its glibc floor
//! is this machine's (`scripts/build-portable` builds one for glibc 2.17).
//! `LUTF_HELPER_BIN=/path/to/lutf-helper` and `LUTF_LNETCONFIG_BIN=/path/to/lutf-lnetconfig`
//! skip a nested build and embed that file.
//!
//! The sha256 of every embedded file is computed here too (`embedded_digests.rs`), so that
//! a run never hashes the 3.75 MB it embeds: a bundle's hash is made of its files' digests
//! (see `src/bundle.rs`).

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    for watched in [
        "helper/src",
        "helper/Cargo.toml",
        "helper/python",
        "protocol",
        "lutf-lnetconfig",
        "lutf-lnet/src",
        "lutf-lnet/Cargo.toml",
        "lnetconfig-sys/src",
        "lnetconfig-sys/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=LUTF_HELPER_BIN");
    println!("cargo:rerun-if-env-changed=LUTF_LNETCONFIG_BIN");

    let helper = match env::var_os("LUTF_HELPER_BIN") {
        Some(path) => {
            // A file built elsewhere: its digest must follow it.
            println!("cargo:rerun-if-changed={}", Path::new(&path).display());
            PathBuf::from(path)
        }
        None => nested_build(&root, "lutf-helper", "helper", true),
    };
    println!("cargo:rustc-env=LUTF_HELPER_PATH={}", helper.display());
    let companion = match env::var_os("LUTF_LNETCONFIG_BIN") {
        Some(path) => {
            // A file built elsewhere (scripts/build-portable): embed it again when it changes.
            println!("cargo:rerun-if-changed={}", Path::new(&path).display());
            PathBuf::from(path)
        }
        None => nested_build(&root, "lutf-lnetconfig", "lnetconfig", false),
    };
    println!(
        "cargo:rustc-env=LUTF_LNETCONFIG_PATH={}",
        companion.display()
    );

    embed_python(&root.join("helper/python"));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    std::fs::write(
        out.join("embedded_digests.rs"),
        format!(
            "/// sha256 of the embedded helper.\npub const HELPER_DIGEST: [u8; 32] = {:?};\n\
             /// sha256 of the embedded companion.\npub const LNETCONFIG_DIGEST: [u8; 32] = {:?};\n",
            digest_of(&helper),
            digest_of(&companion)
        ),
    )
    .unwrap();
}

/// The sha256 of the file at `path`.
fn digest_of(path: &Path) -> [u8; 32] {
    use sha2::Digest as _;
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    sha2::Sha256::digest(&data).into()
}

/// Builds `package` (a binary of the same name) for release, into `target/<folder>`,
/// statically linked or not; returns the binary's path.
fn nested_build(root: &Path, package: &str, folder: &str, static_crt: bool) -> PathBuf {
    let target = env::var("TARGET").unwrap();
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join(folder);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "-p", package, "--target", &target])
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    // The outer build's wrappers (clippy, sccache) and flags are not the nested build's.
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CLIPPY_ARGS",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
        "CARGO_ENCODED_RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    if static_crt {
        cmd.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static");
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("run cargo to build {package}: {e}"));
    assert!(status.success(), "building {package} failed");
    target_dir.join(target).join("release").join(package)
}

/// Writes `python_files.rs`: every file of the Python package, embedded, with its sha256.
fn embed_python(dir: &Path) {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            !p.components().any(|c| c.as_os_str() == "__pycache__")
                && p.extension().is_some_and(|x| x == "py")
        })
        .collect();
    files.sort();
    let mut out =
        String::from("/// The Python package shipped with the helper: (path, contents, sha256).\n");
    out.push_str("pub static PYTHON_FILES: &[(&str, &[u8], [u8; 32])] = &[\n");
    for f in &files {
        let rel = f
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?}), {:?}),",
            f.display().to_string(),
            digest_of(f)
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("python_files.rs");
    std::fs::write(dest, out).unwrap();
}
