//! The session's memory stores mirrored on disk, as the official worker mirrors them: each
//! attached store is downloaded (page by page, each request bounded, stopping on a stop) into a
//! folder of the item's work directory before any tool runs, synced back while the session runs
//! (at most every [`DEFAULT_MEMORY_SYNC_INTERVAL`], checked between tool calls), synced once
//! more at a clean end and flushed (uploads only) whatever the end, each of those two bounded
//! by [`MEMORY_FLUSH_TIMEOUT`], then removed.
//!
//! Layout: a store's folder is its `mount_path` (`/mnt/memory/<name>`) taken relative to the
//! work directory (`{workdir}/mnt/memory/<name>`), or `{workdir}/memory/<name or id>` when
//! it has none; every write stays inside the work directory (unlike the official worker,
//! which mounts at the absolute `mount_path` itself; the file tools map that absolute path to
//! the folder, bash sees only the relative one). A memory `/notes/a.md` is the file
//! `notes/a.md` in it; a memory path with `..` is never written. The folder holds a marker,
//! [`MARKER_PATH`] (`version 1` and the store id), never synced.
//!
//! A `write` or `edit` of a memory file by the file tools is saved in the store before the
//! disk (`upload`); changed files are also uploaded when the session goes idle with
//! nothing left to run. The merge rules of each sync are in `sync`, the uploads and
//! the flush in `upload`, the folder's layout in `folder`. Errors: a store that cannot be
//! downloaded (its folder already exists, a listing fails) fails the item, since the agent
//! would run without memory it was told about; a sync or a flush never fails the item: a bad
//! store or file is logged and the rest go on. The memory endpoints take the item's sessions
//! token, not the environment key: a session with stores whose item carried no sessions token
//! fails.

