//! What a command writes: lines and JSON on stdout (a closed pipe ends the program quietly,
//! as a shell reports SIGPIPE), notes on stderr, and server text with its control
//! characters escaped.

use crate::exit::{Exit, Failure};
use std::io::Write;

/// Escapes the control characters of text from a server or a file, so it cannot move the
/// cursor, clear the screen or fake a line of its own.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints a value as pretty JSON.
pub fn print_json(v: &impl serde::Serialize) -> Result<Exit, Failure> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Failure(Exit::Api, e.to_string()))?;
    out(&text);
    Ok(Exit::Ok)
}

/// Writes bytes to stdout. Output that cannot be written ends the program, its tools killed:
/// a reader that went away (`| head`) quietly, with the status a shell gives a process killed
/// by SIGPIPE; any other write error (a full disk) with a one-line error and exit 1.
pub fn write_stdout(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        stdout_failed(&e);
    }
}

/// Ends the program after a failed write to stdout (see [`write_stdout`]).
pub fn stdout_failed(e: &std::io::Error) -> ! {
    crate::groups::kill_all();
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Exit::BrokenPipe.exit();
    }
    note(&format!("error: cannot write to stdout: {e}"));
    Exit::Api.exit();
}

/// Writes a line to stdout (see [`write_stdout`]).
pub fn out(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    write_stdout(buf.as_bytes());
}

/// Writes a line to stderr; a closed stderr is ignored, never a crash.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
