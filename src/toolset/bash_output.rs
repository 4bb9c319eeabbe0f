//! What one bash command printed, and the text the agent gets of it, as the official toolset
//! has it: the output whole when it is at most [`BASH_OUTPUT_LIMIT`] characters (UTF-16 code
//! units, as the API counts them), else its first [`BASH_OUTPUT_LIMIT`] characters followed
//! by `... [N lines truncated] Full output saved to: PATH — use read with view_range to read
//! specific portions. ...`, the whole output (up to [`SAVED_OUTPUT_BYTES`]) saved in a file
//! of the work directory. ANSI escapes are removed from what the agent gets, not from the
//! file.
//!
//! The output is stdout then stderr (a line break between them when stderr has something),
//! or stderr first when the command failed: the reason is usually there, and a long text
//! loses its end.
//!
//! While the command runs, the first [`HEAD_BYTES`] of each pipe stay in memory (enough for
//! the characters kept), the rest goes to an unnamed temporary file (up to
//! [`SAVED_OUTPUT_BYTES`]), and the last [`TAIL_BYTES`] are kept to find the end of the
//! command (its sentinel, printed on both).

use super::{nonce, BASH_OUTPUT_LIMIT};
use regex::bytes::Regex;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The most output the saved file holds (32 MiB).
pub(crate) const SAVED_OUTPUT_BYTES: u64 = 32 * 1024 * 1024;
/// The output kept in memory: every character kept is at most 4 bytes.
pub(crate) const HEAD_BYTES: usize = 4 * BASH_OUTPUT_LIMIT + 4096;
/// The end of the output kept to find the sentinel in (a read is at most 8 KiB).
const TAIL_BYTES: usize = 16 * 1024;

/// Which of the shell's two outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pipe {
    Stdout,
    Stderr,
}

/// What the command running printed on its two outputs, as the shell's readers collect it.
#[derive(Default)]
pub(crate) struct Output {
    /// Whether a command runs: output between commands is dropped.
    active: bool,
    /// The shell was ended by the toolset (or it exited).
    pub ended: bool,
    stdout: Stream,
    stderr: Stream,
}

/// Where the command's output ends on each pipe.
pub(crate) struct Ends {
    stdout: End,
    stderr: End,
}

impl Output {
    /// Forgets the last command's output, for the next, whose end `marker` (its sentinel)
    /// will show.
    pub fn start(&mut self, marker: &[u8]) {
        self.active = true;
        self.ended = false;
        self.stdout.reset(marker);
        self.stderr.reset(marker);
    }

    /// Adds what the shell printed on `pipe` (dropped between commands).
    pub fn push(&mut self, pipe: Pipe, chunk: &[u8]) {
        if self.active {
            self.stream(pipe).push(chunk);
        }
    }

    /// Records the end of `pipe`.
    pub fn close(&mut self, pipe: Pipe) {
        self.stream(pipe).closed = true;
    }

    /// Returns whether both pipes reached their end: nothing holds them any more.
    pub fn closed(&self) -> bool {
        self.stdout.closed && self.stderr.closed
    }

    fn stream(&mut self, pipe: Pipe) -> &mut Stream {
        match pipe {
            Pipe::Stdout => &mut self.stdout,
            Pipe::Stderr => &mut self.stderr,
        }
    }

    /// Returns the ends of the command's output and its exit status, once the shell printed
    /// `\n<sentinel><status>\n` after it on both pipes.
    pub fn sentinel(&self) -> Option<(Ends, i32)> {
        let (stdout, code) = self.stdout.found?;
        let (stderr, _) = self.stderr.found?;
        Some((Ends { stdout, stderr }, code))
    }

    /// Everything printed so far is the command's output.
    pub fn all(&self) -> Ends {
        Ends {
            stdout: self.stdout.all(),
            stderr: self.stderr.all(),
        }
    }

