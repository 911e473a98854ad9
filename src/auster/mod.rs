//! lutf under Lustre's auster: everything auster's side of a run needs, in one place.
//!
//! auster runs a suite as `bash $LUSTRE/tests/<name>.sh` with no arguments and passes
//! everything through the environment. lutf installs one such script per lutf suite
//! (`lutf-<suite>.sh`) and one for every suite (`lutf.sh`), so that each lutf suite is its
//! own auster suite and its own Tests entry in auster's `results.yml`.
//!
//! | file | what it holds |
//! |---|---|
//! | [`hook`] | the hook scripts, from `templates/lutf.sh.tera`, installed into `$LUSTRE/tests` |
//! | [`env`] | auster's environment as the hook exports it, read |
//! | [`filter`] | what `ONLY`, `EXCEPT`, `START_AT`, `STOP_AT`, `PATTERN` select |
//! | [`hosts`] | the cfg's host variables as lutf's nodes and roles |
//! | [`run`] | `lutf auster`, what a hook runs: the environment mapped to a run, run, recorded |
//! | [`record`] | what a run writes into auster's files as each test ends (`$YAML_LOG`, logs) |
//! | [`yaml`] | `results.yml` in auster's layout, as `yaml.sh` writes it (also `lutf run`'s) |

pub mod env;
pub mod filter;
pub mod hook;
pub mod hosts;
pub mod record;
pub mod run;
pub mod yaml;
