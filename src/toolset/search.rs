//! The search tools `glob` and `grep`, walking the tree beneath a confined directory.
//!
//! The walk goes through directory handles (each directory opened from its parent's handle),
//! never follows a symbolic link into a directory, and stops after
//! [`WALK_MAX_ENTRIES`](super::WALK_MAX_ENTRIES) entries or at the call's deadline. `glob`
//! matches doublestar patterns (`**` for any depth, `*` within one name) and lists the
//! newest first, at most [`GLOB_RESULT_LIMIT`](super::GLOB_RESULT_LIMIT); a symbolic link
//! is listed only when it resolves inside the search root. `grep` prints `path:line:text`
//! for each line a regular expression matches, skipping `.git`, `node_modules`, symbolic
//! links, files over 8 MiB and files that look binary, up to
//! [`GREP_OUTPUT_LIMIT`](super::GREP_OUTPUT_LIMIT) bytes.

use super::confine::{resolves_within, Resolved};
use super::files::read_options;
use super::{
    fs_reason, AgentToolset, Outcome, ToolResult, GLOB_RESULT_LIMIT, GREP_OUTPUT_LIMIT,
    WALK_MAX_ENTRIES,
};
use crate::deadline::Deadline;
use cap_std::fs::{Dir, DirEntry, File};
use serde::Deserialize;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// The glob tool's input (`BetaManagedAgentsAgentToolset20260401GlobInput`).
#[derive(Debug, Deserialize)]
pub(crate) struct GlobInput {
    pattern: String,
    path: Option<String>,
}

/// The grep tool's input (`BetaManagedAgentsAgentToolset20260401GrepInput`).
#[derive(Debug, Deserialize)]
pub(crate) struct GrepInput {
    pattern: String,
    path: Option<String>,
}

/// Files larger than this are not searched by grep.
const GREP_MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Directories grep does not enter.
const GREP_SKIPPED_DIRS: [&str; 2] = [".git", "node_modules"];

pub(crate) fn glob(ts: &AgentToolset, input: GlobInput, deadline: Deadline) -> Outcome {
    let pattern = input.pattern.as_str();
    if pattern.is_empty() {
        return Err("glob: pattern is required".into());
    }
    if Path::new(pattern).is_absolute() {
        return Err(
            "glob: absolute pattern not permitted; pass a relative pattern (and optionally path)"
                .into(),
        );
    }
    if Path::new(pattern)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err("glob: '..' is not permitted in the pattern".into());
    }
    // `./src/*.rs` and `src//*.rs` name what `src/*.rs` names.
    let pattern: Vec<&str> = pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if pattern.is_empty() {
        return Err("glob: pattern is required".into());
    }
    let matcher = globset::GlobBuilder::new(&pattern.join("/"))
        .literal_separator(true)
        .build()
        .map_err(|e| format!("glob: invalid pattern: {}", e.kind()))?
        .compile_matcher();
    let root = search_root(ts, "glob", input.path.as_deref())?;
    let dir = root
        .dir()
        .open_dir(root.rel())
        .map_err(|e| format!("glob: {}: {}", shown(&input.path), fs_reason(&e)))?;

    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    walk(dir, &[], deadline, |entry| {
        if !matcher.is_match(&entry.rel) {
            return true;
        }
        let full = root.path.join(&entry.rel);
        if entry.is_symlink && !resolves_within(&full, &root.path) {
            return true;
        }
        // Newest first, by the modification time of what the path names (a link's target,
        // checked above to be inside).
        let mtime = if entry.is_symlink {
            std::fs::metadata(&full).and_then(|m| m.modified())
        } else {
            entry
                .entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| t.into_std())
        };
        let mtime = mtime.unwrap_or(SystemTime::UNIX_EPOCH);
        found.push((mtime, full));
        true
    })
    .map_err(|e| format!("glob: {e}"))?;
    if found.is_empty() {
        return Ok(ToolResult::text_result("no matches"));
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let listed: Vec<String> = found
        .iter()
        .take(GLOB_RESULT_LIMIT)
        .map(|(_, p)| p.display().to_string())
        .collect();
    Ok(ToolResult::text_result(listed.join("\n")))
}

