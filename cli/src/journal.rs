//! The batch's journal, beside its results file (`<out>.journal`): which session each task
//! was given, written and synced to disk as soon as the session exists and before its first
//! message, so that a run after a crash carries on in that session instead of paying for a
//! second one. Its first line names the batch (`{"batch": ID}`); each line after it is
//! `{"task": ID, "session_id": ID}`. Every session a batch creates has the metadata
//! `{"batch": ID, "task": ID}`, which `batch cleanup` reads to find the ones no task claims.

use crate::exit::{Exit, Failure};
use serde_json::{json, Value};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open journal (the results file's lock covers it).
pub struct Journal {
    file: File,
    name: String,
    /// The batch's id: the metadata `batch` of its sessions.
    pub batch: String,
}

fn failure(name: &str, e: impl std::fmt::Display) -> Failure {
    Failure(Exit::Usage, format!("{name}: {e}"))
}

/// Returns the journal's path of a results file.
pub fn path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// Makes a new batch's id: the results file's name and the time it started, so that two batches
/// never share one.
fn new_batch_id(out: &Path) -> String {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{stem}-{:x}{:x}", nanos as u64, std::process::id())
}

impl Journal {
    /// Opens (or starts) the journal of `out`. `batch` is the id asked for (`--batch-id`):
    /// a new journal takes it (else a new id), an existing one must name the same. `each` is
    /// given every `(task, session)` recorded before, oldest first, one at a time (none is
    /// kept: a batch's memory does not grow with its tasks).
    pub fn open(
        out: &Path,
        batch: Option<&str>,
        each: impl FnMut(&str, &str),
    ) -> Result<Journal, Failure> {
        let p = path(out);
        let name = p.display().to_string();
        let mut file = File::options()
            .read(true)
            .append(true)
            .create(true)
            .open(&p)
            .map_err(|e| failure(&name, e))?;
        // a line torn by a crash: its session was never messaged (the message waits for
        // the sync), so it is dropped
        crate::results::cut_torn_line(&mut file).map_err(|e| failure(&name, e))?;
        let recorded = parse(&name, &file, each)?;
        let mut j = Journal {
            file,
            name,
            batch: String::new(),
        };
        match (recorded, batch) {
            (Some(r), Some(b)) if r != b => {
                return Err(Failure(
                    Exit::Usage,
                    format!("--batch-id {b}: {} belongs to the batch {r}", j.name),
                ))
            }
            (Some(r), _) => j.batch = r,
            (None, b) => {
                j.batch = b.map_or_else(|| new_batch_id(out), String::from);
                let batch = j.batch.clone();
                j.append(&json!({ "batch": batch }))?;
                // the new file's name too, so that the journal outlives a crash of the machine
                let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
                File::open(dir.unwrap_or(Path::new(".")))
                    .and_then(|d| d.sync_all())
                    .map_err(|e| failure(&j.name, e))?;
            }
        }
        Ok(j)
    }

    /// Reads the journal of `out` without changing it: the batch's id and its sessions.
    pub fn read(out: &Path) -> Result<(String, Vec<(String, String)>), Failure> {
        let p = path(out);
        let name = p.display().to_string();
        let file = File::open(&p).map_err(|e| failure(&name, e))?;
        let mut sessions = Vec::new();
        let batch = parse(&name, &file, |t, s| sessions.push((t.into(), s.into())))?;
        match batch {
            Some(batch) => Ok((batch, sessions)),
            None => Err(Failure(
                Exit::Usage,
                format!("{name}: names no batch (its first line is not {{\"batch\": ID}})"),
            )),
        }
    }

    /// Records that `task` has the session `session`, synced to disk before it returns.
    pub fn record(&mut self, task: &str, session: &str) -> Result<(), Failure> {
        self.append(&json!({ "task": task, "session_id": session }))
    }

    fn append(&mut self, v: &Value) -> Result<(), Failure> {
        let mut line = v.to_string();
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| failure(&self.name, e))
    }
}

/// Reads a journal's lines: returns the batch's id, and gives `each` its sessions in order.
fn parse(
    name: &str,
    file: &File,
    mut each: impl FnMut(&str, &str),
) -> Result<Option<String>, Failure> {
    let mut batch = None;
    let mut bad = None;
    crate::results::each_line(file, |i, line| {
        if bad.is_some() || line.trim().is_empty() {
            return;
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                bad = Some(failure(&format!("{name}:{i}"), e));
                return;
            }
        };
        if let Some(b) = v["batch"].as_str() {
            batch.get_or_insert_with(|| b.to_string());
        } else if let (Some(t), Some(s)) = (v["task"].as_str(), v["session_id"].as_str()) {
            each(t, s);
        }
    })
    .map_err(|e| failure(name, e))?;
    match bad {
        Some(f) => Err(f),
        None => Ok(batch),
    }
}
