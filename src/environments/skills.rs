//! The skills of the session's agent and its subagents (each skill id once, the first of a name
//! keeping its folder), downloaded into the item's work directory before any tool runs, as the
//! official worker does: each skill in `{workdir}/skills/<name>/`, `<name>` the skill version's
//! `name` reduced to one path component (the skill id, reduced the same way, when that leaves
//! nothing). The version is resolved first (`latest` is an alias only retrieve knows), then its
//! content (a zip archive) is downloaded by the concrete version id and unpacked in a staging
//! folder beside the destination, which then replaces it.
//!
//! Skills may come from third parties, so unpacking is strict: every entry's name is checked
//! before anything is written, and an archive with an absolute name or a `..` component is
//! refused whole; symbolic links and other special entries are skipped; the single top-level
//! directory a skill is packaged in is stripped; files keep only whether they are executable
//! (0755 or 0644). A skill that fails is logged and left out; the others still land.
//!
//! An archive is also bounded in what it unpacks to, counted on the bytes actually read out of
//! it (an entry's declared size is not trusted): [`MAX_SKILL_ENTRIES`] entries,
//! [`MAX_SKILL_UNPACKED_BYTES`] in all, and no entry past its first
//! [`SKILL_ENTRY_RATIO_FREE_BYTES`] growing to more than [`MAX_SKILL_ENTRY_RATIO`] times its
//! compressed size. An archive over a bound is refused whole (what was unpacked of it is
//! removed).

use super::folder::{one_component, rel_path, relative_parts, Folder};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::toolset::confine::resolves_within;
use crate::types::Session;
use serde_json::Value;
use std::io::{self, Seek};
use std::path::{Path, PathBuf};

/// The folder under the work directory that holds the skills.
pub const SKILLS_DIR: &str = "skills";

/// The most entries a skill archive may have.
pub const MAX_SKILL_ENTRIES: usize = 10_000;
/// The most bytes a skill archive may unpack to (64 MiB).
pub const MAX_SKILL_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// The most an entry may unpack to per byte of its compressed data, past its first
/// [`SKILL_ENTRY_RATIO_FREE_BYTES`] (text compresses about 10:1; a zip bomb about 1000:1).
pub const MAX_SKILL_ENTRY_RATIO: u64 = 100;
/// What any entry may unpack to, whatever its compressed size (1 MiB).
pub const SKILL_ENTRY_RATIO_FREE_BYTES: u64 = 1024 * 1024;

/// The bounds of one archive's unpacking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub entries: usize,
    pub total: u64,
    pub ratio: u64,
    pub ratio_free: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: MAX_SKILL_ENTRIES,
            total: MAX_SKILL_UNPACKED_BYTES,
            ratio: MAX_SKILL_ENTRY_RATIO,
            ratio_free: SKILL_ENTRY_RATIO_FREE_BYTES,
        }
    }
}

/// Unix file type bits of the entries that are neither files nor directories.
const S_IFMT: u32 = 0o170000;
const SPECIAL: [u32; 5] = [0o120000, 0o020000, 0o060000, 0o010000, 0o140000];

/// Downloads every skill of the session's agent and its subagents into
/// `{workdir}/skills/<name>/` (each skill id once; the first skill of a name keeps its
/// folder, a later one of the same name is logged and left out) and returns
/// the directories made (to remove when the item ends). Failures are logged per skill; once
/// `stop` says so, no further skill is downloaded.
pub(crate) fn download_session_skills(
    client: &Client,
    session: &Session,
    workdir: &Path,
    options: &RequestOptions,
    stop: &dyn Fn() -> bool,
) -> Vec<PathBuf> {
    let mut made = Vec::new();
    for (skill_id, version) in skills_with_subagents(session) {
        if stop() {
            break;
        }
        match download_skill(client, &skill_id, &version, workdir, options, &made) {
            Ok(None) => {}
            Ok(Some(dest)) => {
                log::info!(
                    "downloaded skill skill_id={skill_id} version={version} -> {}",
                    dest.display()
                );
                made.push(dest);
            }
            Err(e) => log::warn!("failed to download skill skill_id={skill_id}: {e}"),
        }
    }
    made
}

