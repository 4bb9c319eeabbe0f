//! Tool commands: `sh -c COMMAND` with the call's input as JSON on stdin (written from its own
//! thread, so a large input never deadlocks against the output), its stdout the result. Each
//! runs in its own process group (a terminal's Ctrl-C does not reach it), without the API key
//! or any other `ANTHROPIC_*` variable in its environment, and its whole group is killed at its
//! time limit, at the run's deadline, when it ends, and on Ctrl-C ([`kill_all`]).

use managed_agents::Deadline;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

/// The process groups of the tools running now.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Set once the user interrupted: tools killed from now on were killed by us.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// A custom tool answered by a command.
#[derive(Clone, Debug)]
pub struct ToolCommand {
    /// The tool's name.
    pub name: String,
    /// What `sh -c` runs.
    pub command: String,
}

/// Why a command gave no result.
#[derive(Debug)]
pub enum ToolFailure {
    /// It ran and failed (non-zero exit, time limit, could not start): an error result.
    Failed(String),
    /// It was killed by a signal nobody here sent, or by Ctrl-C: its task is not done.
    Killed(String),
}

impl std::fmt::Display for ToolFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolFailure::Failed(m) | ToolFailure::Killed(m) => f.write_str(m),
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<i32>> {
    GROUPS.lock().unwrap_or_else(|p| p.into_inner())
}

fn kill_group(group: i32) {
    // SAFETY: killpg has no memory effects; a group that is gone gives ESRCH, ignored
    unsafe {
        libc::killpg(group, libc::SIGKILL);
    }
}

/// Kills every running tool's process group (Ctrl-C, the deadline, leaving).
pub fn kill_all() {
    for group in lock().iter() {
        kill_group(*group);
    }
}

/// Marks that the user interrupted, then kills every tool.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    kill_all();
}

/// Whether the user interrupted.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn reader(mut from: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = from.read_to_end(&mut buf);
        buf
    })
}

fn spawn(command: &str) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ANTHROPIC_") {
            cmd.env_remove(key);
        }
    }
    // registered before it can start children, so Ctrl-C right now still reaches it
    let mut groups = lock();
    let child = cmd.spawn()?;
    groups.push(child.id() as i32);
    Ok(child)
}

/// Waits for the child until `limit` (or the deadline), killing its group then.
fn wait(child: &mut Child, limit: Deadline) -> (std::io::Result<ExitStatus>, bool) {
    let group = child.id() as i32;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Ok(status), false),
            Ok(None) if limit.is_expired() => {
                kill_group(group);
                return (child.wait(), true);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                kill_group(group);
                return (Err(e), false);
            }
        }
    }
}

/// Runs `tool` on `input` for at most `limit`, or until `deadline`.
pub fn run(
    tool: &ToolCommand,
    input: String,
    limit: Duration,
    deadline: Deadline,
) -> Result<String, ToolFailure> {
    if interrupted() {
        return Err(ToolFailure::Killed("interrupted before it started".into()));
    }
    let command = &tool.command;
    let mut child = spawn(command)
        .map_err(|e| ToolFailure::Failed(format!("could not start {command:?}: {e}")))?;
    let group = child.id() as i32;
    let stdin = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            // a command that does not read its input closes the pipe: not an error
            let _ = stdin.write_all(input.as_bytes());
        })
    });
    let stdout = child.stdout.take().map(reader);
    let stderr = child.stderr.take().map(reader);
    let (status, timed_out) = wait(&mut child, Deadline::after(limit).min(deadline));
    // what it left running in the background goes with it (and lets the pipes close)
    kill_group(group);
    lock().retain(|g| *g != group);
    let collect = |h: Option<JoinHandle<Vec<u8>>>| {
        let bytes = h.and_then(|h| h.join().ok()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).trim_end().to_string()
    };
    if let Some(h) = stdin {
        let _ = h.join();
    }
    let (out, err) = (collect(stdout), collect(stderr));
    let status = status.map_err(|e| ToolFailure::Failed(format!("{command:?} failed: {e}")))?;
    if timed_out {
        let why = if deadline.is_expired() {
            "the run's deadline passed".to_string()
        } else {
            format!("timed out after {}", humantime::format_duration(limit))
        };
        return Err(ToolFailure::Failed(format!(
            "{command:?} was killed: {why}"
        )));
    }
    if status.success() {
        return Ok(out);
    }
    use std::os::unix::process::ExitStatusExt;
    let detail = if err.is_empty() { out } else { err };
    match status.signal() {
        Some(sig) if interrupted() => Err(ToolFailure::Killed(format!(
            "{command:?} was stopped by Ctrl-C (signal {sig})"
        ))),
        Some(sig) => Err(ToolFailure::Killed(format!(
            "{command:?} was killed by signal {sig}: {detail}"
        ))),
        None => Err(ToolFailure::Failed(format!(
            "{command:?} exited with status {}: {detail}",
            status.code().unwrap_or(-1)
        ))),
    }
}
