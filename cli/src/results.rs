//! The batch's results file: locked for one runner at a time, a line torn by a crash cut off
//! when it is opened again, each result written in one write, synced to disk at most once a
//! second (and at the end), so a crash loses at most the last second and never runs a task twice
//! because its line could not be read.

use crate::exit::{Exit, Failure};
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
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

/// Cuts off a last line with no line break (torn by a crash), synced to disk; returns how many
/// bytes it had. Reads only the file's end.
pub fn cut_torn_line(file: &mut File) -> std::io::Result<u64> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut keep = len;
    let mut chunk = [0u8; 4096];
    while keep > 0 {
        let n = chunk.len().min(keep as usize);
        let start = keep - n as u64;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        match chunk[..n].iter().rposition(|b| *b == b'\n') {
            Some(i) => {
                keep = start + i as u64 + 1;
                break;
            }
            None => keep = start,
        }
    }
    if keep < len {
        file.set_len(keep)?;
        file.sync_all()?;
    }
    Ok(len - keep)
}

/// Gives `each` every line of `file` from its start (without its line break) with its number
/// (from 1), one at a time: a file of any length in a buffer of a line.
pub fn each_line(file: &File, mut each: impl FnMut(usize, &str)) -> std::io::Result<()> {
    let mut f = file;
    f.seek(SeekFrom::Start(0))?;
    let mut r = BufReader::with_capacity(64 * 1024, f);
    let mut buf = Vec::new();
    let mut i = 0;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        i += 1;
        let line = String::from_utf8_lossy(&buf);
        each(i, line.trim_end_matches(['\n', '\r']));
    }
}

impl Results {
    /// Opens (or creates) `path`, takes its lock, repairs a torn last line and gives `each`
    /// the results already there, one at a time in the file's order (none is kept). `tasks`
    /// is the tasks file, which must not be the same file.
    pub fn open(
        path: &Path,
        tasks: Option<&Path>,
        mut each: impl FnMut(Value),
    ) -> Result<Results, Failure> {
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
        let cut = cut_torn_line(&mut file).map_err(|e| failure(&name, e))?;
        if cut > 0 {
            log::warn!(
                "{name}: cutting off a last line left incomplete by an earlier run ({cut} bytes)"
            );
        }
        each_line(&file, |i, line| {
            if line.trim().is_empty() {
                return;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) => each(v),
                Err(e) => log::warn!("{name}:{i}: not a result, ignored: {e}"),
            }
        })
        .map_err(|e| failure(&name, e))?;
        let results = Results {
            file,
            name,
            last_sync: Instant::now(),
            unsynced: false,
        };
        Ok(results)
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
