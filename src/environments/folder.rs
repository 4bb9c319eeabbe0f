//! A confined folder: the one place the worker writes a skill's files and a memory store's
//! files. A name from the network (an archive entry, a memory's path) becomes a relative path
//! only if it has no `..` component and is not absolute; every operation then runs beneath a
//! handle opened once on the folder (`cap-std`, as the toolset's confinement does), which
//! refuses any step out of it, so a symbolic link inside the folder cannot lead a write
//! outside. Listings skip symbolic links and never descend through them.

use crate::toolset::confine::resolves_within;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The components of `name` (`/` or `\` separated, `.` and empty ones dropped), or why it is
/// refused: an absolute path (a leading separator, a drive letter) or a `..` component.
pub(crate) fn relative_parts(name: &str) -> Result<Vec<&str>, String> {
    if name.starts_with(['/', '\\']) {
        return Err(format!("{name:?} is an absolute path"));
    }
    let mut parts = Vec::new();
    for (i, part) in name.split(['/', '\\']).enumerate() {
        match part {
            "" | "." => {}
            ".." => return Err(format!("{name:?} has a '..' component")),
            p if i == 0 && p.len() >= 2 && p.as_bytes()[1] == b':' => {
                return Err(format!("{name:?} is an absolute path"))
            }
            p if p.contains('\0') => return Err(format!("{name:?} holds a NUL character")),
            p => parts.push(p),
        }
    }
    Ok(parts)
}

/// The last path component of a name from the network (a skill's or a memory store's name),
/// trimmed, as a folder name; `None` when that leaves nothing usable (empty, `.`, `..`, a NUL
/// character).
pub(crate) fn one_component(name: &str) -> Option<&str> {
    let base = name.trim().rsplit(['/', '\\']).next().unwrap_or("");
    (!base.is_empty() && base != "." && base != ".." && !base.contains('\0')).then_some(base)
}

/// A folder the worker writes into, confined to its root.
pub(crate) struct Folder {
    root: PathBuf,
    dir: Dir,
}

impl Folder {
    /// Opens an existing directory.
    pub fn open(root: &Path) -> io::Result<Folder> {
        let dir = Dir::open_ambient_dir(root, ambient_authority())?;
        Ok(Folder {
            root: root.to_path_buf(),
            dir,
        })
    }

    /// Creates the directory `root` (and its parents) and opens it, if it resolves inside the
    /// canonical directory `base` with every symbolic link on the way followed (checked before
    /// and after creating it): a link that leads out refuses it.
    pub fn create_within(root: &Path, base: &Path) -> io::Result<Folder> {
        let check = || {
            if resolves_within(root, base) {
                Ok(())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("{} leads outside {}", root.display(), base.display()),
                ))
            }
        };
        check()?;
        std::fs::create_dir_all(root)?;
        check()?;
        Folder::open(root)
    }

    /// Returns the folder's path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the directory `rel` (and its parents) below the root.
    pub fn create_dir_all(&self, rel: &Path) -> io::Result<()> {
        if rel.as_os_str().is_empty() {
            return Ok(());
        }
        self.dir.create_dir_all(rel)
    }

    /// Writes `bytes` to the file `rel`, creating its parent directories: written to a
    /// temporary file beside it, then renamed over it, so a reader never sees half a file.
    /// `executable` gives it mode 0755 rather than 0644 (on Unix).
    pub fn put(&self, rel: &Path, bytes: &[u8], executable: bool) -> io::Result<()> {
        let name = rel
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let parent = rel.parent().unwrap_or(Path::new(""));
        self.create_dir_all(parent)?;
        let tmp = parent.join(format!(
            ".{}-{}.tmp",
            name.to_string_lossy().chars().take(40).collect::<String>(),
            super::random_suffix()
        ));
        let mut options = cap_std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let written = self.dir.open_with(&tmp, &options).and_then(|mut f| {
            f.write_all(bytes)?;
            set_mode(&f, executable)
        });
        let renamed = written.and_then(|()| self.dir.rename(&tmp, &self.dir, rel));
        if renamed.is_err() {
            let _ = self.dir.remove_file(&tmp);
        }
        renamed
    }

    /// Copies `reader` into the new file `rel` (its parents created); refused if it exists.
    pub fn create_from(
        &self,
        rel: &Path,
        reader: &mut impl Read,
        executable: bool,
    ) -> io::Result<()> {
        if let Some(parent) = rel.parent() {
            self.create_dir_all(parent)?;
        }
        let mut options = cap_std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let mut f = self.dir.open_with(rel, &options)?;
        io::copy(reader, &mut f)?;
        set_mode(&f, executable)
    }

    /// Returns the bytes of the regular file `rel`; `None` when there is none (a symbolic link or a
    /// directory there is refused).
    pub fn get(&self, rel: &Path) -> io::Result<Option<Vec<u8>>> {
        match self.dir.symlink_metadata(rel) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a regular file", rel.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
        match self.dir.read(rel) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes the file `rel`; a missing one is fine.
    pub fn remove_file(&self, rel: &Path) -> io::Result<()> {
        match self.dir.remove_file(rel) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Returns every regular file below the root, by its `/`-separated relative path, with its bytes
    /// read by `f`. Symbolic links are skipped, never followed.
    pub fn files<T>(
        &self,
        mut f: impl FnMut(&str, &Path) -> io::Result<Option<T>>,
    ) -> io::Result<BTreeMap<String, T>> {
        let mut out = BTreeMap::new();
        let mut pending = vec![PathBuf::new()];
        while let Some(rel) = pending.pop() {
            let entries = if rel.as_os_str().is_empty() {
                self.dir.entries()?
            } else {
                match self.dir.read_dir(&rel) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
            };
            for entry in entries {
                let entry = entry?;
                let kind = entry.file_type()?;
                let path = rel.join(entry.file_name());
                if kind.is_dir() {
                    pending.push(path);
                } else if kind.is_file() {
                    let Some(name) = path.to_str().map(|p| p.replace('\\', "/")) else {
                        log::warn!(
                            "skipping a file whose name is not UTF-8: {}",
                            path.display()
                        );
                        continue;
                    };
                    if let Some(v) = f(&name, &path)? {
                        out.insert(name, v);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The relative path of a checked name.
pub(crate) fn rel_path(parts: &[&str]) -> PathBuf {
    parts.iter().collect()
}

#[cfg(unix)]
fn set_mode(f: &cap_std::fs::File, executable: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    f.set_permissions(cap_std::fs::Permissions::from_std(
        std::fs::Permissions::from_mode(mode),
    ))
}

#[cfg(not(unix))]
fn set_mode(_: &cap_std::fs::File, _: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::relative_parts;

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        assert_eq!(relative_parts("a/./b//c").unwrap(), ["a", "b", "c"]);
        assert_eq!(relative_parts("a\\b").unwrap(), ["a", "b"]);
        assert!(relative_parts("./").unwrap().is_empty());
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "\\x",
            "C:/x",
            "c:x",
            "a/..",
            "a\0b",
        ] {
            assert!(relative_parts(bad).is_err(), "{bad}");
        }
    }
}
