//! How a run shows while it goes. Plain mode (stderr not a terminal, as in CI): one line
//! per event and no escape code; `-q` only the summary; `-v` each step's output. Live mode
//! in a real terminal (tmux, when installed): a line per node with its test and step while
//! the steps hold on two real sshd hosts, the overall bar, lines printed above the bars,
//! and the bars gone at the end, leaving the summary; with `NO_COLOR` the same terminal
//! gets plain lines.
//!
//! Timing assertions here are generous upper bounds that only prove "it did not hang".

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{have_python, samples, Scratch};

/// `lutf run --suite samples --only 01 ARGS` with stderr a pipe and a terminal-like
/// environment otherwise (TERM set, no NO_COLOR): the pipe alone must make it plain.
fn plain_run(s: &Scratch, args: &[&str]) -> common::Run {
    let out = Command::new(env!("CARGO_BIN_EXE_lutf"))
        .args(["run", "--suite", "samples", "--only", "01", "--results"])
        .arg(s.results())
        .arg("--suites")
        .arg(samples())
        .arg("--workdir")
        .arg(s.dir.path().join("work"))
        .args(args)
        .current_dir(s.dir.path())
        .env_remove("NO_COLOR")
        .env_remove("LUTF_LOG")
        .env("TERM", "xterm-256color")
        .output()
        .expect("run lutf");
    common::Run::from(out)
}

