//! A batch's progress: a live bar on a terminal (done, failed, running, rate, ETA, elapsed),
//! one plain line per finished task when stderr is piped, nothing with `--quiet`.

use crate::output::{escape_controls, note};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts and shows a batch's progress.
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    running: AtomicUsize,
}

impl Progress {
    /// Makes the progress of `total` tasks.
    pub fn new(total: usize, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (terminal && !quiet).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} {msg} {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        let p = Progress {
            bar,
            plain: !terminal && !quiet,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
        };
        p.redraw();
        p
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "done, {} failed, {} running",
                self.failed.load(Ordering::SeqCst),
                self.running.load(Ordering::SeqCst)
            ));
        }
    }

    /// Counts a task started.
    pub fn started(&self) {
        self.running.fetch_add(1, Ordering::SeqCst);
        self.redraw();
    }

    /// Counts a task finished; `outcome` is its stop or its error.
    pub fn finished(&self, id: &str, ok: bool, outcome: &str) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if !ok {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(n as u64);
            self.redraw();
        } else if self.plain {
            note(&format!(
                "[{n}/{}] task {}: {}",
                self.total,
                escape_controls(id),
                escape_controls(outcome)
            ));
        }
    }

    /// Returns (finished, failed).
    pub fn counts(&self) -> (usize, usize) {
        (
            self.done.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
        )
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
