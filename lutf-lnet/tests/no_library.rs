//! The errors a node without (a usable) Lustre gets, with no liblnetconfig at all: the
//! library missing, LNet not loaded, the Lustre version unknown. `/sys` is faked under a
//! temporary root; `lnetctl`, `rpm` and `dpkg-query` are small scripts on a PATH of our own.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use lutf_lnet::{Abi, Error, Lnetconfig, NodeProbe, Options, VersionSource};

fn probe(root: &Path, path: &str) -> NodeProbe {
    NodeProbe {
        node: "node1".into(),
        root: root.to_path_buf(),
        path: Some(path.into()),
    }
}

/// A script named `name` in `dir` printing `output` and exiting with `code`.
fn script(dir: &Path, name: &str, output: &str, code: i32) {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("#!/bin/sh\nprintf '%s\\n' '{output}'\nexit {code}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_missing_library_says_lustre_is_not_installed() {
    let root = tempfile::tempdir().unwrap();
    // The default name, looked up as the dynamic loader does.
    let err = Lnetconfig::open(Options {
        probe: probe(root.path(), ""),
        library: None,
        abi: Some(Abi::V2_17Plus),
    });
    match err {
        Err(e @ Error::LibraryMissing { .. }) => {
            let text = e.to_string();
            assert!(
                text.starts_with("liblnetconfig.so.4 not found: is Lustre installed on node1?"),
                "{text}"
            );
        }
        Ok(_) => {
            eprintln!("SKIP: liblnetconfig.so.4 is installed on this machine");
        }
        Err(other) => panic!("{other}"),
    }
    // A path that does not exist.
    let missing = root.path().join("lib/liblnetconfig.so.4");
    let err = Lnetconfig::open(Options {
        probe: probe(root.path(), ""),
        library: Some(missing.clone()),
        abi: Some(Abi::V2_15),
    })
    .unwrap_err();
    assert!(matches!(err, Error::LibraryMissing { .. }), "{err}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_library_whose_dependency_is_missing_is_not_called_missing() {
    // A library linked against one that is then removed: the loader names the dependency.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("x.c");
    std::fs::write(
        &src,
        "int dep(void); int lustre_lnet_config_lib_init(void) { return dep(); }\n",
    )
    .unwrap();
    let dep_src = dir.path().join("dep.c");
    std::fs::write(&dep_src, "int dep(void) { return 0; }\n").unwrap();
    let cc = |args: &[&str]| {
        let st = std::process::Command::new("cc")
            .args(args)
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(st.success(), "cc {args:?}");
    };
    cc(&["-shared", "-fPIC", "-o", "libyaml-gone.so", "dep.c"]);
    cc(&[
        "-shared",
        "-fPIC",
        "-o",
        "liblnetconfig.so.4",
        "x.c",
        "-L.",
        "-lyaml-gone",
    ]);
    std::fs::remove_file(dir.path().join("libyaml-gone.so")).unwrap();
    let err = Lnetconfig::open(Options {
        probe: probe(dir.path(), ""),
        library: Some(dir.path().join("liblnetconfig.so.4")),
        abi: Some(Abi::V2_16),
    })
    .unwrap_err();
    assert!(matches!(err, Error::LibraryUnloadable { .. }), "{err}");
    assert!(err.to_string().contains("libyaml-gone.so"), "{err}");
}

#[test]
fn lnet_not_loaded_is_said_plainly() {
    let root = tempfile::tempdir().unwrap();
    let p = probe(root.path(), "");
    let err = p.check_lnet_loaded().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "LNet is not loaded on node1: {}/sys/module/lnet does not exist (load it with `modprobe lnet`)",
            root.path().display()
        )
    );
    std::fs::create_dir_all(root.path().join("sys/module/lnet")).unwrap();
    let err = p.check_lnet_loaded().unwrap_err();
    assert!(
        err.to_string().contains("/dev/lnet does not exist"),
        "{err}"
    );
    std::fs::create_dir_all(root.path().join("dev")).unwrap();
    std::fs::write(root.path().join("dev/lnet"), "").unwrap();
    p.check_lnet_loaded().unwrap();
}

