//! Uploads of a memory store's files: one file's upload (an update with a `content_sha256`
//! precondition, or a create; an update whose memory is gone goes again as a create), what
//! its answer leaves (a refusal the server would repeat is remembered until the file
//! changes), and the push-only flush that ends every run: new and changed files only, 32 at
//! once, no delete, no pull; a file changed on the server too keeps the server's version.
//!
//! The file tools' writes to memory files, as the official worker 2.17 makes them: a `write`
//! or `edit` of a file in a store's folder is saved in the store first (an update with the
//! `content_sha256` precondition of the last synced version, or a create) and written to disk
//! only once the store took it; the agent is told, in words it can act on, when it did not.
//! And the paths missing after a call was stopped, recorded to be pulled again rather than
//! deleted (`sync` does the pulling).

use super::folder::{marker, path_of, scan, sha256_hex, Store, MARKER_PATH};
use super::SessionMemoryStores;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::types::{Memory, MemoryCreateParams, MemoryUpdateParams, PreconditionParam};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// How many files one store's flush uploads at once: enough to clear a store's 2,000
/// memories within the flush's bound at a few hundred milliseconds an upload.
const UPLOAD_WIDTH: usize = 32;

impl SessionMemoryStores {
    /// Pushes one file; `None` keeps the old baseline so that the next sync tries again.
    pub(super) fn upload(
        &self,
        store: &mut Store,
        rel: &str,
        existing: Option<&Memory>,
        deadline: Deadline,
    ) -> Option<String> {
        let (sha, content) = read_upload(store, rel)?;
        store.sent.insert(rel.to_string(), sha.clone());
        let existing = existing.map(|m| (m.id.as_str(), m.content_sha256.as_str()));
        let (sent, as_update) = self.send(&store.id, rel, content, existing, deadline);
        settle_upload(store, rel, sha, as_update, sent)
    }

    /// Sends one file's content: an update with a `content_sha256` precondition, or a create;
    /// an update whose memory was deleted since the listing goes again as a create (the file
    /// is the only copy now). `existing` is the memory's id and the sha it is expected to
    /// hold. Also says whether the answer is an update's.
    pub(super) fn send(
        &self,
        store_id: &str,
        rel: &str,
        content: String,
        existing: Option<(&str, &str)>,
        deadline: Deadline,
    ) -> (Result<Memory>, bool) {
        let memories = self.client.memory_stores().memories();
        let options = Self::options(deadline);
        if let Some((id, sha)) = existing {
            let updated = memories.update_with(
                store_id,
                id,
                &Default::default(),
                &MemoryUpdateParams::new()
                    .content(content.clone())
                    .precondition(PreconditionParam::new().content_sha256(sha.to_string())),
                &options,
            );
            match updated {
                Err(e) if e.status() == Some(404) => {}
                other => return (other, true),
            }
        }
        let created = memories.create_with(
            store_id,
            &Default::default(),
            &MemoryCreateParams::new(format!("/{rel}")).content(content),
            &options,
        );
        (created, false)
    }

    /// The push-only pass: uploads what changed on disk, nothing else.
    pub(super) fn flush_store(&self, store: &mut Store, deadline: Deadline) -> Result<()> {
        if store.read_only {
            return Ok(());
        }
        let s = scan(store).map_err(|e| Error::io("scanning the memory store's folder", e))?;
        if !s.marker_ok {
            log::warn!(
                "the marker file is gone or names another store; not uploading anything from root={} memory_store_id={}",
                store.folder.root().display(),
                store.id
            );
            return Ok(());
        }
        let dirty: Vec<(String, String)> = s
            .files
            .into_iter()
            .filter(|(rel, sha)| {
                (store.baseline.get(rel) != Some(sha) || store.sent.contains_key(rel))
                    && store.refused.get(rel) != Some(sha)
            })
            .collect();
        if dirty.is_empty() {
            return Ok(());
        }
        let remote = self.list(&store.id, false, deadline)?;
        settle_sent(store, &remote);
        // what to send: read here, sent `UPLOAD_WIDTH` at a time, settled here again
        let mut jobs: Vec<(String, String, String, Option<Memory>)> = Vec::new();
        for (rel, local_sha) in &dirty {
            let base = store.baseline.get(rel).cloned();
            let existing = remote.get(rel);
            if Some(local_sha) == base.as_ref() {
                continue;
            }
            if let Some(m) = existing {
                if m.content_sha256 == *local_sha {
                    store.baseline.insert(rel.clone(), local_sha.clone());
                    continue;
                }
                if Some(&m.content_sha256) != base.as_ref() {
                    log::warn!("memory changed both locally and remotely; the flush leaves the remote version path={rel} memory_store_id={}", store.id);
                    continue;
                }
            }
            if let Some((sha, content)) = read_upload(store, rel) {
                store.sent.insert(rel.clone(), sha.clone());
                jobs.push((rel.clone(), sha, content, existing.cloned()));
            }
        }
        let sent = parallel(&jobs, UPLOAD_WIDTH, |(rel, _, content, existing)| {
            if deadline.is_expired() {
                return None;
            }
            let existing = existing
                .as_ref()
                .map(|m| (m.id.as_str(), m.content_sha256.as_str()));
            Some(self.send(&store.id, rel, content.clone(), existing, deadline))
        });
        let mut unsent = 0;
        for ((rel, sha, _, _), result) in jobs.into_iter().zip(sent) {
            match result.flatten() {
                Some((result, as_update)) => {
                    if let Some(sha) = settle_upload(store, &rel, sha, as_update, result) {
                        store.baseline.insert(rel, sha);
                    } else if deadline.is_expired() {
                        unsent += 1;
                    }
                }
                None => unsent += 1,
            }
        }
        if unsent > 0 {
            log::warn!(
                "memory flush cut off; {unsent} of {} changed files were not uploaded memory_store_id={}",
                dirty.len(),
                store.id
            );
        }
        Ok(())
    }
}

