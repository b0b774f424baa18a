//! The progress bar of `tollgate eval` on stderr: shown only when stderr is
//! a terminal and the input is a file (whose size gives the ETA); silent
//! otherwise, so that logs and pipes never see it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// A progress bar over the input's bytes, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    /// A bar for an input file of `size` bytes when stderr is a terminal;
    /// otherwise (`size` is `None` for a pipe) a silent one.
    pub fn new(size: Option<u64>) -> Progress {
        let bar = size
            .filter(|_| std::io::stderr().is_terminal())
            .map(|size| {
                let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
                if let Ok(style) =
                    ProgressStyle::with_template("{wide_bar} {percent:>3}% {msg} ETA {eta}")
                {
                    bar.set_style(style);
                }
                bar
            });
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    /// Notes `n` more bytes of input read.
    pub fn bytes(&self, n: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
    }

    /// Notes that `done` records are answered in all.
    pub fn records(&self, done: usize) {
        if let Some(bar) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64();
            let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
            bar.set_message(format!("{done} records, {rate:.0}/s"));
        }
    }

    /// Removes the bar, at the end of the run.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
