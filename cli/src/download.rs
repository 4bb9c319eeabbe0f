//! Writing downloaded files safely. A name from the server is used only when it is a plain file
//! name (else one is made from the file's id); an existing file is never overwritten without
//! `--force`; a symlink is never written through; the bytes go to a temporary file in the same
//! folder that is renamed into place, so a failed download leaves what was there intact, and
//! Ctrl-C leaves no temporary file ([`remove_partial`]).

use crate::exit::{Exit, Failure};
use managed_agents::Response;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What to do when the name is taken.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse (exit 2), naming `--force`.
    Refuse,
    /// Replace it (the link itself, for a symlink).
    Replace,
    /// Pick another name: `name-2.ext`, `name-3.ext`, ...
    Rename,
}

/// Returns `name` when it is a plain file name: one component, not `.` or `..`, no control characters.
pub fn plain_name(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
        && name.len() <= 255;
    ok.then_some(name)
}

/// Chooses the name to save a server's file under: its own when plain, else one made from its id; a
/// name that would be hidden (`.bashrc`) gets a `_` before it, so a download never lands
/// unseen among a folder's settings.
pub fn local_name(server_name: &str, id: &str) -> String {
    match plain_name(server_name) {
        Some(n) if n.starts_with('.') => {
            let shown = format!("_{n}");
            log::warn!("the server's file name {n:?} would be hidden; saving as {shown:?}");
            if shown.len() <= 255 {
                shown
            } else {
                from_id(server_name, id)
            }
        }
        Some(n) => n.to_string(),
        None => from_id(server_name, id),
    }
}

fn from_id(server_name: &str, id: &str) -> String {
    let safe: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    log::warn!(
        "the server's file name {:?} is not a plain file name; saving as {safe:?}",
        server_name
    );
    if safe.is_empty() {
        "download".into()
    } else {
        safe
    }
}

/// The temporary files being written now, removed on Ctrl-C ([`remove_partial`]).
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn partial() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PARTIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes the temporary files of the downloads under way (the program is being stopped).
pub fn remove_partial() {
    for tmp in partial().drain(..) {
        let _ = std::fs::remove_file(tmp);
    }
}

/// Removes a temporary file that is done with.
fn forget(tmp: &Path) {
    partial().retain(|p| p != tmp);
    let _ = std::fs::remove_file(tmp);
}

fn io_failure(what: &str, path: &Path, e: std::io::Error) -> Failure {
    Failure(Exit::Usage, format!("{what} {}: {e}", path.display()))
}

/// Creates a temporary file beside the target, anew (never an existing file or link), named
/// after the start of `name` so it stays short enough for any name the target may have.
fn temporary(dir: &Path, name: &str) -> Result<(PathBuf, File), Failure> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut end = name.len().min(100);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let start = &name[..end];
    loop {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{start}.{}.{n}.part", std::process::id()));
        // registered before it exists, so Ctrl-C from now on removes it
        let mut registered = partial();
        match File::options().write(true).create_new(true).open(&tmp) {
            Ok(f) => {
                registered.push(tmp.clone());
                return Ok((tmp, f));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_failure("cannot write in", dir, e)),
        }
    }
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Makes `stem-N.ext` for N = 2, 3, ...
fn numbered(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{n}.{ext}"),
        _ => format!("{name}-{n}"),
    }
}

/// Checks before downloading that `dir/name` may be written.
pub fn check(dir: &Path, name: &str, existing: Existing) -> Result<(), Failure> {
    let path = dir.join(name);
    if existing == Existing::Refuse && exists(&path) {
        return Err(Failure(
            Exit::Usage,
            format!("{} exists; give --force to overwrite it", path.display()),
        ));
    }
    Ok(())
}

/// Streams `body` into `dir/name` as the rules above say; returns the path and the byte count.
pub fn save(
    body: Response,
    dir: &Path,
    name: &str,
    existing: Existing,
) -> Result<(PathBuf, u64), Failure> {
    check(dir, name, existing)?;
    let (tmp, mut file) = temporary(dir, name)?;
    let written = body
        .write_to(&mut file)
        .map_err(Failure::from)
        .and_then(|n| {
            file.flush()
                .and_then(|()| file.sync_all())
                .map(|()| n)
                .map_err(|e| io_failure("cannot write", &tmp, e))
        });
    drop(file);
    let n = match written {
        Ok(n) => n,
        Err(e) => {
            forget(&tmp);
            return Err(e);
        }
    };
    let placed = place(&tmp, dir, name, existing);
    forget(&tmp);
    placed.map(|p| (p, n))
}

/// Renames where the file system has no hard links, after checking that nothing has the
/// name (not atomic, but never over a file that was there before the check).
fn no_clobber_rename(tmp: &Path, path: &Path, link_error: std::io::Error) -> std::io::Result<()> {
    if link_error.kind() == std::io::ErrorKind::AlreadyExists {
        return Err(link_error);
    }
    if exists(path) {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    std::fs::rename(tmp, path)
}

/// Moves the finished temporary file to its name.
fn place(tmp: &Path, dir: &Path, name: &str, existing: Existing) -> Result<PathBuf, Failure> {
    let mut candidate = name.to_string();
    let mut n = 1;
    loop {
        n += 1;
        let path = dir.join(&candidate);
        let result = if existing == Existing::Replace {
            // rename replaces a symlink itself, never what it points to
            std::fs::rename(tmp, &path)
        } else {
            // a hard link never replaces anything: taken names fail atomically
            std::fs::hard_link(tmp, &path).or_else(|e| no_clobber_rename(tmp, &path, e))
        };
        match result {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match existing {
                Existing::Rename => candidate = numbered(name, n),
                _ => {
                    return Err(check(dir, name, Existing::Refuse)
                        .err()
                        .unwrap_or_else(|| io_failure("cannot write", &path, e)))
                }
            },
            Err(e) => return Err(io_failure("cannot write", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_pass() {
        for bad in ["", ".", "..", "../x", "/etc/passwd", "a/b", "a\\b", "x\ny"] {
            assert_eq!(plain_name(bad), None, "{bad:?}");
        }
        for good in ["out.txt", ".bashrc", "a b.md", "..x"] {
            assert_eq!(plain_name(good), Some(good));
        }
        assert_eq!(local_name("../x", "file_1/.."), "file_1");
        assert_eq!(local_name(".bashrc", "file_1"), "_.bashrc");
        assert_eq!(numbered("out.txt", 2), "out-2.txt");
        assert_eq!(numbered(".bashrc", 3), ".bashrc-3");
    }
}