/// A file read for upload: its sha and content; `None` when it is gone or unreadable, or
/// not UTF-8 (then refused until it changes).
fn read_upload(store: &mut Store, rel: &str) -> Option<(String, String)> {
    let data = match store.folder.get(&path_of(rel)) {
        Ok(Some(d)) => d,
        Ok(None) => return None,
        Err(e) => {
            log::warn!(
                "failed to read memory file path={rel} memory_store_id={}: {e}",
                store.id
            );
            return None;
        }
    };
    let sha = sha256_hex(&data);
    match String::from_utf8(data) {
        Ok(content) => Some((sha, content)),
        Err(_) => {
            if store.refused.insert(rel.to_string(), sha).is_none() {
                log::warn!("the memory file is not UTF-8, so it stays un-synced until it changes path={rel} memory_store_id={}", store.id);
            }
            None
        }
    }
}

/// What an upload's answer leaves: the memory's new sha, or `None` (the old baseline stays,
/// and a refusal the server would repeat is remembered for this content).
fn settle_upload(
    store: &mut Store,
    rel: &str,
    sha: String,
    as_update: bool,
    sent: Result<Memory>,
) -> Option<String> {
    match sent {
        Ok(item) => {
            store.refused.remove(rel);
            store.sent.remove(rel);
            store.ids.insert(rel.to_string(), item.id);
            Some(item.content_sha256)
        }
        Err(e) if as_update && e.status() == Some(409) => {
            log::warn!("memory changed both locally and remotely; the upload was refused and the local edit loses path={rel} memory_store_id={}", store.id);
            None
        }
        Err(e) if matches!(e.status(), Some(400 | 413)) => {
            store.refused.insert(rel.to_string(), sha);
            log::warn!("the server refused this memory file, so it stays un-synced until it changes path={rel} memory_store_id={}: {e}", store.id);
            None
        }
        Err(e) => {
            log::warn!(
                "failed to upload memory path={rel} memory_store_id={}: {e}",
                store.id
            );
            None
        }
    }
}