/// Removes the skill directories [`download_session_skills`] made below `workdir`; one whose
/// parent no longer resolves inside the work directory (a link put in its place) is left.
pub(crate) fn remove_skills(dirs: &[PathBuf], workdir: &Path) {
    let Ok(base) = std::fs::canonicalize(workdir) else {
        return;
    };
    for dir in dirs {
        if !dir.parent().is_some_and(|p| resolves_within(p, &base)) {
            log::warn!(
                "not removing {}: it no longer leads inside the work directory",
                dir.display()
            );
            continue;
        }
        if let Err(e) = std::fs::remove_dir_all(dir) {
            if e.kind() != io::ErrorKind::NotFound {
                log::warn!(
                    "failed to remove the skill directory {}: {e}",
                    dir.display()
                );
            }
        }
    }
}

/// The skills of the session's agent and of its subagents (a `coordinator`'s agents, a
/// `multiagent_20261001`'s enabled subagents and workflows), as (id, version): each skill id
/// once, the first version met of it.
fn skills_with_subagents(session: &Session) -> Vec<(String, String)> {
    let agent = serde_json::to_value(&session.agent).unwrap_or_default();
    let mut lists: Vec<&Value> = vec![&agent["skills"]];
    let multiagent = &agent["multiagent"];
    match multiagent["type"].as_str() {
        Some("coordinator") => lists.extend(
            members(&multiagent["agents"])
                .filter(|m| m["type"] == "agent")
                .map(|m| &m["skills"]),
        ),
        Some("multiagent_20261001") => {
            for group in [&multiagent["subagents"], &multiagent["workflows"]] {
                if group["type"] == "enabled" {
                    lists.extend(members(&group["predefined_agents"]).map(|m| &m["skills"]));
                }
            }
        }
        _ => {}
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for skill in lists.into_iter().flat_map(members) {
        let Some((id, version)) = skill_ref(skill) else {
            log::warn!("skipping a skill without a skill_id: {skill}");
            continue;
        };
        if seen.insert(id.clone()) {
            out.push((id, version));
        }
    }
    out
}

fn members(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

/// A skill's id and version, whatever its `type` (one this version does not know included).
fn skill_ref(v: &Value) -> Option<(String, String)> {
    let id = v.get("skill_id")?.as_str()?.to_string();
    let version = v
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("latest")
        .to_string();
    Some((id, version))
}

/// The directory name of a skill: its version's name as one path component, else its id
/// as one (both come from the network); `None` when neither gives one.
fn dir_name(name: &str, skill_id: &str) -> Option<String> {
    one_component(name)
        .or_else(|| one_component(skill_id))
        .map(str::to_string)
}

/// Downloads one skill into its folder; `None` when an earlier skill of `made` has it.
fn download_skill(
    client: &Client,
    skill_id: &str,
    version: &str,
    workdir: &Path,
    options: &RequestOptions,
    made: &[PathBuf],
) -> Result<Option<PathBuf>> {
    let versions = client.skills().versions();
    let found = versions.retrieve_with(skill_id, version, options)?;
    let name = dir_name(&found.name, skill_id).ok_or_else(|| {
        Error::invalid_input(
            "skill",
            format!(
                "neither the name {:?} nor the id is a folder name",
                found.name
            ),
        )
    })?;
    let root = workdir.join(SKILLS_DIR);
    if made.contains(&root.join(&name)) {
        log::warn!(
            "an earlier skill has the name {:?}; skipping skill_id={skill_id}",
            found.name
        );
        return Ok(None);
    }
    let base = std::fs::canonicalize(workdir)
        .map_err(|e| Error::io(format!("opening {}", workdir.display()), e))?;
    Folder::create_within(&root, &base)
        .map_err(|e| Error::io(format!("creating {}", root.display()), e))?;
    let dest = root.join(&name);
    // a staging folder beside the destination, removed whatever happens
    let work = root.join(format!(".skill-{}", super::random_suffix()));
    owner_only_dir(&work).map_err(|e| Error::io(format!("creating {}", work.display()), e))?;
    let result = (|| {
        let archive = work.join("archive");
        versions
            .download_with(skill_id, &found.id, options)?
            .copy_to_path(&archive)?;
        let stage = work.join("stage");
        owner_only_dir(&stage)
            .map_err(|e| Error::io(format!("creating {}", stage.display()), e))?;
        let file = std::fs::File::open(&archive)
            .map_err(|e| Error::io(format!("opening {}", archive.display()), e))?;
        extract_zip(file, &stage, Limits::default())?;
        match std::fs::rename(&dest, work.join("replaced")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(Error::io(format!("moving {} aside", dest.display()), e))
            }
            _ => {}
        }
        std::fs::rename(&stage, &dest)
            .map_err(|e| Error::io(format!("moving the skill to {}", dest.display()), e))
    })();
    let _ = std::fs::remove_dir_all(&work);
    result.map(|()| Some(dest))
}

/// Makes the directory `dir`, readable by its owner only (on Unix): a skill's files may come
/// from a third party.
fn owner_only_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Unpacks a skill's zip archive into the existing directory `dest`, as the module says.
pub(crate) fn extract_zip(
    mut reader: impl io::Read + Seek,
    dest: &Path,
    limits: Limits,
) -> Result<()> {
    let bad = |m: String| Error::invalid_input("skill archive", m);
    let archive_len = reader
        .seek(io::SeekFrom::End(0))
        .and_then(|n| reader.seek(io::SeekFrom::Start(0)).map(|_| n))
        .map_err(|e| Error::io("reading the skill archive", e))?;
    let mut zip =
        zip::ZipArchive::new(reader).map_err(|e| bad(format!("not a zip archive: {e}")))?;
    if zip.len() > limits.entries {
        return Err(bad(format!(
            "it has {} entries, more than the {} a skill may have",
            zip.len(),
            limits.entries
        )));
    }
    // every name checked before anything is written
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| bad(e.to_string()))?;
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let parts: Vec<String> = relative_parts(&name)
            .map_err(|m| bad(format!("refusing the entry {m}")))?
            .into_iter()
            .map(String::from)
            .collect();
        let mode = f.unix_mode();
        let special = mode.is_some_and(|m| SPECIAL.contains(&(m & S_IFMT)));
        let dir = f.is_dir() || mode.is_some_and(|m| m & S_IFMT == 0o040000);
        if special {
            log::warn!("skipping the archive entry {name:?}: not a regular file or directory");
            continue;
        }
        let executable = mode.is_some_and(|m| m & 0o111 != 0);
        entries.push((i, parts, dir, executable));
    }
    let top = wrapper_dir(entries.iter().map(|(_, p, _, _)| p.as_slice()));
    let folder =
        Folder::open(dest).map_err(|e| Error::io(format!("opening {}", dest.display()), e))?;
    let mut total = 0u64;
    for (i, parts, dir, executable) in entries {
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let parts = match top {
            Some(ref t) if parts.first() == Some(&t.as_str()) => &parts[1..],
            _ => &parts[..],
        };
        if parts.is_empty() {
            continue;
        }
        let rel = rel_path(parts);
        let written = if dir {
            folder.create_dir_all(&rel)
        } else {
            let f = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
            // the compressed data read is at most the archive itself, whatever is declared
            let compressed = f.compressed_size().min(archive_len);
            let mut capped = Capped {
                inner: f,
                read: 0,
                entry_cap: compressed
                    .saturating_mul(limits.ratio)
                    .max(limits.ratio_free),
                total: &mut total,
                limits,
                over: None,
            };
            let written = folder.create_from(&rel, &mut capped, executable);
            if let Some(over) = capped.over {
                return Err(bad(format!("{} {over}", rel.display())));
            }
            written
        };
        written.map_err(|e| Error::io(format!("unpacking {}", rel.display()), e))?;
    }
    Ok(())
}

