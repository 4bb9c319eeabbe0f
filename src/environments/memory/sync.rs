//! The merge rules of a memory store's sync, per path, against the baseline (each path's
//! content sha at the last download or successful sync), as the official worker has them:
//!
//! - changed only on the server: written to disk; changed only on disk: uploaded (an update
//!   with a `content_sha256` precondition, or a create); changed on both: the server wins,
//!   with a warning;
//! - a file the server refuses (400, 413, not UTF-8) is warned about once and tried again
//!   only after it changes; an upload whose answer never came is settled by the next listing;
//! - a file deleted on disk deletes its memory (with `expected_content_sha256`) once it has
//!   stayed missing for [`DELETE_CORROBORATION`] (the final sync does not wait), a bounded
//!   number per sync; a server edit meanwhile wins and the file comes back;
//! - a memory deleted on the server is deleted on disk, unless the file holds an edit not
//!   yet pushed: a writable store creates the memory again;
//! - a read-only store pulls and never pushes;
//! - a folder whose marker is gone or wrong while files remain is left alone; one that is
//!   empty, or whose every file vanished at once, is downloaded again;
//! - a file found missing after a call was stopped (`restore_missing`) is pulled again,
//!   never deleted: the stopped command may have moved it away and not put it back.

use super::folder::{path_of, scan, sha256_hex, write, Store};
use super::upload::{parallel, settle_sent};
use super::{MemoryDeleteMode, SessionMemoryStores, DELETE_CORROBORATION};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::types::{Memory, MemoryDeleteParams, MemoryRetrieveParams, MemoryView};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

/// How many memories one store's sync fetches at once.
const FETCH_WIDTH: usize = 16;
/// The bounds of the number of server deletes one sync sends.
const DELETE_CAP_FLOOR: usize = 8;
const DELETE_CAP_CEILING: usize = 50;

/// One sync's server deletes: the mode, the cap, whether the wait is waived.
struct DeletePass {
    mode: MemoryDeleteMode,
    cap: usize,
    waive: bool,
    attempted: usize,
    capped: usize,
}

impl SessionMemoryStores {
    pub(super) fn sync_store(
        &self,
        store: &mut Store,
        last: bool,
        deadline: Deadline,
    ) -> Result<()> {
        // only a scan that started after a path was recorded shows that its file is back
        let mut recorded = std::mem::take(&mut store.to_restore);
        let scanned = scan(store);
        if let Ok(s) = &scanned {
            if s.marker_ok {
                recorded.retain(|rel| !s.files.contains_key(rel));
            }
        }
        store.to_restore.append(&mut recorded);
        let s = scanned.map_err(|e| Error::io("scanning the memory store's folder", e))?;
        if !s.marker_ok {
            if !s.files.is_empty() {
                log::warn!(
                    "the marker file is gone or names another store; leaving the folder as found and not syncing root={} memory_store_id={}",
                    store.folder.root().display(),
                    store.id
                );
                return Ok(());
            }
            return self.recover(store, "the folder or its marker is gone", deadline);
        }
        let local = s.files;
        let remote = self.list(&store.id, false, deadline)?;
        settle_sent(store, &remote);
        if local.is_empty() && store.baseline.len() > 1 {
            return self.recover(store, "every memory file is gone at once", deadline);
        }
        let mut deletes = DeletePass {
            mode: self.deletions,
            cap: (store.baseline.len() / 4).clamp(DELETE_CAP_FLOOR, DELETE_CAP_CEILING),
            waive: last,
            attempted: 0,
            capped: 0,
        };
        let paths: BTreeSet<String> = remote
            .keys()
            .chain(local.keys())
            .chain(store.baseline.keys())
            .cloned()
            .collect();
        let mut pulls: Vec<(String, Memory)> = Vec::new();
        let mut baseline = BTreeMap::new();
        for rel in paths {
            deadline.check(|| "the memory sync".into())?;
            let r = remote.get(&rel);
            let local_sha = local.get(&rel).cloned();
            let base = store.baseline.get(&rel).cloned();
            let sha = match (r, &base) {
                (Some(r), Some(b))
                    if local_sha.is_none()
                        && r.content_sha256 == *b
                        && !store.read_only
                        && !store.to_restore.contains(&rel) =>
                {
                    self.corroborated_delete(store, &rel, r, b, &mut deletes, deadline)
                }
                _ => self.sync_path(store, &rel, r, local_sha, &mut pulls, deadline),
            };
            if let Some(sha) = sha {
                baseline.insert(rel, sha);
            }
        }
        store.baseline = baseline;
        self.pull_all(store, pulls, deadline);
        if deletes.capped > 0 {
            log::warn!(
                "delete cap reached: {} deletes, {} held for later syncs memory_store_id={}",
                deletes.attempted,
                deletes.capped,
                store.id
            );
        }
        Ok(())
    }

