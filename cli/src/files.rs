//! `files` (upload, and downloads kept to the folder asked for) and `skills` (a skill folder
//! uploaded with its relative paths).

use crate::cli::*;
use crate::download::{self, Existing};
use crate::resources::{list_all, show};
use crate::{exit, note, Failure};
use managed_agents::types::*;
use managed_agents::{Client, Multipart, UploadFile};
use std::path::{Path, PathBuf};

pub fn files(c: &Client, cmd: FilesCmd, quiet: bool) -> Result<u8, Failure> {
    let f = c.files();
    match cmd {
        FilesCmd::List { scope, list } => {
            let mut p = FileListParams::default();
            if let Some(s) = scope {
                p = FileListParams::scope(s);
            }
            if let Some(n) = list.limit {
                p = p.limit(i64::from(n));
            }
            list_all(f.list(&p))
        }
        FilesCmd::Get { id } => show(f.retrieve_metadata(&id)),
        FilesCmd::Upload { path, name } => {
            let file = if path == "-" {
                UploadFile::reader(name, std::io::stdin())
            } else {
                UploadFile::path(&path)?
            };
            show(f.upload(file))
        }
        FilesCmd::Download { id, out, force } => {
            let existing = if force {
                Existing::Replace
            } else {
                Existing::Refuse
            };
            if out.as_deref() == Some(Path::new("-")) {
                let mut stdout = Stdout(std::io::stdout().lock());
                f.download(&id)?.write_to(&mut stdout)?;
                return Ok(exit::OK);
            }
            // Ctrl-C: no temporary file is left behind
            let _ = ctrlc::set_handler(|| {
                download::remove_partial();
                note("\ninterrupted");
                std::process::exit(exit::INTERRUPTED.into());
            });
            let (dir, name) = match out {
                // a folder: the server's name inside it
                Some(p) if p.is_dir() => (p, None),
                // a folder that is not there yet (`out/`): made
                Some(p) if p.as_os_str().to_string_lossy().ends_with('/') => {
                    std::fs::create_dir_all(&p)
                        .map_err(|e| Failure(exit::USAGE, format!("--out {}: {e}", p.display())))?;
                    (p, None)
                }
                // a path the user chose: used as given
                Some(p) => {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .ok_or_else(|| {
                            Failure(
                                exit::USAGE,
                                format!("--out {}: not a file name", p.display()),
                            )
                        })?;
                    let dir = match p.parent() {
                        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                        _ => PathBuf::from("."),
                    };
                    (dir, Some(name))
                }
                None => (PathBuf::from("."), None),
            };
            let name = match name {
                Some(n) => n,
                None => {
                    let meta = f.retrieve_metadata(&id)?;
                    download::local_name(&meta.filename, &meta.id)
                }
            };
            download::check(&dir, &name, existing)?;
            let (path, n) = download::save(f.download(&id)?, &dir, &name, existing)?;
            if !quiet {
                note(&format!("{n} bytes to {}", path.display()));
            }
            Ok(exit::OK)
        }
        FilesCmd::Delete { id } => show(f.delete(&id)),
    }
}

/// Standard output for a download: a write that fails ends the program as every output does
/// (141 for a closed pipe, else exit 1), not as a bad path.
struct Stdout<W>(W);

impl<W: std::io::Write> std::io::Write for Stdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(|e| crate::stdout_failed(&e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(|e| crate::stdout_failed(&e))
    }
}

/// Every regular file under `root`, with its path relative to `root`'s parent (so the
/// folder's name leads: `my-skill/SKILL.md`). Symlinks are refused, not followed.
fn folder_files(root: &Path) -> Result<Vec<(PathBuf, String)>, Failure> {
    let bad =
        |p: &Path, e: &dyn std::fmt::Display| Failure(exit::USAGE, format!("{}: {e}", p.display()));
    let top = root.canonicalize().map_err(|e| bad(root, &e))?;
    let base = top
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| bad(root, &"not a folder"))?;
    let mut found = Vec::new();
    let mut stack = vec![(top.clone(), base)];
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| bad(&dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| bad(&dir, &e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| bad(&path, &e))?;
            let name = format!("{rel}/{}", entry.file_name().to_string_lossy());
            if kind.is_symlink() {
                return Err(bad(
                    &path,
                    &"a symlink; skill folders hold plain files only",
                ));
            } else if kind.is_dir() {
                stack.push((path, name));
            } else {
                found.push((path, name));
            }
        }
    }
    if !found.iter().any(|(_, n)| n.ends_with("/SKILL.md")) {
        return Err(bad(root, &"no SKILL.md in the folder"));
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

fn skill_form(folder: &Path, title: Option<String>) -> Result<Multipart, Failure> {
    let mut form = Multipart::new();
    if let Some(t) = title {
        form = form.text("display_name", t);
    }
    for (path, name) in folder_files(folder)? {
        let file = std::fs::File::open(&path)
            .map_err(|e| Failure(exit::USAGE, format!("{}: {e}", path.display())))?;
        form = form.file("files[]", UploadFile::reader(name, file));
    }
    Ok(form)
}

pub fn skills(c: &Client, cmd: SkillsCmd) -> Result<u8, Failure> {
    let s = c.skills();
    match cmd {
        SkillsCmd::List(l) => {
            let mut p = SkillListParams::default();
            if let Some(n) = l.limit {
                p = p.limit(i64::from(n));
            }
            list_all(s.list(&p))
        }
        SkillsCmd::Get { id } => show(s.retrieve(&id)),
        SkillsCmd::Create { folder, title } => show(s.create(skill_form(&folder, title)?)),
        SkillsCmd::Delete { id } => show(s.delete(&id)),
        SkillsCmd::Versions(cmd) => match cmd {
            SkillVersionsCmd::List { skill, list } => {
                let mut p = SkillsVersionListParams::default();
                if let Some(n) = list.limit {
                    p = p.limit(i64::from(n));
                }
                list_all(s.versions().list(&skill, &p))
            }
            SkillVersionsCmd::Get { skill, version } => {
                show(s.versions().retrieve(&skill, &version))
            }
            SkillVersionsCmd::Create { skill, folder } => {
                show(s.versions().create(&skill, skill_form(&folder, None)?))
            }
            SkillVersionsCmd::Delete { skill, version } => {
                show(s.versions().delete(&skill, &version))
            }
        },
    }
}