use crate::client::Client;
use crate::deadline::Deadline;
use crate::environments::folder::Folder;
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::toolset::confine::resolves_within;
use crate::types::{
    Memory, MemoryListItem, MemoryListParams, MemoryStoreResourceAccess, MemoryView, Session,
    SessionResource,
};
use folder::{marker, memory_rel, scan, store_root, write, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod folder;
mod sync;
mod upload;

pub(crate) use folder::memory_error;
pub use folder::MARKER_PATH;
pub(crate) use upload::NOT_CONFIRMED;

/// How often the session's memory stores are synced back while it runs (15 s).
pub const DEFAULT_MEMORY_SYNC_INTERVAL: Duration = Duration::from_secs(15);
/// The shortest sync interval allowed (5 s): each sync lists every attached store.
pub const MIN_MEMORY_SYNC_INTERVAL: Duration = Duration::from_secs(5);
/// The bound on the final sync, and again on the flush after it (30 s each).
pub const MEMORY_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// The time limit of each try of one memory request (30 s): writes to memory files wait for a
/// running sync, and a store's download asks for it page by page.
pub const MEMORY_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a file must stay missing before its memory is deleted on the server (30 s; the
/// final sync does not wait).
pub const DELETE_CORROBORATION: Duration = Duration::from_secs(30);

/// Whether a file deleted in a store's folder deletes its memory on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MemoryDeleteMode {
    /// Deletes go out (after [`DELETE_CORROBORATION`], or at the final sync).
    #[default]
    Enabled,
    /// A dry run: what would be deleted is logged, nothing is.
    LogOnly,
    /// Local deletions stay local.
    Disabled,
}

/// The worker's memory options: the sync interval (`None`: no memory download or sync at
/// all) and the delete mode.
#[derive(Debug, Clone)]
pub(crate) struct MemoryOptions {
    pub interval: Option<Duration>,
    pub deletions: MemoryDeleteMode,
}

impl Default for MemoryOptions {
    fn default() -> Self {
        MemoryOptions {
            interval: Some(DEFAULT_MEMORY_SYNC_INTERVAL),
            deletions: MemoryDeleteMode::Enabled,
        }
    }
}

impl MemoryOptions {
    /// Checks the options: an interval below [`MIN_MEMORY_SYNC_INTERVAL`] is refused.
    pub fn check(&self) -> Result<()> {
        match self.interval {
            Some(i) if i < MIN_MEMORY_SYNC_INTERVAL => Err(Error::invalid_input(
                "memory_sync_interval",
                format!(
                    "the memory sync interval must be at least {MIN_MEMORY_SYNC_INTERVAL:?}, got {i:?}"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// The memory stores of one session, on disk.
pub(crate) struct SessionMemoryStores {
    pub(super) client: Client,
    pub(super) deletions: MemoryDeleteMode,
    interval: Duration,
    pub(super) stores: Vec<Store>,
    last_sync: Instant,
    finished: bool,
}

impl SessionMemoryStores {
    /// Downloads every memory store attached to `session` into `workdir`, page by page (each
    /// page written before the next is asked for, each request bounded by
    /// [`MEMORY_REQUEST_TIMEOUT`]). `None` when the session has none (or memory is switched
    /// off), or when `stop` says so before the download is done (what was written is
    /// removed); an error when a store cannot be downloaded, or the item has no sessions
    /// token to reach them with.
    pub fn download(
        client: &Client,
        session: &Session,
        workdir: &Path,
        options: &MemoryOptions,
        has_sessions_token: bool,
        stop: &dyn Fn() -> bool,
    ) -> Result<Option<SessionMemoryStores>> {
        let Some(interval) = options.interval else {
            return Ok(None);
        };
        let attached: Vec<_> = session
            .resources
            .iter()
            .filter_map(|r| match r {
                SessionResource::MemoryStore(m) => Some(m),
                _ => None,
            })
            .collect();
        if attached.is_empty() {
            return Ok(None);
        }
        if !has_sessions_token {
            return Err(memory_error(format!(
                "session {} has memory stores attached, but the work item carried no sessions token; \
                 the memory endpoints refuse the environment key, so the item is failed rather than \
                 run without its memory",
                session.id
            )));
        }
        let mut all = SessionMemoryStores {
            client: client.clone(),
            deletions: options.deletions,
            interval,
            stores: Vec::new(),
            last_sync: Instant::now(),
            finished: false,
        };
        let base = std::fs::canonicalize(workdir)
            .map_err(|e| Error::io(format!("opening {}", workdir.display()), e))?;
        for resource in attached {
            let store_id = &resource.memory_store_id;
            let root = store_root(
                &base,
                resource.mount_path.as_deref(),
                resource.name.as_deref(),
                store_id,
            )?;
            if std::fs::symlink_metadata(&root).is_ok() {
                all.dispose();
                return Err(memory_error(format!(
                    "something already exists at the memory store's path {} (memory_store_id={store_id}); \
                     it must not exist when the session starts",
                    root.display()
                )));
            }
            let opened = Folder::create_within(&root, &base).map_err(|e| {
                Error::io(
                    format!("creating the memory store's folder {}", root.display()),
                    e,
                )
            });
            let folder = match opened {
                Ok(f) => f,
                Err(e) => {
                    // what was made of it, while it still leads inside
                    if root.parent().is_some_and(|p| resolves_within(p, &base))
                        && !std::fs::symlink_metadata(&root).is_ok_and(|m| m.is_symlink())
                    {
                        let _ = std::fs::remove_dir_all(&root);
                    }
                    all.dispose();
                    return Err(e);
                }
            };
            let mut store = Store {
                id: store_id.clone(),
                folder,
                base: base.clone(),
                read_only: resource.access == Some(MemoryStoreResourceAccess::ReadOnly),
                mount_path: resource.mount_path.clone().filter(|m| !m.is_empty()),
                baseline: BTreeMap::new(),
                refused: BTreeMap::new(),
                pending_deletes: BTreeMap::new(),
                sent: BTreeMap::new(),
                ids: BTreeMap::new(),
                to_restore: BTreeSet::new(),
            };
            let pulled = all.stamp_and_pull(&mut store, Deadline::never(), stop);
            all.stores.push(store);
            if stop() {
                log::info!("stop signalled while the memory stores were downloaded; removing them memory_store_id={store_id}");
                all.dispose();
                return Ok(None);
            }
            if let Err(e) = pulled {
                all.dispose();
                return Err(memory_error(format!(
                    "failed to download memory store memory_store_id={store_id}: {e}"
                )));
            }
            let s = all
                .stores
                .last()
                .map(|s| (s.baseline.len(), s.folder.root()));
            if let Some((n, root)) = s {
                log::info!(
                    "downloaded {n} memories memory_store_id={store_id} -> {}",
                    root.display()
                );
            }
        }
        all.last_sync = Instant::now();
        Ok(Some(all))
    }

    /// Returns each store's `mount_path` and its folder (the file tools map the one to the other).
    pub fn mounts(&self) -> Vec<(String, PathBuf)> {
        self.stores
            .iter()
            .filter_map(|s| Some((s.mount_path.clone()?, s.folder.root().to_path_buf())))
            .collect()
    }

    /// Returns the folders of the stores attached read-only (the file tools refuse writes there).
    pub fn read_only_roots(&self) -> Vec<PathBuf> {
        self.stores
            .iter()
            .filter(|s| s.read_only)
            .map(|s| s.folder.root().to_path_buf())
            .collect()
    }

    /// One sync, if the interval has passed since the last; never fails.
    pub fn sync_if_due(&mut self) {
        if self.finished || self.last_sync.elapsed() < self.interval {
            return;
        }
        self.sync_all(false, Deadline::after(MEMORY_FLUSH_TIMEOUT));
    }

    /// Runs the session's last sync, once, at a clean end: deletes do not wait; bounded by
    /// `deadline`.
    pub fn finish(&mut self, deadline: Deadline) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.sync_all(true, deadline);
    }

    fn sync_all(&mut self, last: bool, deadline: Deadline) {
        for i in 0..self.stores.len() {
            let mut store = self.stores.remove(i);
            if let Err(e) = self.sync_store(&mut store, last, deadline) {
                log::warn!("memory sync failed memory_store_id={}: {e}", store.id);
            }
            self.stores.insert(i, store);
        }
        self.last_sync = Instant::now();
    }

    /// Uploads new and changed files, sends no delete and pulls nothing: the rescue pass of
    /// every end, bounded by `deadline`. Never fails.
    pub fn flush_writes(&mut self, deadline: Deadline) {
        self.finished = true;
        self.flush_all(deadline);
    }

    /// Runs the same upload when the session goes idle, while it may still go on; never fails.
    pub fn flush_idle(&mut self, deadline: Deadline) {
        if !self.finished {
            self.flush_all(deadline);
        }
    }

    fn flush_all(&mut self, deadline: Deadline) {
        for i in 0..self.stores.len() {
            let mut store = self.stores.remove(i);
            if let Err(e) = self.flush_store(&mut store, deadline) {
                log::warn!("memory flush failed memory_store_id={}: {e}", store.id);
            }
            self.stores.insert(i, store);
        }
    }

    /// Removes every store's folder, unless it holds files its marker does not vouch for.
    pub fn dispose(&mut self) {
        self.finished = true;
        for store in self.stores.drain(..) {
            let root = store.folder.root().to_path_buf();
            let keep = match scan(&store) {
                Ok(s) => !s.marker_ok && !s.files.is_empty(),
                Err(_) => false,
            };
            if keep {
                log::warn!(
                    "the marker of the memory store folder is gone or wrong; leaving it on disk root={} memory_store_id={}",
                    root.display(),
                    store.id
                );
                continue;
            }
            if !root
                .parent()
                .is_some_and(|p| resolves_within(p, &store.base))
            {
                log::warn!(
                    "not removing the memory store folder {}: it no longer leads inside the work directory",
                    root.display()
                );
                continue;
            }
            drop(store);
            if let Err(e) = std::fs::remove_dir_all(&root) {
                log::warn!(
                    "failed to remove the memory store folder {}: {e}",
                    root.display()
                );
            }
        }
    }

    /// The options of one memory call.
    pub(super) fn options(deadline: Deadline) -> RequestOptions {
        RequestOptions::new()
            .deadline(deadline)
            .header("x-stainless-helper", super::HELPER_WORKER)
    }

    /// The store's memories (not the folder markers of `memory_prefix`, not the marker
    /// path), by their relative path.
    pub(super) fn list(
        &self,
        store: &str,
        full: bool,
        deadline: Deadline,
    ) -> Result<BTreeMap<String, Memory>> {
        let params = MemoryListParams::default()
            .view(if full {
                MemoryView::Full
            } else {
                MemoryView::Basic
            })
            .limit(if full { 20 } else { 100 });
        let mut out = BTreeMap::new();
        self.each_page(store, params, deadline, &|| false, &mut |rel, m| {
            out.insert(rel, m);
        })?;
        Ok(out)
    }

    /// Lists a store one page at a time, each request bounded by `deadline` and by
    /// [`MEMORY_REQUEST_TIMEOUT`], handing each page's memories (by their relative path;
    /// not the folder markers, not the marker path) to `each` before the next page is asked
    /// for; ends early, without error, once `stop` says so.
    fn each_page(
        &self,
        store: &str,
        mut params: MemoryListParams,
        deadline: Deadline,
        stop: &dyn Fn() -> bool,
        each: &mut dyn FnMut(String, Memory),
    ) -> Result<()> {
        loop {
            if stop() {
                return Ok(());
            }
            let bound = deadline.min(Deadline::after(MEMORY_REQUEST_TIMEOUT));
            let page = self.client.memory_stores().memories().list_with(
                store,
                &params,
                &Self::options(bound),
            )?;
            for item in page.data {
                let MemoryListItem::Memory(m) = item else {
                    continue;
                };
                let Some(rel) = memory_rel(&m.path) else {
                    log::warn!(
                        "skipping a memory whose path leaves its folder path={:?} memory_store_id={store}",
                        m.path
                    );
                    continue;
                };
                if rel == MARKER_PATH {
                    log::warn!(
                        "the server listed the reserved marker path; skipping memory_store_id={store}"
                    );
                    continue;
                }
                each(rel, m);
            }
            match page.next_page.filter(|c| !c.is_empty()) {
                Some(cursor) => params = params.page(cursor),
                None => return Ok(()),
            }
        }
    }

    /// Writes the marker, then pulls every memory, page by page, until `stop` says so;
    /// clears what the syncs remember.
    pub(super) fn stamp_and_pull(
        &self,
        store: &mut Store,
        deadline: Deadline,
        stop: &dyn Fn() -> bool,
    ) -> Result<()> {
        store.baseline.clear();
        store.sent.clear();
        store.pending_deletes.clear();
        store.ids.clear();
        store.to_restore.clear();
        store
            .folder
            .put(Path::new(MARKER_PATH), marker(&store.id).as_bytes(), false)
            .map_err(|e| Error::io("writing the memory store's marker", e))?;
        let params = MemoryListParams::default().view(MemoryView::Full).limit(20);
        let id = store.id.clone();
        self.each_page(&id, params, deadline, stop, &mut |rel, m| {
            store.ids.insert(rel.clone(), m.id.clone());
            if write(store, &rel, m.content.as_deref().unwrap_or("")) {
                store.baseline.insert(rel, m.content_sha256);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_interval_under_the_minimum_is_refused() {
        assert!(MemoryOptions {
            interval: Some(Duration::from_secs(1)),
            deletions: MemoryDeleteMode::Enabled
        }
        .check()
        .is_err());
        assert!(MemoryOptions::default().check().is_ok());
    }
}