    /// Returns the text the agent gets of the output up to `ends`: stdout then stderr, or stderr
    /// first when the command failed (`succeeded` false), whole, or cut with the whole saved
    /// in a new file of `workdir` (whose path goes into `saved`, replacing the last one).
    pub fn finish(
        &mut self,
        ends: Ends,
        succeeded: bool,
        workdir: &Path,
        saved: &mut Option<PathBuf>,
    ) -> String {
        self.active = false;
        let separator = if ends.stderr.at > 0 { "\n" } else { "" };
        let Output { stdout, stderr, .. } = self;
        let [(first, first_end), (second, second_end)] = if succeeded {
            [(stdout, ends.stdout), (stderr, ends.stderr)]
        } else {
            [(stderr, ends.stderr), (stdout, ends.stdout)]
        };
        let whole_in_memory = first.in_head(&first_end) && second.in_head(&second_end);
        let start = format!(
            "{}{separator}{}",
            first.head_text(&first_end),
            second.head_text(&second_end)
        );
        if whole_in_memory && utf16_len(&start) <= BASH_OUTPUT_LIMIT {
            return strip_ansi(start.as_bytes())
                .trim_end_matches('\n')
                .to_string();
        }
        let kept = strip_ansi(first_utf16_units(&start, BASH_OUTPUT_LIMIT).as_bytes());
        let newlines = first_end.newlines + separator.len() as u64 + second_end.newlines;
        let cut_lines = (1 + newlines).saturating_sub(kept.matches('\n').count() as u64);
        let note = match save(
            [(first, &first_end), (second, &second_end)],
            separator,
            workdir,
        ) {
            Ok((path, whole)) => {
                if let Some(old) = saved.replace(path.clone()) {
                    let _ = std::fs::remove_file(old);
                }
                let what = if whole {
                    "Full output".to_string()
                } else {
                    format!("First {} MiB of output", SAVED_OUTPUT_BYTES >> 20)
                };
                format!(
                    "{what} saved to: {} \u{2014} use read with view_range to read specific portions. ",
                    path.display()
                )
            }
            Err(e) => {
                log::warn!("could not save a long bash output: {e}");
                String::new()
            }
        };
        format!("{kept}\n\n... [{cut_lines} lines truncated] {note}...")
    }
}

/// Where a pipe's part of the output ends, and how many line breaks it holds.
#[derive(Clone, Copy)]
pub(crate) struct End {
    at: u64,
    newlines: u64,
}

/// What one pipe printed: its first [`HEAD_BYTES`] in memory, the rest in an unnamed file
/// (up to [`SAVED_OUTPUT_BYTES`]), its last [`TAIL_BYTES`] to find the sentinel in.
#[derive(Default)]
struct Stream {
    head: Vec<u8>,
    spill: Option<File>,
    spilled: u64,
    spill_error: bool,
    tail: Vec<u8>,
    total: u64,
    newlines: u64,
    closed: bool,
    /// The command's sentinel.
    marker: Vec<u8>,
    /// Where the command's output ended, and its status, once the sentinel came: what
    /// follows (a background job's output) is not the command's.
    found: Option<(End, i32)>,
}

impl Stream {
    fn reset(&mut self, marker: &[u8]) {
        *self = Stream {
            closed: self.closed,
            marker: marker.to_vec(),
            ..Stream::default()
        };
    }