    fn sync_path(
        &self,
        store: &mut Store,
        rel: &str,
        remote: Option<&Memory>,
        mut local_sha: Option<String>,
        pulls: &mut Vec<(String, Memory)>,
        deadline: Deadline,
    ) -> Option<String> {
        let base = store.baseline.get(rel).cloned();
        if local_sha.is_some() {
            store.pending_deletes.remove(rel);
        }
        let Some(remote) = remote else {
            let Some(local) = local_sha.clone() else {
                store.pending_deletes.remove(rel);
                store.to_restore.remove(rel);
                return None;
            };
            if let Some(base) = base {
                if local == base {
                    match remove_local(store, rel, &base) {
                        None => return None,
                        Some(fresh) if fresh == base => return Some(base),
                        Some(fresh) => local_sha = Some(fresh),
                    }
                }
                if store.read_only {
                    log::warn!("memory deleted remotely but edited locally; keeping the file, which a read-only store cannot push path={rel} memory_store_id={}", store.id);
                } else {
                    log::info!("memory deleted remotely but edited locally; creating it again from the file path={rel} memory_store_id={}", store.id);
                }
            }
            if store.read_only || store.refused.get(rel) == local_sha.as_ref() {
                return None;
            }
            return self.upload(store, rel, None, deadline);
        };
        let remote_sha = &remote.content_sha256;
        let remote_changed = Some(remote_sha) != base.as_ref();
        let edited = local_sha
            .as_ref()
            .is_some_and(|l| Some(l) != base.as_ref() && l != remote_sha);
        if local_sha.is_none() && base.is_some() {
            // only written files enter the baseline: this one was deleted here
            if remote_changed {
                log::warn!("memory deleted locally but changed remotely; restoring the remote version path={rel} memory_store_id={}", store.id);
            }
            if remote_changed || store.to_restore.contains(rel) {
                store.pending_deletes.remove(rel);
                pulls.push((rel.to_string(), remote.clone()));
            }
            return base;
        }
        if remote_changed {
            if local_sha.as_ref() == Some(remote_sha) {
                return Some(remote_sha.clone());
            }
            if edited {
                log::warn!("memory changed both locally and remotely; keeping the remote version path={rel} memory_store_id={}", store.id);
            }
            pulls.push((rel.to_string(), remote.clone()));
            return base;
        }
        if edited && !store.read_only {
            if store.refused.get(rel) == local_sha.as_ref() {
                return Some(remote_sha.clone());
            }
            return self
                .upload(store, rel, Some(remote), deadline)
                .or_else(|| Some(remote_sha.clone()));
        }
        Some(remote_sha.clone())
    }

