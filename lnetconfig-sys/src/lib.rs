//! Raw bindings to Lustre's `liblnetconfig.so.4`, the library behind `lnetctl`.
//!
//! Its headers are not installed by any Lustre package and its ABI changed between releases,
//! so this crate carries its own declaration headers (`headers/abi-*.h`, written from the
//! documented signatures) for the subset lutf binds, one per supported ABI, and bindings
//! generated from them by bindgen. The bindings are committed (`src/generated/`): a plain
//! `cargo build` needs no libclang. The `bindgen` feature regenerates them;
//! `scripts/check-bindings` proves the committed ones match.
//!
//! Nothing is linked: each ABI module has a loader type (`LnetconfigAbi215`, ...) that opens
//! the library at run time with `dlopen` and resolves every symbol separately, so a program
//! using this crate runs on machines without Lustre and can report a missing library or a
//! missing symbol itself. The safe layer is the `lutf-lnet` crate.
//!
//! The loaders are behind the `loader` feature (on by default); without it only `common`
//! (types and constants) is built, so that a program that must never `dlopen` (the static
//! helper) can still share the types.

/// The file name the library is installed under on every supported Lustre version.
pub const LIBRARY_SONAME: &str = "liblnetconfig.so.4";

/// The dynamic loading crate the loaders are built on (re-exported for its error type).
#[cfg(feature = "loader")]
pub use libloading;

/// Includes one generated file, committed or (with the `bindgen` feature) freshly generated.
macro_rules! generated {
    ($(#[$attr:meta])* $name:ident, $file:literal) => {
        $(#[$attr])*
        #[allow(
            non_camel_case_types,
            non_snake_case,
            non_upper_case_globals,
            dead_code,
            unused_imports,
            unsafe_op_in_unsafe_fn,
            clippy::all,
            clippy::pedantic,
            clippy::missing_safety_doc
        )]
        pub mod $name {
            #[cfg(not(feature = "bindgen"))]
            include!(concat!("generated/", $file));
            #[cfg(feature = "bindgen")]
            include!(concat!(env!("OUT_DIR"), "/", $file));
        }
    };
}

generated!(
    /// Types shared by every ABI: lists, CPT expressions, the cYAML tree, the network
    /// descriptor, the common tunables.
    common,
    "common.rs"
);
generated!(
    /// Lustre 2.15: `config_ni` takes `cpp`, `config_route` takes `sen`,
    /// `enable_routing`, `lustre_yaml_*` take a file path, IFNAMSIZ interface names.
    #[cfg(feature = "loader")]
    abi_2_15,
    "abi_2_15.rs"
);
generated!(
    /// Lustre 2.16: `lustre_yaml_*` take a buffer, errno return codes, 128-byte
    /// interface names, larger LND tunables; still `sen` and `enable_routing`.
    #[cfg(feature = "loader")]
    abi_2_16,
    "abi_2_16.rs"
);
generated!(
    /// Lustre 2.17 and later: no `sen` in `config_route`, `config_routing`.
    #[cfg(feature = "loader")]
    abi_2_17,
    "abi_2_17.rs"
);

/// Test support: builds the stand-in library the tests load instead of the real one.
pub mod abi_double;

/// The generated text of each binding file, for the check that the committed files match.
#[cfg(feature = "bindgen")]
pub mod regenerated {
    /// `(file name, freshly generated text)` for every generated file.
    pub const FILES: [(&str, &str); 4] = [
        (
            "common.rs",
            include_str!(concat!(env!("OUT_DIR"), "/common.rs")),
        ),
        (
            "abi_2_15.rs",
            include_str!(concat!(env!("OUT_DIR"), "/abi_2_15.rs")),
        ),
        (
            "abi_2_16.rs",
            include_str!(concat!(env!("OUT_DIR"), "/abi_2_16.rs")),
        ),
        (
            "abi_2_17.rs",
            include_str!(concat!(env!("OUT_DIR"), "/abi_2_17.rs")),
        ),
    ];
}
