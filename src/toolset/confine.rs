//! Confinement of the file tools' paths: resolve a path the agent gave to a canonical path
//! inside a permitted root (the work directory or another allowed root), and hand out the
//! root's directory handle so the operation itself runs beneath it.
//!
//! Resolving follows the official toolsets: the path is made absolute against the work
//! directory, `.` and `..` are collapsed lexically, then every symbolic link is followed —
//! through the longest existing prefix by the operating system, then by hand through a
//! dangling link met on the way (at most 40 hops) — keeping the components that do not exist
//! yet as spelled. The result is checked component by component against the roots. The
//! caller then opens the path relative to the root's handle (`cap-std`), which refuses any
//! step out of it, so a component swapped for a symbolic link after the check cannot lead
//! the operation outside.

use super::{fs_reason, AgentToolContext};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The most symbolic links followed by hand while resolving one path.
const MAX_SYMLINK_HOPS: usize = 40;

/// A permitted root: its canonical path and a handle opened on it.
pub(crate) struct Root {
    path: PathBuf,
    dir: Dir,
}

/// The permitted roots (the work directory first), the read-only ones, and the mounts (an
/// absolute path, normalized, and the directory it stands for).
pub(crate) struct Roots {
    roots: Vec<Root>,
    read_only: Vec<PathBuf>,
    mounts: Vec<(PathBuf, PathBuf)>,
}

/// A path resolved inside a root.
pub(crate) struct Resolved<'a> {
    /// The canonical absolute path.
    pub path: PathBuf,
    root: &'a Root,
    rel: PathBuf,
}

impl Resolved<'_> {
    /// Returns the handle of the root the path is in.
    pub fn dir(&self) -> &Dir {
        &self.root.dir
    }

    /// Returns the path relative to [`dir`](Self::dir) (`.` for the root itself).
    pub fn rel(&self) -> &Path {
        if self.rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.rel
        }
    }
}

impl Roots {
    /// Opens the work directory and the allowed roots of `ctx`.
    pub fn open(ctx: &AgentToolContext) -> io::Result<Roots> {
        let mut roots = Vec::new();
        for dir in std::iter::once(&ctx.workdir).chain(&ctx.allowed_roots) {
            let path = std::fs::canonicalize(dir).map_err(|e| {
                io::Error::new(e.kind(), format!("tool root {}: {e}", dir.display()))
            })?;
            let handle = Dir::open_ambient_dir(&path, ambient_authority())?;
            roots.push(Root { path, dir: handle });
        }
        let read_only = ctx
            .read_only_roots
            .iter()
            .map(|r| canonicalize(&absolute(r)).unwrap_or_else(|_| normalize(&absolute(r))))
            .collect();
        let mounts = ctx
            .mounts
            .iter()
            .filter(|(m, _)| m.is_absolute())
            .map(|(m, dir)| (normalize(m), absolute(dir)))
            .collect();
        Ok(Roots {
            roots,
            read_only,
            mounts,
        })
    }

    /// Returns the work directory, canonical.
    pub fn workdir(&self) -> &Path {
        &self.roots[0].path
    }

    /// `p` (relative to the work directory, or absolute) resolved inside a root, or the
    /// reason it is refused.
    pub fn resolve(&self, p: &str) -> Result<Resolved<'_>, String> {
        let given = Path::new(p);
        let full = if given.is_absolute() {
            self.unmount(given)
        } else {
            self.workdir().join(given)
        };
        let path =
            canonicalize(&full).map_err(|e| format!("path {}: {}", quoted(p), fs_reason(&e)))?;
        match self.root_of(&path) {
            Some((root, rel)) => Ok(Resolved { path, root, rel }),
            None if self.roots.len() > 1 => Err(format!(
                "path {} is outside the session's working directory and its other permitted directories",
                quoted(p)
            )),
            None => Err(format!(
                "path {} is outside the session's working directory",
                quoted(p)
            )),
        }
    }

    /// An absolute path under a mount (`.` and `..` collapsed first, so one that climbs out
    /// of the mount is not under it) as the path in the mount's directory; any other as it is.
    fn unmount(&self, given: &Path) -> PathBuf {
        let lexical = normalize(given);
        self.mounts
            .iter()
            .filter_map(|(mount, dir)| {
                let rest = lexical.strip_prefix(mount).ok()?;
                Some((mount.components().count(), dir.join(rest)))
            })
            // the deepest mount wins when one is inside another
            .max_by_key(|(depth, _)| *depth)
            .map_or_else(|| given.to_path_buf(), |(_, mapped)| mapped)
    }

    /// The root a canonical path is in, and the path relative to it.
    fn root_of(&self, path: &Path) -> Option<(&Root, PathBuf)> {
        self.roots.iter().find_map(|root| {
            path.strip_prefix(&root.path)
                .ok()
                .map(|rel| (root, rel.to_path_buf()))
        })
    }

    /// Returns the read-only root a canonical path is in, if any.
    pub fn read_only_root_of(&self, path: &Path) -> Option<&Path> {
        self.read_only
            .iter()
            .find(|r| path.starts_with(r))
            .map(PathBuf::as_path)
    }
}

