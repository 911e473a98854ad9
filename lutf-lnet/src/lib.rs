//! LNet for lutf: the parts that do not depend on the rest of lutf.
//!
//! - [`lnetconfig`]: a safe layer over Lustre's `liblnetconfig.so.4` (through the
//!   `lnetconfig-sys` bindings): the node's Lustre version picks the ABI, arguments are
//!   typed ([`args`]), results come back as YAML values and failures as typed errors
//!   ([`error`]) carrying errno and description.
//! - [`lnetctl`] and [`lst`]: parsers of what `lnetctl` and `lst` print.
//!
//! Only [`lnetconfig`] loads anything; it is behind the default `lnetconfig` feature, so
//! that the static helper and the protocol can use the rest without any dynamic loading.
//!
//! `lnetconfig-sys` holds only the bindings; everything that interprets them or the tools'
//! output lives here, so that the helper (which calls the library) and the master (which
//! only reads results) share one set of types.

pub mod args;
pub mod cyaml;
pub mod error;
#[cfg(feature = "lnetconfig")]
pub mod lnetconfig;
pub mod lnetctl;
pub mod lst;
pub mod node;
pub mod version;

pub use args::{
    ArgError, CptRange, CptSet, Global, Lnd, LndTunables, NetId, NiConfig, Nid, PeerConfig,
    RouteConfig, RouteFilter, Tunables, UdspRule,
};
pub use error::{Error, LnetError};
#[cfg(feature = "lnetconfig")]
pub use lnetconfig::{Lnetconfig, Options};
pub use node::{Detected, NodeProbe, VersionSource};
pub use version::{Abi, LustreVersion};
