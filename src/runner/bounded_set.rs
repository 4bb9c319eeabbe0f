//! A set of ids that keeps the latest so many: what a run remembers of the calls and events
//! it saw, bounded.

use std::collections::{HashSet, VecDeque};

/// A set of strings that keeps the latest `cap` of them.
#[derive(Debug, Clone, Default)]
pub(super) struct BoundedSet {
    set: HashSet<String>,
    order: VecDeque<String>,
    cap: usize,
}

impl BoundedSet {
    pub(super) fn new(cap: usize) -> BoundedSet {
        BoundedSet {
            cap,
            ..BoundedSet::default()
        }
    }

    pub(super) fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// Adds an id, letting the oldest go past the cap; false if it was there.
    pub(super) fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.cap == 0 {
            return true;
        }
        while self.order.len() >= self.cap {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_set_keeps_the_latest_ids() {
        let mut s = BoundedSet::new(3);
        for i in 0..10 {
            assert!(s.insert(&format!("id{i}")));
        }
        assert!(!s.insert("id9"));
        assert_eq!(s.len(), 3);
        assert!(s.contains("id7") && s.contains("id9") && !s.contains("id6"));
    }
}