    fn push(&mut self, chunk: &[u8]) {
        if self.found.is_some() {
            return;
        }
        self.total += chunk.len() as u64;
        self.newlines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        let room = HEAD_BYTES.saturating_sub(self.head.len()).min(chunk.len());
        self.head.extend_from_slice(&chunk[..room]);
        let rest = &chunk[room..];
        if !rest.is_empty() && !self.spill_error && self.spilled < SAVED_OUTPUT_BYTES {
            let take = rest.len().min((SAVED_OUTPUT_BYTES - self.spilled) as usize);
            let written = match &mut self.spill {
                Some(f) => f.write_all(&rest[..take]),
                None => unnamed_file().and_then(|mut f| {
                    f.write_all(&rest[..take])?;
                    self.spill = Some(f);
                    Ok(())
                }),
            };
            match written {
                Ok(()) => self.spilled += take as u64,
                Err(_) => self.spill_error = true,
            }
        }
        self.tail.extend_from_slice(chunk);
        if self.tail.len() > TAIL_BYTES {
            let excess = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..excess);
        }
        // looked for as each read comes (a read is at most half the tail), so that no later
        // output can push it out of sight
        self.found = self.sentinel();
    }

    fn sentinel(&self) -> Option<(End, i32)> {
        let marker = self.marker.as_slice();
        if marker.is_empty() {
            return None;
        }
        let at = memchr::memmem::find(&self.tail, marker)?;
        let rest = &self.tail[at + marker.len()..];
        let line = rest.iter().position(|&b| b == b'\n')?;
        let code = std::str::from_utf8(&rest[..line])
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .unwrap_or(-1);
        // the newline printed before the sentinel is not the command's
        let from = if at > 0 && self.tail[at - 1] == b'\n' {
            at - 1
        } else {
            at
        };
        let after = memchr::memchr_iter(b'\n', &self.tail[from..]).count() as u64;
        let end = End {
            at: self.total - (self.tail.len() - from) as u64,
            newlines: self.newlines - after,
        };
        Some((end, code))
    }

    fn all(&self) -> End {
        End {
            at: self.total,
            newlines: self.newlines,
        }
    }

    fn in_head(&self, end: &End) -> bool {
        end.at as usize <= self.head.len()
    }

    fn head_text(&self, end: &End) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.head[..(end.at as usize).min(self.head.len())])
    }

    /// Appends this pipe's output up to `end`, at most `room` bytes of it, to `data`.
    fn copy_to(&mut self, end: &End, room: u64, data: &mut Vec<u8>) -> io::Result<()> {
        let want = end.at.min(room);
        let from_head = (want as usize).min(self.head.len());
        data.extend_from_slice(&self.head[..from_head]);
        if want as usize > from_head {
            if self.spill_error {
                return Err(io::Error::other("the output's temporary file failed"));
            }
            if let Some(spill) = &mut self.spill {
                spill.rewind()?;
                spill.take(want - from_head as u64).read_to_end(data)?;
            }
        }
        Ok(())
    }
}

/// Writes the output (the two parts with `separator` between them; at most
/// [`SAVED_OUTPUT_BYTES`], never half a character) to a new file of `workdir`; its path, and
/// whether it is all of it.
fn save(
    parts: [(&mut Stream, &End); 2],
    separator: &str,
    workdir: &Path,
) -> io::Result<(PathBuf, bool)> {
    let path = workdir.join(format!("bash-output-{}.txt", &nonce()[..16]));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    let result = (|| {
        let [(first, first_end), (second, second_end)] = parts;
        let total = first_end.at + separator.len() as u64 + second_end.at;
        let mut data = Vec::new();
        first.copy_to(first_end, SAVED_OUTPUT_BYTES, &mut data)?;
        data.extend_from_slice(separator.as_bytes());
        let room = SAVED_OUTPUT_BYTES.saturating_sub(data.len() as u64);
        second.copy_to(second_end, room, &mut data)?;
        data.truncate(SAVED_OUTPUT_BYTES as usize);
        let whole = data.len() as u64 == total;
        if !whole {
            // never half a character at the cut
            if let Err(e) = std::str::from_utf8(&data) {
                if e.error_len().is_none() {
                    data.truncate(e.valid_up_to());
                }
            }
        }
        file.write_all(&data)?;
        file.flush()?;
        Ok(whole)
    })();
    match result {
        Ok(whole) => Ok((path, whole)),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

/// A file of the temporary directory that no name leads to: only this process reads it.
fn unnamed_file() -> io::Result<File> {
    let path = std::env::temp_dir().join(format!("managed-agents-bash-{}", nonce()));
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The first `units` UTF-16 code units of `s`; a character that would be cut is left out.
fn first_utf16_units(s: &str, units: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > units {
            return &s[..i];
        }
    }
    s
}

/// The text with ANSI escapes removed.
pub(crate) fn strip_ansi(raw: &[u8]) -> String {
    static ANSI: OnceLock<Regex> = OnceLock::new();
    let ansi = ANSI.get_or_init(|| {
        Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]").unwrap_or_else(|_| unreachable!("a valid pattern"))
    });
    String::from_utf8_lossy(&ansi.replace_all(raw, &b""[..])).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_is_never_cut_in_half() {
        assert_eq!(first_utf16_units("ab\u{1F600}c", 3), "ab");
        assert_eq!(first_utf16_units("ab\u{1F600}c", 4), "ab\u{1F600}");
        assert_eq!(utf16_len("ab\u{1F600}"), 4);
    }
}
