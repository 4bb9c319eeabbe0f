//! A memory store's folder on disk: where it goes below the work directory, the marker that
//! vouches for it, a memory's path as a file in it, and one look at what it holds (each
//! file's sha). The layout itself is described in the parent module; and the
//! store as the syncs know it ([`Store`]).

use crate::environments::folder::{one_component, rel_path, relative_parts, Folder};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The marker at the root of every store's folder; never synced.
pub const MARKER_PATH: &str = ".anthropic-memory-store";

/// One attached store on disk, with what the syncs remember of it.
pub(crate) struct Store {
    pub id: String,
    pub folder: Folder,
    /// The work directory, canonical: the folder must stay inside it.
    pub base: PathBuf,
    pub read_only: bool,
    /// The absolute path the agent is told the store is at, when the session gives one.
    pub mount_path: Option<String>,
    /// Path -> content sha as of the last download or successful sync.
    pub baseline: BTreeMap<String, String>,
    /// Path -> sha the server refused; tried again only once the file changes.
    pub refused: BTreeMap<String, String>,
    /// Path -> when it was first seen missing; its server delete waits.
    pub pending_deletes: BTreeMap<String, Instant>,
    /// Path -> sha of content sent whose answer never came.
    pub sent: BTreeMap<String, String>,
    /// Path -> the memory's id, as of the last listing or upload.
    pub ids: BTreeMap<String, String>,
    /// Paths missing after a call was stopped: pulled again, never deleted.
    pub to_restore: BTreeSet<String>,
}

/// The error of a store that cannot be mounted.
pub(crate) fn memory_error(message: String) -> Error {
    Error::invalid_input("memory_store", message)
}

/// The file of a memory path, relative to its store's folder.
pub(super) fn path_of(rel: &str) -> PathBuf {
    rel.split('/').collect()
}

/// The marker's content for a store.
pub(super) fn marker(store_id: &str) -> String {
    format!("version 1\n{store_id}")
}

/// Where a store's folder goes: its `mount_path` below the work directory, else
/// `memory/<name or id>`; a `mount_path` that is not a clean absolute path is refused.
pub(super) fn store_root(
    workdir: &Path,
    mount_path: Option<&str>,
    name: Option<&str>,
    store_id: &str,
) -> Result<PathBuf> {
    if let Some(mount) = mount_path.filter(|m| !m.is_empty()) {
        let parts = mount
            .strip_prefix('/')
            .ok_or_else(|| "is not absolute".to_string())
            .and_then(relative_parts)
            .ok()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                memory_error(format!(
                    "memory store mount_path is not a clean absolute path: {mount:?} (memory_store_id={store_id})"
                ))
            })?;
        return Ok(workdir.join(rel_path(&parts)));
    }
    let name = name.and_then(one_component).unwrap_or(store_id);
    Ok(workdir.join("memory").join(name))
}

/// A memory's path as a path in its folder (`/notes/a.md` -> `notes/a.md`), or `None` when
/// it would leave the folder.
pub(super) fn memory_rel(path: &str) -> Option<String> {
    let parts = relative_parts(path.trim_start_matches('/')).ok()?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Writes a memory's content to its file; `false` (and a warning) when that fails.
pub(super) fn write(store: &Store, rel: &str, content: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    match store
        .folder
        .put(&rel_path(&parts), content.as_bytes(), false)
    {
        Ok(()) => true,
        Err(e) => {
            log::warn!(
                "failed to write memory path={rel} memory_store_id={}: {e}",
                store.id
            );
            false
        }
    }
}

/// The SHA-256 of bytes, as 64 lower-case hex digits.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One look at a store's folder: its files' shas, the marker taken out and checked.
pub(super) struct Scan {
    pub files: BTreeMap<String, String>,
    pub marker_ok: bool,
}

pub(super) fn scan(store: &Store) -> std::io::Result<Scan> {
    let mut files = store
        .folder
        .files(|_, rel| Ok(store.folder.get(rel).ok().flatten().map(|b| sha256_hex(&b))))?;
    let marker_sha = files.remove(MARKER_PATH);
    Ok(Scan {
        files,
        marker_ok: marker_sha == Some(sha256_hex(marker(&store.id).as_bytes())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_lands_below_the_work_directory() {
        let w = Path::new("/w");
        let at = |m: Option<&str>, n: Option<&str>| store_root(w, m, n, "memstore_1");
        assert_eq!(
            at(Some("/mnt/memory/notes"), None).unwrap(),
            Path::new("/w/mnt/memory/notes")
        );
        assert_eq!(
            at(None, Some("prefs")).unwrap(),
            Path::new("/w/memory/prefs")
        );
        assert_eq!(
            at(None, Some("..")).unwrap(),
            Path::new("/w/memory/memstore_1")
        );
        assert_eq!(at(None, None).unwrap(), Path::new("/w/memory/memstore_1"));
        for bad in ["mnt/x", "/mnt/../../etc", "/"] {
            assert!(at(Some(bad), None).is_err(), "{bad}");
        }
        assert_eq!(memory_rel("/notes/a.md").as_deref(), Some("notes/a.md"));
        assert_eq!(memory_rel("/../a.md"), None);
    }
}
