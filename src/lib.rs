//! lutf, the LNet Unit Test Framework: the master side.
//!
//! Data flows one way: the command line and the cluster description are parsed
//! ([`cli`], [`cluster`]), suites are found ([`discovery`]), each test's plan is asked of a
//! node and bound to nodes ([`plan`]), the steps are run ([`runner`]) through a
//! [`transport`] to `lutf-helper` on each node (pushed there by [`bundle`]), and the
//! outcomes are written ([`results`], naming test files as [`sources`] says), while
//! [`reporter`] shows the run as it goes. The
//! request and reply types are in `lutf_protocol`.
//! Under Lustre's auster, [`auster`] holds the hook scripts auster runs and what lutf
//! reads from and writes into auster's files.

// Output goes through `reporter::{print, eprint}`, which survive a closed pipe.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod auster;
pub mod bundle;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod discovery;
pub mod hostlist;
pub mod leftovers;
pub mod node;
pub mod outcome;
pub mod plan;
pub mod reporter;
pub mod results;
pub mod runner;
pub mod secrets;
pub mod sources;
pub mod transport;

pub use lutf_protocol as protocol;