#[test]
fn plain_lines_without_escape_codes_when_stderr_is_not_a_terminal() {
    if !have_python() {
        eprintln!("SKIP: python3 is not installed on this machine");
        return;
    }
    let s = Scratch::new();
    let run = plain_run(&s, &["-v"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(!run.stderr.contains('\x1b'), "an escape code: {run}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    assert!(has("lutf: running 1 test"), "{run}");
    assert!(has("samples test_01 started [node1=local]: "), "{run}");
    assert!(
        has("samples test_01 step whoami on local: PASS in "),
        "{run}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("    | [") && l.contains("local is ")),
        "-v shows the step's output: {run}"
    );
    assert!(has("samples test_01: PASS in "), "{run}");
    assert!(has("lutf run "), "the summary: {run}");
    assert!(run.stderr.contains("/report.html"), "{run}");

    // Every step's job was forgotten on the node before lutf ended.
    // (And the spare runner left for a next step went with lutf.)
    let jobs = support::job_folders_after_run(&s.dir.path().join("work/jobs"));
    assert!(jobs.is_empty(), "job folders left: {jobs:?}");

    let quiet = plain_run(&s, &["-q"]);
    assert_eq!(quiet.code, 0, "{quiet}");
    assert!(!quiet.stderr.contains("started ["), "{quiet}");
    assert!(!quiet.stderr.contains(" step "), "{quiet}");
    assert!(
        quiet.stderr.contains("1 tests, 1 PASS, 0 FAIL, 0 SKIP"),
        "{quiet}"
    );
    assert!(quiet.stderr.contains("/report.html"), "{quiet}");
}

/// A private tmux server (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server whose one session runs `sh script` in a 150×50 terminal; `None` (after
    /// saying why) when tmux is not installed.
    fn start(script: &Path) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIP: tmux is not installed (apt-get install tmux to run this test)");
            return None;
        }
        let socket = format!(
            "lutf-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let t = Tmux { socket };
        let out = t
            .cmd()
            .args(["new-session", "-d", "-x", "150", "-y", "50", "sh"])
            .arg(script)
            .env("TERM", "xterm-256color")
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(t)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// The screen and its scrollback, as text.
    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-S", "-"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its escape codes (`-e`).
    fn screen_escaped(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-e", "-S", "-"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `ok` (bounded), failing early once `exit_file`
    /// exists unless `ok` holds.
    fn wait_screen(&self, what: &str, exit_file: &Path, ok: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(90),
                "never saw {what}; the screen:\n{screen}"
            );
            if exit_file.exists() {
                // One last look: the program may have drawn it just before ending.
                let screen = self.screen();
                assert!(
                    ok(&screen),
                    "lutf ended before {what}; the screen:\n{screen}"
                );
                return screen;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A script that runs `lutf ARGS` in `env`, then writes lutf's exit code to `exit_file`
/// and keeps the terminal open.
fn script(dir: &Path, env: &str, args: &[String], exit_file: &Path) -> PathBuf {
    let argv: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_lutf").to_string())
        .chain(args.iter().cloned())
        .map(|a| sh_quote(&a))
        .collect();
    let text = format!(
        "cd {dir}\n{env}\n{cmd}\necho $? > {exit}.tmp && mv {exit}.tmp {exit}\nexec sleep 600\n",
        dir = sh_quote(&dir.display().to_string()),
        cmd = argv.join(" "),
        exit = sh_quote(&exit_file.display().to_string()),
    );
    let path = dir.join("run.sh");
    std::fs::write(&path, text).unwrap();
    path
}

fn wait_exit(tmux: &Tmux, exit_file: &Path) -> i32 {
    let t0 = Instant::now();
    while !exit_file.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "lutf did not end; the screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(exit_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Where the steps write their marks: the folder as the nodes see it, and as each host's
/// is seen from here. Netns hosts have a private `/tmp` each; loopback hosts share this
/// machine's, so a folder of the test's own serves them all.
fn mark_dirs(hosts: &support::TestHosts) -> (String, Vec<PathBuf>) {
    use std::os::unix::fs::PermissionsExt;
    match hosts.mode {
        support::Mode::Netns { .. } => (
            "/tmp".into(),
            hosts.hosts.iter().map(|h| h.tmp.clone()).collect(),
        ),
        support::Mode::Loopback => {
            let dir = hosts.dir.path().join("marks");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
            (
                dir.display().to_string(),
                hosts.hosts.iter().map(|_| dir.clone()).collect(),
            )
        }
    }
}

#[test]
fn a_terminal_shows_a_line_per_node_and_the_overall_bar() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    let dir = hosts.dir.path();
    let m = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let (node_marks, marks) = mark_dirs(&hosts);
    let gate = format!("lutf-gate-{m}");
    let exit_file = dir.join("exit");
    let args: Vec<String> = [
        "--ssh-config",
        hosts.ssh_config.to_str().unwrap(),
        "-v",
        "run",
        "--cluster",
        hosts.cluster_file.to_str().unwrap(),
        "--suites",
        common::root()
            .join("tests/fixtures/runner-suites")
            .to_str()
            .unwrap(),
        "--suite",
        "hold",
        "--results",
        dir.join("results").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("--param=marker=300.{m}"),
        format!("--param=held={node_marks}/lutf-held-{m}"),
        format!("--param=gate={node_marks}/{gate}"),
    ])
    .collect();
    let env = "unset NO_COLOR LUTF_LOG SSH_AUTH_SOCK";
    let Some(tmux) = Tmux::start(&script(dir, env, &args, &exit_file)) else {
        return;
    };

    // Both nodes hold their step: their lines say so, above the bar.
    let screen = tmux.wait_screen("both nodes holding", &exit_file, |s| {
        s.contains("hold@node1") && s.contains("hold@node2") && s.contains("0/2 tests")
    });
    let line = |s: &str, needle: &str| -> String {
        s.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{s}"))
            .to_string()
    };
    let node1 = line(&screen, "hold@node1");
    let node2 = line(&screen, "hold@node2");
    let bar = line(&screen, "0/2 tests");
    assert!(
        node1.contains("node1 hold test_01 · hold@node1"),
        "{screen}"
    );
    assert!(
        node2.contains("node2 hold test_01 · hold@node2"),
        "{screen}"
    );
    assert!(bar.contains("0 PASS 0 FAIL 0 SKIP"), "{screen}");
    assert!(bar.contains("elapsed"), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let at = |l: &str| lines.iter().position(|x| *x == l).unwrap();
    assert!(at(&node1) < at(&bar) && at(&node2) < at(&bar), "{screen}");
    assert!(
        tmux.screen_escaped().contains('\x1b'),
        "the bars are drawn with escape codes"
    );

    for dir in &marks {
        std::fs::write(dir.join(&gate), "go").unwrap();
    }
    assert_eq!(wait_exit(&tmux, &exit_file), 0, "{}", tmux.screen());
    let end = tmux.screen();
    // Printed above the bars as they went, whole lines: steps (-v), their output, tests.
    for want in [
        "hold test_01 step hold@node1 on node1: PASS in ",
        "hold test_01 step hold@node2 on node2: PASS in ",
        "    | LUTF-FIXTURE-HOLDING",
        "hold test_01: PASS in ",
        "hold test_02: PASS in ",
        "2 tests, 2 PASS, 0 FAIL, 0 SKIP",
        "/report.html",
    ] {
        assert!(
            end.lines().any(|l| l.contains(want)),
            "{want:?} on a line of its own:\n{end}"
        );
    }
    // The bars are gone, and no log line was torn by them.
    assert!(!end.contains(" tests · "), "the bar was left:\n{end}");
    assert!(!end.contains(" · hold@"), "a node line was left:\n{end}");
}

#[test]
fn no_color_in_a_terminal_gives_plain_lines() {
    if !have_python() {
        eprintln!("SKIP: python3 is not installed on this machine");
        return;
    }
    let s = Scratch::new();
    let exit_file = s.dir.path().join("exit");
    let args: Vec<String> = [
        "run",
        "--suite",
        "samples",
        "--only",
        "01",
        "--suites",
        samples().to_str().unwrap(),
        "--workdir",
        s.dir.path().join("work").to_str().unwrap(),
        "--results",
        s.results().to_str().unwrap(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let Some(tmux) = Tmux::start(&script(
        s.dir.path(),
        "export NO_COLOR=1; unset LUTF_LOG",
        &args,
        &exit_file,
    )) else {
        return;
    };
    assert_eq!(wait_exit(&tmux, &exit_file), 0, "{}", tmux.screen());
    let screen = tmux.screen_escaped();
    assert!(
        !screen.contains('\x1b'),
        "escape codes with NO_COLOR:\n{screen}"
    );
    assert!(
        screen.contains("samples test_01 step whoami on local: PASS in "),
        "{screen}"
    );
    assert!(!screen.contains(" tests · "), "{screen}");
}
