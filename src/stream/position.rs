//! Where a stream is in the session's log: the `processed_at` of the newest event it has
//! delivered (or, when it opened, the newest event that already existed), and the ids of the
//! events at that instant (those from before the open; the delivered ones are among the latest
//! delivered, [`RecentIds`]). A listing is ordered by `processed_at`, so a listed event from
//! before that instant was delivered (or is from before the stream opened), and only one *at*
//! that instant can be new or a repeat. A live event sent while a listing covered its
//! time is a repeat by the same rule; any other live event is a repeat only when its id is
//! among the latest delivered ([`RecentIds`]), never for its time alone (the live order is the
//! server's to keep). All of it is bounded: a stream's memory does not grow with its length.

use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};

/// How many of the latest delivered ids a stream remembers, for the events its live
/// connection sends again after a catch-up listing delivered them: those produced while the
/// listing was read, a handful in practice.
pub(crate) const RECENT_IDS: usize = 4096;

/// The ids of the latest delivered events, at most [`RECENT_IDS`] of them.
#[derive(Debug, Default)]
pub(crate) struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl RecentIds {
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// Remembers an id that is not remembered yet. Once full, the two buffers of the oldest
    /// id (its place in the order and its entry in the set) are reused for the new one: no
    /// allocation per event.
    pub(crate) fn push(&mut self, id: &str) {
        debug_assert!(!self.set.contains(id));
        let (mut slot, mut key) = if self.order.len() >= RECENT_IDS {
            let old = self.order.pop_front().unwrap_or_default();
            let key = self.set.take(&old).unwrap_or_default();
            (old, key)
        } else {
            (String::new(), String::new())
        };
        slot.clear();
        slot.push_str(id);
        key.clear();
        key.push_str(id);
        self.set.insert(key);
        self.order.push_back(slot);
    }
}

/// A point in the session's log, and the ids of the events at that point.
#[derive(Debug, Clone, Default)]
pub(crate) struct Position {
    /// `processed_at` of the newest event behind the stream; `None` before the first one.
    at: Option<String>,
    /// The ids of the events at `at` that are behind the stream.
    ids: HashSet<String>,
}

impl Position {
    /// The `processed_at` the stream is at.
    pub(crate) fn at(&self) -> Option<&str> {
        self.at.as_deref()
    }

    /// How many ids it holds (those at its instant).
    #[cfg(test)]
    pub(crate) fn ids_held(&self) -> usize {
        self.ids.len()
    }

    /// Whether an event is ahead of this point (not delivered yet, not from before the open).
    /// An event without a time is told by its id only.
    pub(crate) fn is_ahead(&self, id: Option<&str>, at: Option<&str>) -> bool {
        let at = at.filter(|t| !t.is_empty());
        match (at, self.at.as_deref()) {
            (Some(t), Some(w)) => match compare_times(t, w) {
                Ordering::Less => false,
                Ordering::Equal => !id.is_some_and(|i| self.ids.contains(i)),
                Ordering::Greater => true,
            },
            _ => !id.is_some_and(|i| self.ids.contains(i)),
        }
    }

    /// Moves the point past an event: a later instant forgets the ids of the earlier one; an
    /// event from before the point changes nothing.
    pub(crate) fn pass(&mut self, id: Option<&str>, at: Option<&str>) {
        if self.advance(at) {
            if let Some(id) = id {
                if !self.ids.contains(id) {
                    self.ids.insert(id.to_string());
                }
            }
        }
    }

    /// Moves the point to an event's time, if later, forgetting the ids of the earlier
    /// instant; false when the time is before the point. A stream delivering an event only
    /// moves the time: the ids it delivered are remembered as [`RecentIds`].
    pub(crate) fn advance(&mut self, at: Option<&str>) -> bool {
        if let Some(t) = at.filter(|t| !t.is_empty()) {
            match self.at.as_deref().map(|w| compare_times(t, w)) {
                Some(Ordering::Less) => return false,
                Some(Ordering::Equal) => {}
                Some(Ordering::Greater) | None => {
                    // the buffer of the previous instant is reused: no allocation per event
                    match &mut self.at {
                        Some(a) => {
                            a.clear();
                            a.push_str(t);
                        }
                        None => self.at = Some(t.to_string()),
                    }
                    self.ids.clear();
                }
            }
        }
        true
    }
}

/// Orders two RFC 3339 times of the API (`2026-01-01T00:00:00.5Z`): by the second, then by
/// the fraction as a number, so `…00Z` comes before `…00.1Z`. Times in another zone than UTC,
/// or not in this shape, are ordered as text.
pub(crate) fn compare_times(a: &str, b: &str) -> Ordering {
    match (split_time(a), split_time(b)) {
        (Some((sa, fa)), Some((sb, fb))) => sa.cmp(sb).then(fa.cmp(&fb)),
        _ => a.cmp(b),
    }
}

/// `(YYYY-MM-DDTHH:MM:SS, nanoseconds)` of a UTC time.
fn split_time(t: &str) -> Option<(&str, u32)> {
    let rest = t.strip_suffix('Z').or_else(|| t.strip_suffix("+00:00"))?;
    let (secs, frac) = match rest.split_once('.') {
        Some((s, f)) => (s, f),
        None => (rest, ""),
    };
    if secs.len() != 19 || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10 + frac.as_bytes().get(i).map_or(0, |d| u32::from(d - b'0'));
    }
    Some((secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_order_by_value_not_text() {
        let order = [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.1Z",
            "2026-01-01T00:00:00.123Z",
            "2026-01-01T00:00:00.5+00:00",
            "2026-01-01T00:00:01Z",
        ];
        for w in order.windows(2) {
            assert_eq!(compare_times(w[0], w[1]), Ordering::Less, "{w:?}");
            assert_eq!(compare_times(w[1], w[0]), Ordering::Greater, "{w:?}");
        }
        assert_eq!(
            compare_times("2026-01-01T00:00:00.100Z", "2026-01-01T00:00:00.1Z"),
            Ordering::Equal
        );
    }

    #[test]
    fn recent_ids_forget_the_oldest() {
        let mut r = RecentIds::default();
        for i in 0..RECENT_IDS + 10 {
            r.push(&format!("sevt_{i}"));
        }
        assert!(!r.contains("sevt_9") && r.contains("sevt_10"));
        assert!(r.contains(&format!("sevt_{}", RECENT_IDS + 9)));
        assert_eq!((r.order.len(), r.set.len()), (RECENT_IDS, RECENT_IDS));
    }

    #[test]
    fn only_the_ids_at_the_newest_instant_are_kept() {
        let mut p = Position::default();
        assert!(p.is_ahead(Some("a"), Some("2026-01-01T00:00:01Z")));
        p.pass(Some("a"), Some("2026-01-01T00:00:01Z"));
        p.pass(Some("b"), Some("2026-01-01T00:00:01Z"));
        assert!(!p.is_ahead(Some("a"), Some("2026-01-01T00:00:01Z")));
        assert!(p.is_ahead(Some("c"), Some("2026-01-01T00:00:01Z")));
        assert!(!p.is_ahead(Some("z"), Some("2026-01-01T00:00:00.9Z")));
        p.pass(Some("c"), Some("2026-01-01T00:00:02Z"));
        assert_eq!(p.ids_held(), 1);
        assert_eq!(p.at(), Some("2026-01-01T00:00:02Z"));
        // an event without a time is told by its id
        assert!(!p.is_ahead(Some("c"), None));
        assert!(p.is_ahead(Some("d"), None));
    }
}
