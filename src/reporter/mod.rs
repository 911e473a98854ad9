//! Showing a run as it goes: the runner's [`Event`]s become either live progress bars
//! ([`live::Live`], when stderr is a terminal) or one plain line per event
//! ([`lines::Lines`], for CI logs, pipes, `NO_COLOR` and dumb terminals).
//!
//! Everything else lutf writes to stderr while bars show — tracing's log lines, warnings,
//! the interrupt notice — goes through [`eprint`] (and [`LogWriter`] for tracing), which
//! prints above the bars instead of tearing them.

pub mod lines;
pub mod live;

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use indicatif::MultiProgress;

use crate::runner::{Event, Reporter};
pub use lines::Lines;
pub use live::Live;

/// How a run is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Per-node lines and an overall bar, redrawn in place.
    Live,
    /// One line per event.
    Lines,
    /// Nothing per event (`-q`): the summary only.
    Quiet,
}

/// The style for this process: `-q` is [`Style::Quiet`]; bars only when stderr is a
/// terminal, `NO_COLOR` is unset (or empty) and `TERM` is set and not `dumb`.
pub fn style(quiet: bool) -> Style {
    let term = std::env::var("TERM").ok();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    choose(
        quiet,
        std::io::stderr().is_terminal(),
        no_color,
        term.as_deref(),
    )
}

/// [`style`]'s decision, from what it looked at.
pub fn choose(quiet: bool, terminal: bool, no_color: bool, term: Option<&str>) -> Style {
    if quiet {
        Style::Quiet
    } else if terminal && !no_color && !matches!(term, None | Some("") | Some("dumb")) {
        Style::Live
    } else {
        Style::Lines
    }
}

/// The reporter of one run; [`Display::finish`] (or dropping it) takes the bars away so
/// that the summary prints below clean.
pub struct Display {
    reporter: Arc<dyn Reporter>,
    live: Option<Arc<Live>>,
}

impl Display {
    /// A display in `style` for a run on `nodes` (the usable ones, in order); `verbose`
    /// adds each step's output.
    pub fn new(style: Style, nodes: &[String], verbose: bool) -> Display {
        match style {
            Style::Live => {
                let live = Arc::new(Live::new(nodes, verbose));
                set_bars(Some(live.multi().clone()));
                Display {
                    reporter: live.clone(),
                    live: Some(live),
                }
            }
            Style::Lines | Style::Quiet => Display {
                reporter: Arc::new(Lines {
                    quiet: style == Style::Quiet,
                    verbose,
                }),
                live: None,
            },
        }
    }

    /// The reporter to hand to the runner.
    pub fn reporter(&self) -> Arc<dyn Reporter> {
        self.reporter.clone()
    }

    /// Removes the bars (once; later calls do nothing).
    pub fn finish(&mut self) {
        if let Some(live) = self.live.take() {
            set_bars(None);
            live.finish();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Reporter for Display {
    fn event(&self, event: &Event) {
        self.reporter.event(event);
    }
}

/// The bars showing now, if any: where stderr output must go around.
static BARS: Mutex<Option<MultiProgress>> = Mutex::new(None);

fn set_bars(bars: Option<MultiProgress>) {
    *BARS.lock().unwrap_or_else(|e| e.into_inner()) = bars;
}

fn bars() -> Option<MultiProgress> {
    BARS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Takes the bars off the screen for good, when lutf quits without finishing the run.
pub fn abandon() {
    if let Some(m) = BARS.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = m.clear();
    }
}

/// Writes `text` to stderr in one piece: above the bars while they show. Secrets
/// ([`crate::secrets`]) are blanked out first.
pub fn eprint(text: &str) {
    let text = crate::secrets::text(text);
    let write = || {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    };
    match bars() {
        Some(m) => m.suspend(write),
        None => write(),
    }
}

/// Writes `text` to stdout, ignoring a closed pipe: `lutf list | head` must neither panic
/// nor stop a run that has results to write. (SIGPIPE stays ignored, as Rust sets it, because
/// its default would also kill lutf when an ssh pipe closes.) Secrets are blanked out first.
pub fn print(text: &str) {
    let text = crate::secrets::text(text);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `text` and a newline, through [`eprint`].
pub fn eprintln(text: &str) {
    eprint(&format!("{text}\n"));
}

/// stderr for `tracing`: each log line goes out whole through [`eprint`], above the bars.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogWriter;

/// One log line being written (tracing writes an event, then drops the writer).
#[derive(Debug, Default)]
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            eprint(&String::from_utf8_lossy(&self.0));
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_only_on_a_capable_terminal() {
        assert_eq!(
            choose(false, true, false, Some("xterm-256color")),
            Style::Live
        );
        assert_eq!(choose(false, false, false, Some("xterm")), Style::Lines);
        assert_eq!(choose(false, true, true, Some("xterm")), Style::Lines);
        assert_eq!(choose(false, true, false, Some("dumb")), Style::Lines);
        assert_eq!(choose(false, true, false, None), Style::Lines);
        assert_eq!(choose(true, true, false, Some("xterm")), Style::Quiet);
        assert_eq!(choose(true, false, false, None), Style::Quiet);
    }
}
