//! What `lutf auster` writes into auster's files, one test at a time, so that a run cut
//! short leaves every finished test on record:
//!
//! - the test's SubTests item, appended to `$YAML_LOG` ([`append_subtests`]);
//! - its logs in `$LOGDIR`, `<auster suite>.test_<id>.test_log.<host>.log`
//!   ([`write_test_logs`]), written before the item that names the test;
//! - `$TF_SKIP` removed once a test ended with a status other than SKIP (auster marks the
//!   whole suite SKIP while it exists).
//!
//! Under auster, `$YAML_LOG` holds auster's header and this suite's Tests entry already,
//! and auster appends the suite's `duration` and `status` after the hook exits. Run by
//! hand (`bash lutf-dlc.sh` with no `$YAML_LOG`, or one that does not exist yet), lutf plays
//! that part too: it writes the header and the entry first ([`AusterLog::open`]) and the
//! duration and status last ([`AusterLog::finish`]), so the file is a whole results.yml.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::yaml::{append_subtests, scalar, submission, PROJECT};
use crate::outcome::{RunOutcome, Status, SuiteOutcome, TestOutcome};
use crate::results::logs::write_test_logs;
use crate::results::nodes::{host_labels, short_host};
use crate::results::{whole_seconds, ResultsError, RESULTS_YML};

/// auster's files for one run of the hook.
#[derive(Debug)]
pub struct AusterLog {
    yaml_log: PathBuf,
    logdir: PathBuf,
    tf_skip: Option<PathBuf>,
    testsuite: String,
    /// lutf wrote the header and the Tests entry, and writes the entry's end.
    standalone: bool,
    /// A test ended with a status other than SKIP.
    ran: bool,
}

impl AusterLog {
    /// Finds (or makes) auster's files. `logdir` is `$LOGDIR`, else the folder of
    /// `$YAML_LOG`, else `$TMP/test_logs/<seconds since 1970>` as test-framework makes it;
    /// `yaml_log` is `$YAML_LOG`, else `<logdir>/results.yml`. When that file does not exist,
    /// it is started here with auster's header and a Tests entry for `testsuite`
    /// (standalone: nobody else will write them).
    pub fn open(
        yaml_log: Option<&Path>,
        logdir: Option<&Path>,
        tf_skip: Option<&Path>,
        testsuite: &str,
        run: &RunOutcome,
    ) -> Result<AusterLog, ResultsError> {
        let logdir = match (logdir, yaml_log.and_then(Path::parent)) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(p)) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => {
                let tmp =
                    std::env::var_os("TMP").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                tmp.join("test_logs").join(secs.to_string())
            }
        };
        std::fs::create_dir_all(&logdir).map_err(|e| ResultsError::io(&logdir, e))?;
        let yaml_log = yaml_log.map_or_else(|| logdir.join(RESULTS_YML), Path::to_path_buf);
        let standalone = !yaml_log.exists();
        if standalone {
            let mut f = std::fs::OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&yaml_log)
                .map_err(|e| ResultsError::io(&yaml_log, e))?;
            f.write_all(entry_head(run, testsuite).as_bytes())
                .map_err(|e| ResultsError::io(&yaml_log, e))?;
        }
        Ok(AusterLog {
            yaml_log,
            logdir,
            tf_skip: tf_skip.map(Path::to_path_buf),
            testsuite: testsuite.to_string(),
            standalone,
            ran: false,
        })
    }

    /// The results.yml written to.
    pub fn yaml_log(&self) -> &Path {
        &self.yaml_log
    }

    /// The folder logs go to.
    pub fn logdir(&self) -> &Path {
        &self.logdir
    }

    /// Whether lutf started the results.yml itself.
    pub fn standalone(&self) -> bool {
        self.standalone
    }

    /// Records one finished test, named as it is in the auster suite (its `suite` is the
    /// auster suite's name, its `id` the SubTest's id): its logs (unless `logs` is false:
    /// test-framework writes none for a test it excludes), then its SubTests item, then
    /// `$TF_SKIP` removed if it did not skip. `run` gives the nodes and the master's host,
    /// for the log names.
    pub fn record(
        &mut self,
        run: &RunOutcome,
        test: &TestOutcome,
        logs: bool,
    ) -> Result<(), ResultsError> {
        if logs {
            self.write_logs(run, test)?;
        }
        append_subtests(&self.yaml_log, [test])?;
        if test.status != Status::Skip {
            self.ran = true;
            if let Some(skip) = &self.tf_skip {
                match std::fs::remove_file(skip) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(ResultsError::io(skip, e)),
                }
            }
        }
        Ok(())
    }

    fn write_logs(&self, run: &RunOutcome, test: &TestOutcome) -> Result<(), ResultsError> {
        // The run as the log writer sees it: this test alone, in the auster suite.
        let view = RunOutcome {
            id: run.id.clone(),
            started: run.started.clone(),
            finished: run.finished.clone(),
            duration: run.duration,
            testhost: run.testhost.clone(),
            user: run.user.clone(),
            cluster: run.cluster.clone(),
            nodes: run.nodes.clone(),
            suites: vec![SuiteOutcome {
                name: self.testsuite.clone(),
                started: test.started.clone(),
                duration: test.duration,
                tests: vec![test.clone()],
            }],
            interrupted: run.interrupted,
        };
        let labels: BTreeMap<String, String> = host_labels(run);
        write_test_logs(&self.logdir, &view, &self.testsuite, &test.id, &labels)?;
        Ok(())
    }

    /// Whether a test ended with a status other than SKIP.
    pub fn ran(&self) -> bool {
        self.ran
    }

    /// Ends the Tests entry as auster's `yml_log_test_status` does, when lutf started it
    /// (standalone); does nothing under auster, which writes these lines itself.
    pub fn finish(&self, duration: f64, status: Status) -> Result<(), ResultsError> {
        if !self.standalone {
            return Ok(());
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.yaml_log)
            .map_err(|e| ResultsError::io(&self.yaml_log, e))?;
        let text = entry_tail(duration, status);
        f.write_all(text.as_bytes())
            .map_err(|e| ResultsError::io(&self.yaml_log, e))
    }
}

/// auster's header (`yml_results_file`) and a Tests entry for `testsuite` up to its
/// `SubTests:` line (`yml_log_test`), for a results.yml nobody started.
pub fn entry_head(run: &RunOutcome, testsuite: &str) -> String {
    let host = short_host(&run.testhost);
    let host = if host.is_empty() { "localhost" } else { host };
    let when = submission(&run.started);
    format!(
        "TestGroup:\n    test_group: {}\n    testhost: {}\n    submission: {}\n    user_name: {}\n\
         project: {}\nTests:\n-\n        name: {}\n        description: {}\n        submission: {}\n\
         \x20       report_version: 2\n        SubTests:\n",
        scalar(&format!("lutf-{host}")),
        scalar(host),
        scalar(&when),
        scalar(&run.user),
        scalar(PROJECT),
        scalar(testsuite),
        scalar(&format!("lutf {testsuite}")),
        scalar(&when),
    )
}

/// The end of a Tests entry (`yml_log_test_status`).
pub fn entry_tail(duration: f64, status: Status) -> String {
    format!(
        "        duration: {}\n        status: {}\n",
        whole_seconds(duration),
        status.as_str()
    )
}