/// An entry's reader that fails once the entry or the whole archive unpacks to more than
/// its bound, counting what is read; `over` says which bound.
struct Capped<'a, R> {
    inner: R,
    read: u64,
    entry_cap: u64,
    total: &'a mut u64,
    limits: Limits,
    over: Option<String>,
}

impl<R: io::Read> io::Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        *self.total += n as u64;
        if self.read > self.entry_cap {
            self.over = Some(format!(
                "unpacks to more than {} bytes, over {} times its compressed size: refusing the archive",
                self.entry_cap, self.limits.ratio
            ));
        } else if *self.total > self.limits.total {
            self.over = Some(format!(
                "takes the archive past {} unpacked bytes, more than a skill may have: refusing the archive",
                self.limits.total
            ));
        }
        match &self.over {
            Some(why) => Err(io::Error::other(why.clone())),
            None => Ok(n),
        }
    }
}

/// The one top-level directory every entry is under (with something below it), if there is
/// one: skills are packaged wrapped in a directory named after them.
fn wrapper_dir<'a>(entries: impl Iterator<Item = &'a [String]>) -> Option<String> {
    let mut top: Option<&str> = None;
    let mut nested = false;
    for parts in entries {
        let Some(first) = parts.first() else { continue };
        match top {
            None => top = Some(first),
            Some(t) if t != first => return None,
            _ => {}
        }
        nested |= parts.len() > 1;
    }
    top.filter(|_| nested).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(entries: &[(&str, &[u8], Option<u32>)]) -> std::io::Cursor<Vec<u8>> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes, mode) in entries {
            let mut o = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            if let Some(m) = mode {
                o = o.unix_permissions(*m);
            }
            if let Some(target) = name.strip_prefix("link:") {
                w.add_symlink(target, std::str::from_utf8(bytes).unwrap(), o)
                    .unwrap();
            } else {
                w.start_file(*name, o).unwrap();
                w.write_all(bytes).unwrap();
            }
        }
        std::io::Cursor::new(w.finish().unwrap().into_inner())
    }

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "skills-unit-{tag}-{}-{:x}",
            std::process::id(),
            (crate::retry::jitter() * 1e12) as u64
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_wrapper_directory_is_stripped_and_the_execute_bit_kept() {
        let d = tempdir("wrap");
        let a = archive(&[
            ("pdf/SKILL.md", b"---\nname: pdf\n---\n", None),
            ("pdf/scripts/run.sh", b"#!/bin/sh\n", Some(0o4777)),
        ]);
        extract_zip(a, &d, Limits::default()).unwrap();
        assert!(d.join("SKILL.md").is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join("scripts/run.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o7777, 0o755);
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn symbolic_links_are_skipped_and_escaping_names_refuse_the_archive() {
        let d = tempdir("escape");
        let a = archive(&[
            ("s/SKILL.md", b"x", None),
            ("link:s/passwd", b"/etc/passwd", None),
        ]);
        extract_zip(a, &d, Limits::default()).unwrap();
        assert!(d.join("SKILL.md").is_file());
        assert!(std::fs::symlink_metadata(d.join("passwd")).is_err());
        for bad in ["s/../../evil.txt", "/tmp/evil.txt"] {
            let a = archive(&[("s/SKILL.md", b"x", None), (bad, b"evil", None)]);
            let sub = d.join("fresh");
            std::fs::create_dir(&sub).unwrap();
            let e = extract_zip(a, &sub, Limits::default()).unwrap_err();
            assert!(e.to_string().contains("refusing"), "{e}");
            // nothing at all was written
            assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 0);
            std::fs::remove_dir(&sub).unwrap();
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_archive_over_a_bound_is_refused() {
        let d = tempdir("bounds");
        let small = Limits {
            entries: 3,
            total: 1000,
            ratio: 10,
            ratio_free: 100,
        };
        let fresh = |tag: &str| {
            let sub = d.join(tag);
            std::fs::create_dir(&sub).unwrap();
            sub
        };
        // within every bound
        let a = archive(&[("s/a", &[b'a'; 400], None), ("s/b", &[b'b'; 400], None)]);
        extract_zip(a, &fresh("ok"), small).unwrap();
        // more bytes in all than allowed, each entry stored (ratio 1)
        let a = archive(&[("s/a", &[b'a'; 600], None), ("s/b", &[b'b'; 600], None)]);
        let e = extract_zip(a, &fresh("total"), small).unwrap_err();
        assert!(e.to_string().contains("past 1000 unpacked bytes"), "{e}");
        // too many entries
        let four: Vec<(String, &[u8], Option<u32>)> = (0..4)
            .map(|i| (format!("s/{i}"), &b"x"[..], None))
            .collect();
        let four: Vec<(&str, &[u8], Option<u32>)> =
            four.iter().map(|(n, b, m)| (n.as_str(), *b, *m)).collect();
        let e = extract_zip(archive(&four), &fresh("count"), small).unwrap_err();
        assert!(e.to_string().contains("4 entries"), "{e}");
        // one entry that grows past its ratio, deflated
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("s/zeros", o).unwrap();
        w.write_all(&[0u8; 900]).unwrap();
        let a = std::io::Cursor::new(w.finish().unwrap().into_inner());
        let e = extract_zip(a, &fresh("ratio"), small).unwrap_err();
        assert!(e.to_string().contains("times its compressed size"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_skill_directory_name_is_one_component() {
        assert_eq!(dir_name(" pdf ", "skill_1").as_deref(), Some("pdf"));
        assert_eq!(dir_name("../../etc", "skill_1").as_deref(), Some("etc"));
        assert_eq!(dir_name("..", "skill_1").as_deref(), Some("skill_1"));
        assert_eq!(dir_name("a/", "skill_1").as_deref(), Some("skill_1"));
        // the id stands in for the name only as one component too: it comes from the network
        assert_eq!(dir_name("", "a/../../../x").as_deref(), Some("x"));
        for id in ["..", "/", "a\\..\\..", "a/."] {
            assert_eq!(dir_name(" ", id), None, "{id:?}");
        }
    }
}
