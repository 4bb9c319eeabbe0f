//! A batch split over machines (`batch --shard I/N`): which of N shards a task belongs to, by a
//! stable hash of its id (64-bit FNV-1a, a fixed algorithm, so that every build, release and
//! machine puts a task in the same shard), and the parsing of `--shard` (its index from
//! `JOB_COMPLETION_INDEX`, as a Kubernetes Indexed Job sets it, when only `N` is given).

use crate::exit::{Exit, Failure};
use std::hash::Hasher;

/// The environment variable a Kubernetes Indexed Job sets to the index of its pod.
pub const INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// The most shards a batch is split into.
pub const MAX_SHARDS: u32 = 10_000;

/// Names one shard of a batch: the `index`-th (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0 to `count - 1`.
    pub index: u32,
    /// How many shards the batch is split into.
    pub count: u32,
}

/// Holds `--shard` as given: `I/N`, or `N` with the index still to be read from
/// [`INDEX_VAR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardArg {
    /// The index, when given.
    pub index: Option<u32>,
    /// How many shards.
    pub count: u32,
}

/// Returns the 64-bit FNV-1a hash of `bytes` (the `fnv` crate's, a fixed algorithm, unlike
/// std's `DefaultHasher`).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(bytes);
    h.finish()
}

/// Returns the shard (from 0) of `count` that the task `id` belongs to.
pub fn of(id: &str, count: u32) -> u32 {
    // a count of 0 is refused by the parser; 1 keeps this total
    (fnv1a64(id.as_bytes()) % u64::from(count.max(1))) as u32
}

fn number(what: &str, text: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} {text:?} is not a whole number"));
    }
    text.parse::<u32>()
        .map_err(|_| format!("{what} {text:?} is too large"))
}

/// Parses `--shard`: `I/N` (I from 0 to N-1) or `N` (the index from [`INDEX_VAR`]).
pub fn parse_arg(text: &str) -> Result<ShardArg, String> {
    let (index, count) = match text.split_once('/') {
        Some((i, n)) => (Some(number("the index", i.trim())?), n.trim()),
        None => (None, text.trim()),
    };
    let count = number("the count", count)?;
    if count == 0 || count > MAX_SHARDS {
        return Err(format!("the count is {count}: 1 to {MAX_SHARDS} shards"));
    }
    if let Some(i) = index {
        if i >= count {
            return Err(format!(
                "the index {i} is out of range: 0 to {} for {count} shards",
                count - 1
            ));
        }
    }
    Ok(ShardArg { index, count })
}

impl ShardArg {
    /// Resolves the index: the one given, else `env` (the value of [`INDEX_VAR`], if set).
    pub fn resolve(self, env: Option<&str>) -> Result<Shard, Failure> {
        let index = match (self.index, env) {
            (Some(i), _) => i,
            (None, Some(v)) => number(INDEX_VAR, v.trim())
                .map_err(|e| Failure(Exit::Usage, format!("--shard {}: {e}", self.count)))?,
            (None, None) => {
                return Err(Failure(
                    Exit::Usage,
                    format!(
                        "--shard {n}: no index: give --shard I/{n} or set {INDEX_VAR}",
                        n = self.count
                    ),
                ))
            }
        };
        if index >= self.count {
            return Err(Failure(
                Exit::Usage,
                format!(
                    "--shard: the index {index} ({INDEX_VAR}) is out of range: 0 to {} for {} shards",
                    self.count - 1,
                    self.count
                ),
            ));
        }
        Ok(Shard {
            index,
            count: self.count,
        })
    }
}

impl Shard {
    /// Tells whether the task `id` belongs to this shard.
    pub fn owns(&self, id: &str) -> bool {
        of(id, self.count) == self.index
    }

    /// Tells whether the task whose id hashes to `hash` ([`fnv1a64`]) belongs to this shard.
    pub fn owns_hash(&self, hash: u64) -> bool {
        (hash % u64::from(self.count.max(1))) as u32 == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_64() {
        // the published test vectors of FNV-1a 64
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_assignment_is_pinned() {
        // a task keeps its shard across builds and releases: a change here moves running batches
        assert_eq!(of("t1", 3), 2);
        assert_eq!(of("t3", 3), 0);
        assert_eq!(of("t2", 3), 1);
        assert_eq!(of("anything", 1), 0);
        // by the id or by its hash alike
        let s = Shard { index: 2, count: 3 };
        for id in ["t1", "t2", "t3", "anything"] {
            assert_eq!(s.owns(id), s.owns_hash(fnv1a64(id.as_bytes())), "{id}");
        }
    }

    #[test]
    fn the_arg_is_parsed_and_checked() {
        assert_eq!(
            parse_arg("2/3"),
            Ok(ShardArg {
                index: Some(2),
                count: 3
            })
        );
        assert_eq!(
            parse_arg("3"),
            Ok(ShardArg {
                index: None,
                count: 3
            })
        );
        for bad in [
            "3/3",
            "0/0",
            "x/3",
            "-1/3",
            "1/",
            "/",
            "",
            "1/3/4",
            "99999999999/3",
        ] {
            assert!(parse_arg(bad).is_err(), "{bad}");
        }
        let n = ShardArg {
            index: None,
            count: 3,
        };
        assert_eq!(
            n.resolve(Some("1")).ok(),
            Some(Shard { index: 1, count: 3 })
        );
        assert!(n.resolve(Some("3")).is_err());
        assert!(n.resolve(Some("one")).is_err());
        assert!(n.resolve(None).is_err());
    }
}