    /// A server delete, sent only once the file's absence is confirmed.
    fn corroborated_delete(
        &self,
        store: &mut Store,
        rel: &str,
        remote: &Memory,
        base: &str,
        deletes: &mut DeletePass,
        deadline: Deadline,
    ) -> Option<String> {
        let keep = Some(base.to_string());
        if deletes.mode == MemoryDeleteMode::Disabled {
            return keep;
        }
        let first = *store
            .pending_deletes
            .entry(rel.to_string())
            .or_insert_with(Instant::now);
        if !deletes.waive && first.elapsed() < DELETE_CORROBORATION {
            return keep;
        }
        // look again: the folder may have gone, or the file come back
        let Ok(again) = scan(store) else { return keep };
        if !again.marker_ok {
            return keep;
        }
        if again.files.contains_key(rel) {
            store.pending_deletes.remove(rel);
            return keep;
        }
        if deletes.attempted >= deletes.cap {
            deletes.capped += 1;
            return keep;
        }
        deletes.attempted += 1;
        if deletes.mode == MemoryDeleteMode::LogOnly {
            log::info!("log-only: the sync would delete this memory on the server path={rel} memory_store_id={}", store.id);
            return keep;
        }
        let gone = self.client.memory_stores().memories().delete_with(
            &store.id,
            &remote.id,
            &MemoryDeleteParams::default().expected_content_sha256(base),
            &Self::options(deadline),
        );
        match gone {
            Ok(_) => {
                log::info!(
                    "propagated local deletion path={rel} memory_store_id={}",
                    store.id
                );
            }
            Err(e) if e.status() == Some(404) => {}
            Err(e) if matches!(e.status(), Some(409 | 412)) => {
                log::warn!("memory deleted locally but changed remotely; keeping the remote version path={rel} memory_store_id={}", store.id);
                return keep;
            }
            Err(e) => {
                log::warn!(
                    "failed to delete memory path={rel} memory_store_id={}: {e}",
                    store.id
                );
                return keep;
            }
        }
        store.pending_deletes.remove(rel);
        None
    }

    /// Fetches the content of the memories to write and writes them; a failure leaves the
    /// old baseline, for the next sync.
    fn pull_all(&self, store: &mut Store, pulls: Vec<(String, Memory)>, deadline: Deadline) {
        let fetched = parallel(&pulls, FETCH_WIDTH, |(_, listed)| {
            self.client.memory_stores().memories().retrieve_with(
                &store.id,
                &listed.id,
                &MemoryRetrieveParams::default().view(MemoryView::Full),
                &Self::options(deadline),
            )
        });
        for ((rel, _), got) in pulls.into_iter().zip(fetched) {
            match got {
                Some(Ok(item)) if write(store, &rel, item.content.as_deref().unwrap_or("")) => {
                    store.to_restore.remove(&rel);
                    store.baseline.insert(rel, item.content_sha256);
                }
                Some(Ok(_)) => {}
                // deleted since the listing: the next sync settles it
                Some(Err(e)) if e.status() == Some(404) => {}
                Some(Err(e)) => log::warn!(
                    "failed to fetch memory content path={rel} memory_store_id={}: {e}",
                    store.id
                ),
                None => {}
            }
        }
    }

    /// Downloads a destroyed folder again; sends nothing.
    fn recover(&self, store: &mut Store, reason: &str, deadline: Deadline) -> Result<()> {
        log::warn!(
            "{reason}; downloading the memory store folder again instead of syncing root={} memory_store_id={}",
            store.folder.root().display(),
            store.id
        );
        let root = store.folder.root().to_path_buf();
        store.folder = crate::environments::folder::Folder::create_within(&root, &store.base)
            .map_err(|e| Error::io("creating the memory store's folder", e))?;
        self.stamp_and_pull(store, deadline, &|| false)
    }
}

/// Removes the file of a memory the server no longer has, if it still holds `expect`:
/// `None` when it is gone, `expect` when it must stay, its fresh sha when it was edited.
fn remove_local(store: &Store, rel: &str, expect: &str) -> Option<String> {
    let path = path_of(rel);
    let fresh = match store.folder.get(&path) {
        Ok(None) => return None,
        Ok(Some(bytes)) => sha256_hex(&bytes),
        Err(_) => return Some(expect.to_string()),
    };
    if fresh != expect {
        return Some(fresh);
    }
    match store.folder.remove_file(Path::new(&path)) {
        Ok(()) => None,
        Err(e) => {
            log::warn!(
                "failed to remove memory deleted remotely path={rel} memory_store_id={}: {e}",
                store.id
            );
            Some(expect.to_string())
        }
    }
}