#[test]
fn an_unknown_version_is_named_with_where_it_was_found() {
    let root = tempfile::tempdir().unwrap();
    let module = root.path().join("sys/module/lnet");
    std::fs::create_dir_all(&module).unwrap();
    for (content, says) in [
        ("2.12.9\n", "2.12.9"),
        ("3.0.1", "3.0.1"),
        ("garbage", "garbage"),
    ] {
        std::fs::write(module.join("version"), content).unwrap();
        let err = probe(root.path(), "").detect_abi().unwrap_err();
        assert!(matches!(err, Error::UnknownVersion { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with("unknown Lustre version on node1"),
            "{text}"
        );
        assert!(
            text.contains(says) && text.contains("sys/module/lnet/version"),
            "{text}"
        );
        assert!(text.contains("2.15, 2.16, 2.17"), "{text}");
        // Opening a library that is there without an override stops at the version, before
        // calling anything (libc stands in for a library that loads).
        let err = Lnetconfig::open(Options {
            probe: probe(root.path(), ""),
            library: Some("libc.so.6".into()),
            abi: None,
        })
        .unwrap_err();
        assert!(matches!(err, Error::UnknownVersion { .. }), "{err}");
        // A missing library is said first: it is the more fundamental answer.
        let err = Lnetconfig::open(Options {
            probe: probe(root.path(), ""),
            library: Some(root.path().join("nothing.so")),
            abi: None,
        })
        .unwrap_err();
        assert!(matches!(err, Error::LibraryMissing { .. }), "{err}");
    }
}

#[test]
fn no_version_anywhere_lists_what_was_tried() {
    let root = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    // A PATH with none of the commands.
    let err = probe(root.path(), bin.path().to_str().unwrap())
        .detect_abi()
        .unwrap_err();
    assert!(matches!(err, Error::NoVersion { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("sys/module/lnet/version") && text.contains("lnetctl: not found"),
        "{text}"
    );
    assert!(text.contains("lustre-client"), "{text}");
    // Commands disabled entirely.
    let err = probe(root.path(), "").detect_abi().unwrap_err();
    assert!(err.to_string().contains("commands disabled"), "{err}");
}

#[test]
fn the_version_is_read_from_lnetctl_then_packages() {
    let root = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let path = bin.path().to_str().unwrap();

    script(bin.path(), "rpm", "2.15.4", 0);
    let d = probe(root.path(), path).detect_abi().unwrap();
    assert_eq!(
        (d.abi, d.source.clone()),
        (Abi::V2_15, VersionSource::Package("lustre-client".into()))
    );

    // rpm says "not installed" (exit 1): dpkg-query is asked.
    script(
        bin.path(),
        "rpm",
        "package lustre-client is not installed",
        1,
    );
    script(bin.path(), "dpkg-query", "2.16.1-1", 0);
    let d = probe(root.path(), path).detect_abi().unwrap();
    assert_eq!((d.abi, d.version.raw.as_str()), (Abi::V2_16, "2.16.1-1"));

    // lnetctl comes before the packages.
    script(bin.path(), "lnetctl", "lnetctl 2.17.57", 0);
    let d = probe(root.path(), path).detect_abi().unwrap();
    assert_eq!(
        (d.abi, d.source.clone()),
        (Abi::V2_17Plus, VersionSource::Lnetctl)
    );

    // And the loaded module before lnetctl.
    std::fs::create_dir_all(root.path().join("sys/module/lnet")).unwrap();
    std::fs::write(root.path().join("sys/module/lnet/version"), "2.15.7\n").unwrap();
    let d = probe(root.path(), path).detect_abi().unwrap();
    assert_eq!(d.abi, Abi::V2_15);
    assert!(matches!(d.source, VersionSource::Sysfs(_)));

    // An lnetctl that prints no version is reported, and the packages still asked.
    std::fs::remove_file(root.path().join("sys/module/lnet/version")).unwrap();
    script(bin.path(), "lnetctl", "usage: lnetctl", 0);
    let d = probe(root.path(), path).detect_abi().unwrap();
    assert_eq!(
        d.source,
        VersionSource::Package("lustre-client-utils".into())
    );
}
