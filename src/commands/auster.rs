//! `lutf auster`: what a hook script runs; the work is [`crate::auster::run`].

use crate::cli::{AusterArgs, Global};

/// Runs `lutf auster`.
pub async fn run(global: &Global, args: &AusterArgs) -> anyhow::Result<i32> {
    crate::auster::run::run(global, args).await
}
