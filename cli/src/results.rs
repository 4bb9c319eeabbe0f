//! The batch's results file: locked for one runner at a time, a line torn by a crash cut off
//! when it is opened again, each result written in one write, synced to disk at most once a
//! second (and at the end), so a crash loses at most the last second and never runs a task twice
//! because its line could not be read.

use crate::exit::{Exit, Failure};
use serde_json::Value;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const SYNC_EVERY: Duration = Duration::from_secs(1);

/// An open, locked results file.
pub struct Results {
    file: File,
    name: String,
    last_sync: Instant,
    unsynced: bool,
}

fn failure(name: &str, e: impl std::fmt::Display) -> Failure {
    Failure(Exit::Usage, format!("--out {name}: {e}"))
}

/// Tells whether two open files are the same file.
fn same_file(a: &File, b: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (a.metadata(), b.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Results {
    /// Opens (or creates) `path`, takes its lock, repairs a torn last line and returns the
    /// results already there. `tasks` is the tasks file, which must not be the same file.
    pub fn open(path: &Path, tasks: Option<&Path>) -> Result<(Results, Vec<Value>), Failure> {
        let name = path.display().to_string();
        let mut file = File::options()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| failure(&name, e))?;
        if let Some(tasks) = tasks {
            if let Ok(t) = File::open(tasks) {
                if same_file(&file, &t) {
                    return Err(Failure(
                        Exit::Usage,
                        format!("--out {name} is the tasks file; results need a file of their own"),
                    ));
                }
            }
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Failure(
                    Exit::Usage,
                    format!("--out {name} is in use by another batch (it is locked); wait for that one to finish or give another --out"),
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(failure(&name, e)),
        }
        let mut text = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut text))
            .map_err(|e| failure(&name, e))?;
        if !text.is_empty() && !text.ends_with(b"\n") {
            let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            log::warn!(
                "{name}: cutting off a last line left incomplete by an earlier run ({} bytes)",
                text.len() - keep
            );
            file.set_len(keep as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| failure(&name, e))?;
            text.truncate(keep);
        }
        let mut done = Vec::new();
        for (i, line) in String::from_utf8_lossy(&text).lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) => done.push(v),
                Err(e) => log::warn!("{name}:{}: not a result, ignored: {e}", i + 1),
            }
        }
        let results = Results {
            file,
            name,
            last_sync: Instant::now(),
            unsynced: false,
        };
        Ok((results, done))
    }

    /// Appends one result as one line, in one write.
    pub fn write(&mut self, result: &Value) -> Result<(), Failure> {
        let mut line = result.to_string();
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| failure(&self.name, e))?;
        self.unsynced = true;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Flushes what was written to the disk.
    pub fn sync(&mut self) -> Result<(), Failure> {
        if self.unsynced {
            self.file.sync_data().map_err(|e| failure(&self.name, e))?;
            self.unsynced = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }
}

impl Drop for Results {
    fn drop(&mut self) {
        let _ = self.sync();
    }
}
