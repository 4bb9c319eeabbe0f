//! The file tools' writes to memory files, as the official worker 2.17 makes them: a `write`
//! or `edit` of a file in a store's folder is saved in the store first (an update with the
//! `content_sha256` precondition of the last synced version, or a create) and written to disk
//! only once the store took it; the agent is told, in words it can act on, when it did not.
//! And the paths missing after a call was stopped, recorded to be pulled again rather than
//! deleted (`memory_sync` does the pulling).

use super::memories::{SessionMemoryStores, Store, MARKER_PATH};
use super::memory_folder::{marker, scan, sha256_hex};
use super::memory_sync::{path_of, settle_sent};
use crate::deadline::Deadline;
use crate::error::Error;
use std::path::Path;

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