pub(crate) fn grep(ts: &AgentToolset, input: GrepInput, deadline: Deadline) -> Outcome {
    if input.pattern.is_empty() {
        return Err("grep: pattern is required".into());
    }
    let regex =
        regex::Regex::new(&input.pattern).map_err(|e| format!("grep: invalid regex: {e}"))?;
    let root = search_root(ts, "grep", input.path.as_deref())?;
    let mut out = Hits::default();
    let meta = root
        .dir()
        .metadata(root.rel())
        .map_err(|e| format!("grep: {}: {}", shown(&input.path), fs_reason(&e)))?;
    if !meta.is_dir() {
        if let Ok(file) = root.dir().open_with(root.rel(), &read_options()) {
            scan(file, &root.path, &regex, &mut out);
        }
        return Ok(out.finish());
    }
    let dir = root
        .dir()
        .open_dir(root.rel())
        .map_err(|e| format!("grep: {}: {}", shown(&input.path), fs_reason(&e)))?;
    walk(dir, &GREP_SKIPPED_DIRS, deadline, |entry| {
        if entry.is_symlink || !entry.is_file {
            return true;
        }
        if let Ok(file) = entry.entry.open_with(&read_options()) {
            scan(file, &root.path.join(&entry.rel), &regex, &mut out);
        }
        !out.full
    })
    .map_err(|e| format!("grep: {e}"))?;
    Ok(out.finish())
}

fn shown(path: &Option<String>) -> &str {
    path.as_deref().unwrap_or(".")
}

/// The directory to search: `path` resolved and confined, or the work directory.
fn search_root<'a>(
    ts: &'a AgentToolset,
    op: &str,
    path: Option<&str>,
) -> Result<Resolved<'a>, String> {
    let path = path.filter(|p| !p.is_empty()).unwrap_or(".");
    ts.roots.resolve(path).map_err(|e| format!("{op}: {e}"))
}

/// One entry met by [`walk`].
struct Entry {
    entry: DirEntry,
    /// The path relative to the walk's root.
    rel: PathBuf,
    is_symlink: bool,
    is_file: bool,
}

/// Visits every entry under `dir` (names sorted), entering real directories only and not
/// those named in `skip`, until `visit` returns false, [`WALK_MAX_ENTRIES`] were seen, or
/// the deadline passes (an error). Depth first; a directory is opened (from its parent's
/// handle) only when its turn comes, so the handles open at once are about as many as the
/// tree is deep, however wide it is.
fn walk(
    dir: Dir,
    skip: &[&str],
    deadline: Deadline,
    mut visit: impl FnMut(&Entry) -> bool,
) -> Result<(), String> {
    let mut pending: Vec<(Arc<Dir>, OsString, PathBuf)> = Vec::new();
    let mut next = Some((Arc::new(dir), PathBuf::new()));
    let mut seen = 0usize;
    loop {
        let (dir, rel) = match next.take() {
            Some(first) => first,
            None => match pending.pop() {
                Some((parent, name, rel)) => match parent.open_dir(&name) {
                    Ok(dir) => (Arc::new(dir), rel),
                    Err(_) => continue,
                },
                None => return Ok(()),
            },
        };
        let Ok(entries) = dir.entries() else {
            continue;
        };
        let mut entries: Vec<DirEntry> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(DirEntry::file_name);
        let mut subdirs = Vec::new();
        for entry in entries {
            if deadline.is_expired() {
                return Err("the call's deadline passed during the search".into());
            }
            seen += 1;
            if seen > WALK_MAX_ENTRIES {
                return Ok(());
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let item = Entry {
                rel: rel.join(&name),
                is_symlink: kind.is_symlink(),
                is_file: kind.is_file(),
                entry,
            };
            if !visit(&item) {
                return Ok(());
            }
            let skipped = name.to_str().is_some_and(|n| skip.contains(&n));
            if kind.is_dir() && !skipped {
                subdirs.push((Arc::clone(&dir), name, item.rel));
            }
        }
        // In name order: the stack pops the first name first.
        pending.extend(subdirs.into_iter().rev());
    }
}

/// grep's output so far, within its byte budget.
#[derive(Default)]
struct Hits {
    lines: Vec<String>,
    used: usize,
    full: bool,
}

impl Hits {
    fn push(&mut self, line: String) -> bool {
        self.used += line.len() + 1;
        if self.used > GREP_OUTPUT_LIMIT {
            self.lines
                .push(format!("[output truncated at {GREP_OUTPUT_LIMIT} bytes]"));
            self.full = true;
            return false;
        }
        self.lines.push(line);
        true
    }

    fn finish(self) -> ToolResult {
        if self.lines.is_empty() {
            ToolResult::text_result("no matches")
        } else {
            ToolResult::text_result(self.lines.join("\n"))
        }
    }
}

/// Adds the lines of `file` that `regex` matches, unless the file is not regular, is too
/// large or looks binary (a NUL in its first 512 bytes).
fn scan(file: File, shown: &Path, regex: &regex::Regex, out: &mut Hits) {
    let Ok(meta) = file.metadata() else { return };
    if !meta.is_file() || meta.len() > GREP_MAX_FILE_BYTES {
        return;
    }
    let mut bytes = Vec::new();
    if file
        .take(GREP_MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return;
    }
    if bytes[..bytes.len().min(512)].contains(&0) {
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    for (i, line) in text.lines().enumerate() {
        if regex.is_match(line) && !out.push(format!("{}:{}:{line}", shown.display(), i + 1)) {
            return;
        }
    }
}