/// Runs `f` on every item, at most `width` at once on threads of their own; each result in
/// its item's place (`None` if its thread could not be started).
pub(super) fn parallel<T: Sync, R: Send>(
    items: &[T],
    width: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    if items.len() <= 1 || width <= 1 {
        return items.iter().map(|i| Some(f(i))).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..width.min(items.len()) {
            let work = || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { return };
                let r = f(item);
                *results[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
            };
            if std::thread::Builder::new()
                .spawn_scoped(scope, work)
                .is_err()
            {
                break;
            }
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect()
}

/// Uploads whose answer never came, settled against a fresh listing: a memory holding
/// exactly the sha sent is that upload.
pub(super) fn settle_sent(store: &mut Store, remote: &BTreeMap<String, Memory>) {
    store.ids = remote
        .iter()
        .map(|(rel, m)| (rel.clone(), m.id.clone()))
        .collect();
    for (rel, sha) in std::mem::take(&mut store.sent) {
        if remote.get(&rel).is_some_and(|m| m.content_sha256 == sha) {
            store.baseline.insert(rel, sha);
        }
    }
}

/// The start of the message of a change the store did not take.
pub(crate) const NOT_SAVED: &str = "not saved to memory, so the change was not made";
/// The start of the message of a change whose fate is unknown.
pub(crate) const NOT_CONFIRMED: &str =
    "the memory store did not confirm the change, so read the file again before you retry";

impl SessionMemoryStores {
    /// Saves `content` in the store whose folder holds `path`, then writes the file, by
    /// `deadline`. `Ok(false)` (nothing done) when `path` is in no store's folder;
    /// `replacing` is the text the file must still hold (an edit's). The error is the
    /// agent's to read.
    pub fn write_file(
        &mut self,
        path: &Path,
        content: &str,
        replacing: Option<&str>,
        deadline: Deadline,
    ) -> Result<bool, String> {
        let Some(i) = self
            .stores
            .iter()
            .position(|s| path.starts_with(s.folder.root()))
        else {
            return Ok(false);
        };
        let mut store = self.stores.remove(i);
        let saved = self.save(&mut store, path, content, replacing, deadline);
        self.stores.insert(i, store);
        saved.map(|()| true)
    }

    fn save(
        &self,
        store: &mut Store,
        path: &Path,
        content: &str,
        replacing: Option<&str>,
        deadline: Deadline,
    ) -> Result<(), String> {
        let rel =
            relative(store, path).ok_or_else(|| format!("{NOT_SAVED}: the path cannot sync."))?;
        if rel == MARKER_PATH {
            return Err(format!(
                "{NOT_SAVED}: this file marks the folder as a memory store."
            ));
        }
        if rel.contains('\\') {
            return Err(format!("{NOT_SAVED}: a path with a backslash cannot sync."));
        }
        let marker_sha = store
            .folder
            .get(Path::new(MARKER_PATH))
            .ok()
            .flatten()
            .map(|b| sha256_hex(&b));
        if marker_sha != Some(sha256_hex(marker(&store.id).as_bytes())) {
            return Err(format!(
                "{NOT_SAVED}: the folder cannot sync without its original {MARKER_PATH} file."
            ));
        }
        let on_disk = match store.folder.get(&path_of(&rel)) {
            Ok(bytes) => bytes.map(|b| sha256_hex(&b)),
            Err(e) => return Err(format!("{NOT_SAVED}: the path {}", io_reason(&e))),
        };
        if replacing.is_some_and(|r| on_disk != Some(sha256_hex(r.as_bytes()))) {
            return Err(format!(
                "{NOT_SAVED}: the file changed in the meantime. Read it again before you retry."
            ));
        }
        if store.sent.contains_key(&rel) {
            if let Ok(remote) = self.list(&store.id, false, deadline) {
                settle_sent(store, &remote);
            }
        }
        let existing = match (store.baseline.get(&rel), store.ids.get(&rel)) {
            (Some(sha), Some(id)) => Some((id.clone(), sha.clone())),
            _ => None,
        };
        let sha = sha256_hex(content.as_bytes());
        let existing = existing
            .as_ref()
            .map(|(id, sha)| (id.as_str(), sha.as_str()));
        let (sent, _) = self.send(&store.id, &rel, content.to_string(), existing, deadline);
        let saved = match sent {
            Ok(item) => {
                store.ids.insert(rel.clone(), item.id);
                item.content_sha256
            }
            Err(e) if e.status() == Some(409) => {
                // the retry of an upload that was saved gets a 409 too
                let listed = self
                    .list(&store.id, false, deadline)
                    .ok()
                    .and_then(|remote| {
                        settle_sent(store, &remote);
                        remote.get(&rel).cloned()
                    });
                match listed {
                    Some(m) if m.content_sha256 == sha => m.content_sha256,
                    _ => {
                        // the store's version comes down for the agent's next read
                        if let Err(e) = self.sync_store(store, false, deadline) {
                            log::warn!("memory sync failed memory_store_id={}: {e}", store.id);
                        }
                        return Err(format!(
                            "{NOT_SAVED}: {}. Read the file again before you retry.",
                            api_message(&e).trim_end_matches('.')
                        ));
                    }
                }
            }
            Err(e) => {
                // Whatever the store did, the file still holds the last synced version: if
                // the store saved this after all, the next sync pulls it.
                let lead = match e.status() {
                    Some(s) if s < 500 => NOT_SAVED,
                    _ => NOT_CONFIRMED,
                };
                return Err(format!("{lead}: {}", api_message(&e)));
            }
        };
        let executable = is_executable(path);
        if let Err(e) = store
            .folder
            .put(&path_of(&rel), content.as_bytes(), executable)
        {
            // the baseline stays behind, so the next sync pulls what the store saved
            log::warn!(
                "the memory store saved a file that could not be written path={rel} memory_store_id={}: {e}",
                store.id
            );
            return Err("the memory store saved this, but the file could not be written.".into());
        }
        store.baseline.insert(rel, saved);
        Ok(())
    }

    /// Records the files missing now, of those synced or sent, to be pulled again instead of
    /// deleted: a call that was stopped can have moved them away and not put them back.
    pub fn restore_missing(&mut self) {
        for store in &mut self.stores {
            let local = scan(store).map(|s| s.files).unwrap_or_default();
            let missing: Vec<String> = store
                .baseline
                .keys()
                .chain(store.sent.keys())
                .filter(|rel| !local.contains_key(*rel))
                .cloned()
                .collect();
            store.to_restore.extend(missing);
        }
    }
}

/// `path` below the store's folder as a memory's relative path (`/`-separated), if it is one.
fn relative(store: &Store, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(store.folder.root()).ok()?;
    let parts: Option<Vec<&str>> = rel
        .components()
        .map(|c| match c {
            std::path::Component::Normal(p) => p.to_str(),
            _ => None,
        })
        .collect();
    let parts = parts?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The API's own message of an error, else the error as a sentence.
fn api_message(e: &Error) -> String {
    match e {
        Error::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    crate::toolset::fs_reason(e)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    false
}