/// Whether `path`, with every symbolic link followed, lies within `root` (canonical). A path
/// that cannot be resolved is not.
pub(crate) fn resolves_within(path: &Path, root: &Path) -> bool {
    canonicalize(path).is_ok_and(|p| p.starts_with(root))
}

/// `p` in quotes as the official toolset words it: single quotes, or double quotes when `p`
/// holds a single quote and no double one; control characters escaped.
fn quoted(p: &str) -> String {
    let quote = if p.contains('\'') && !p.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in p.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `path` with `.` removed and `..` taking away the component before it (never above the
/// root), without looking at the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // `pop` stops at the root: "/.." is "/".
                if out.file_name().is_some() {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn symlink_loop() -> io::Error {
    #[cfg(unix)]
    {
        io::Error::from_raw_os_error(rustix::io::Errno::LOOP.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        io::Error::other("too many levels of symbolic links")
    }
}

/// The absolute `path` with `.`/`..` collapsed and every symbolic link followed, the last one
/// too even when it leads nowhere; components that do not exist yet are kept as spelled. A
/// loop, an unreadable component or a missing one under a file is an error, never a partly
/// resolved path.
pub(crate) fn canonicalize(path: &Path) -> io::Result<PathBuf> {
    let mut prefix = normalize(path);
    let mut missing: Vec<OsString> = Vec::new();
    let mut hops = 0;
    loop {
        let unresolved = match std::fs::canonicalize(&prefix) {
            Ok(real) => return Ok(missing.iter().rev().fold(real, |p, c| p.join(c))),
            Err(e) if is_missing(&e) => e,
            Err(e) => return Err(e),
        };
        let is_symlink = match std::fs::symlink_metadata(&prefix) {
            Ok(m) => m.file_type().is_symlink(),
            Err(e) if is_missing(&e) => {
                let (Some(name), Some(parent)) = (prefix.file_name(), prefix.parent()) else {
                    return Err(e);
                };
                missing.push(name.to_os_string());
                prefix = parent.to_path_buf();
                continue;
            }
            Err(e) => return Err(e),
        };
        if !is_symlink {
            return Err(unresolved);
        }
        hops += 1;
        if hops > MAX_SYMLINK_HOPS {
            return Err(symlink_loop());
        }
        // A dangling link: follow it by hand, from its (resolved) parent directory.
        let target = std::fs::read_link(&prefix)?;
        let parent = match prefix.parent() {
            Some(parent) => std::fs::canonicalize(parent)?,
            None => PathBuf::from("/"),
        };
        let next = missing
            .drain(..)
            .rev()
            .fold(parent.join(target), |p, c| p.join(c));
        prefix = normalize(&next);
    }
}

#[cfg(test)]
mod tests {
    use super::{normalize, quoted};
    use std::path::Path;

    #[test]
    fn paths_are_quoted_as_the_official_toolset_quotes_them() {
        assert_eq!(quoted("../a b"), "'../a b'");
        assert_eq!(quoted("it's"), "\"it's\"");
        assert_eq!(quoted("both'\""), "'both\\'\"'");
        assert_eq!(quoted("back\\slash\n"), "'back\\\\slash\\n'");
        assert_eq!(quoted("nul\0"), "'nul\\x00'");
    }

    #[test]
    fn normalize_collapses_dots_and_stops_at_the_root() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/a/../../..")), Path::new("/"));
        assert_eq!(normalize(Path::new("/a/b/")), Path::new("/a/b"));
    }
}
