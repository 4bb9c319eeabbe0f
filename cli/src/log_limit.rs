//! Log lines a person can read: the same warning (one place in the code) repeated in a flood,
//! a hostile server's junk frames for one, is shown a few times, then at most once per window
//! with a count of the ones not shown. Debug and trace lines, asked for with -vv or RUST_LOG,
//! are never held back.

use log::{Level, Log, Metadata, Record};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lines from one place shown at once before holding back.
const BURST: u32 = 5;
/// After a burst, one line from the same place per window.
const WINDOW: Duration = Duration::from_secs(10);

/// A logger that rate-limits repeated lines of `inner` (see the module's comment).
pub struct RateLimited<L> {
    inner: L,
    sites: Mutex<HashMap<(String, u32), Site>>,
}

struct Site {
    since: Instant,
    shown: u32,
    hidden: u64,
}

impl<L: Log> RateLimited<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> RateLimited<L> {
        RateLimited {
            inner,
            sites: Mutex::new(HashMap::new()),
        }
    }

    /// Tells whether a line from `site` is shown now, and what to add to it.
    fn admit(&self, site: (String, u32)) -> Option<String> {
        let mut sites = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let s = sites.entry(site).or_insert(Site {
            since: now,
            shown: 0,
            hidden: 0,
        });
        let mut note = String::new();
        if now.duration_since(s.since) >= WINDOW {
            if s.hidden > 0 {
                note = format!(" ({} more like this not shown)", s.hidden);
            }
            // a new window: one line, counting what it held back
            *s = Site {
                since: now,
                shown: BURST - 1,
                hidden: 0,
            };
        }
        if s.shown >= BURST {
            s.hidden += 1;
            return None;
        }
        s.shown += 1;
        if s.shown == BURST && note.is_empty() {
            note = format!(" (more like this: at most one every {}s)", WINDOW.as_secs());
        }
        Some(note)
    }
}

impl<L: Log> Log for RateLimited<L> {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if !self.inner.enabled(record.metadata()) {
            return;
        }
        if record.level() > Level::Info {
            self.inner.log(record);
            return;
        }
        let site = (
            record.file().unwrap_or(record.target()).to_string(),
            record.line().unwrap_or(0),
        );
        let Some(note) = self.admit(site) else {
            return;
        };
        self.inner.log(
            &Record::builder()
                .args(format_args!("{}{note}", record.args()))
                .metadata(record.metadata().clone())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_nothing_within_the_window() {
        let r = RateLimited::new(NoLog);
        let site = || ("f.rs".to_string(), 7);
        let shown: Vec<Option<String>> = (0..20).map(|_| r.admit(site())).collect();
        assert_eq!(shown.iter().filter(|s| s.is_some()).count(), 5);
        assert!(shown[4]
            .as_deref()
            .unwrap()
            .contains("at most one every 10s"));
        // another place is counted apart
        assert_eq!(r.admit(("f.rs".to_string(), 8)), Some(String::new()));
    }

    struct NoLog;
    impl Log for NoLog {
        fn enabled(&self, _: &Metadata) -> bool {
            true
        }
        fn log(&self, _: &Record) {}
        fn flush(&self) {}
    }
}
