//! Tool commands: `sh -c COMMAND` with the call's input as JSON on stdin (written from its own
//! thread, so a large input never deadlocks against the output), its stdout the result. Each
//! runs in its own process group (a terminal's Ctrl-C does not reach it), without the API key
//! or any other `ANTHROPIC_*` variable in its environment, and its whole group is killed at its
//! time limit, at the run's deadline, when it ends, and on Ctrl-C ([`kill_all`], of `groups`).
//!
//! A result holds at most [`OUTPUT_LIMIT`] characters of stdout: a longer output is kept whole
//! in a file the result names, and never whole in memory. An error result says how the command
//! ended and the end of its stderr, never the command line (which may hold what the agent
//! should not read).

use crate::exit::Exit;
use crate::groups;
pub use crate::groups::{interrupt, interrupted, kill_all};
use clap::Args;
use managed_agents::Deadline;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

/// Reads a `--tool` value, `NAME=COMMAND`.
fn tool(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, c)) if !n.is_empty() && !c.is_empty() => Ok((n.to_string(), c.to_string())),
        _ => Err("expected NAME=COMMAND".into()),
    }
}

/// Holds the tool arguments of `run`, `batch` and `worker`.
#[derive(Args, Debug, Clone)]
pub struct ToolArgs {
    /// Answer the custom tool NAME by running COMMAND with `sh -c`: the tool input as JSON on
    /// stdin, its stdout the result (at most 30,000 characters; a longer output is saved whole
    /// to a file in the temporary folder that the result names), a non-zero exit an error
    /// result with the exit status and the end of stderr (repeatable, one command per NAME).
    #[arg(long = "tool", value_name = "NAME=COMMAND", value_parser = tool)]
    pub tools: Vec<(String, String)>,
    /// How long one tool command may run before it and its children are killed.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::parse::duration)]
    pub tool_timeout: Duration,
}

impl ToolArgs {
    /// Returns the tool commands of the `--tool` flags.
    pub fn commands(&self) -> Vec<ToolCommand> {
        self.tools
            .iter()
            .map(|(name, command)| ToolCommand {
                name: name.clone(),
                command: command.clone(),
            })
            .collect()
    }
}

/// A custom tool answered by a command.
#[derive(Clone, Debug)]
pub struct ToolCommand {
    /// The tool's name.
    pub name: String,
    /// What `sh -c` runs.
    pub command: String,
}

/// Refuses a `--tool` name given twice (which command would answer it?).
pub fn check_unique(tools: &[ToolCommand]) -> Result<(), crate::exit::Failure> {
    let mut seen = std::collections::HashSet::new();
    match tools.iter().find(|t| !seen.insert(t.name.as_str())) {
        Some(t) => Err(crate::exit::Failure(
            Exit::Usage,
            format!(
                "--tool {}: the name is given twice; give one command per tool",
                t.name
            ),
        )),
        None => Ok(()),
    }
}

/// Compares the `--tool` names with the custom tools of `agent` (`ID` or `ID@VERSION`): a
/// name the agent does not have is a warning, or with `strict` an error (exit 2). An agent
/// that cannot be read is left to the run to report.
pub fn check_names(
    c: &managed_agents::Client,
    agent: &str,
    tools: &[ToolCommand],
    strict: bool,
) -> Result<(), crate::exit::Failure> {
    if tools.is_empty() {
        return Ok(());
    }
    let (id, version) = match agent.split_once('@') {
        Some((id, v)) => (id, v.parse::<i64>().ok()),
        None => (agent, None),
    };
    let mut params = managed_agents::types::AgentRetrieveParams::default();
    if let Some(v) = version {
        params = params.version(v);
    }
    let found = match c.agents().retrieve(id, &params) {
        Ok(a) => serde_json::to_value(a).unwrap_or_default(),
        Err(e) => {
            log::debug!("could not read agent {agent} to check the --tool names: {e}");
            return Ok(());
        }
    };
    let custom: Vec<&str> = found["tools"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|t| t["type"] == "custom")
        .filter_map(|t| t["name"].as_str())
        .collect();
    for tool in tools {
        if custom.contains(&tool.name.as_str()) {
            continue;
        }
        let hint = match crate::parse::did_you_mean(&tool.name, custom.iter().copied()) {
            Some(near) => format!("; did you mean {near}?"),
            None if custom.is_empty() => "; it has none".into(),
            None => format!("; its custom tools: {}", custom.join(", ")),
        };
        let message = format!(
            "--tool {}: agent {agent} has no custom tool of that name{hint}",
            crate::output::escape_controls(&tool.name)
        );
        if strict {
            return Err(crate::exit::Failure(Exit::Usage, message));
        }
        crate::output::note(&format!("warning: {message}"));
    }
    Ok(())
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

/// The most characters of a command's stdout a result holds.
pub const OUTPUT_LIMIT: usize = 30_000;
/// The bytes of stdout kept in memory: enough for [`OUTPUT_LIMIT`] characters of any UTF-8.
const OUTPUT_KEPT: usize = OUTPUT_LIMIT * 4;
/// The bytes of the end of stderr an error result holds.
const STDERR_TAIL: usize = 2_000;

/// A command's stdout: its start in memory and, once longer than that, the whole of it in a
/// file.
#[derive(Default)]
struct Captured {
    start: Vec<u8>,
    total: u64,
    file: Option<Result<std::path::PathBuf, String>>,
}

/// Creates a new file for an output too long for a result, in the temporary folder.
fn spill_file() -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    use std::sync::atomic::AtomicUsize;
    static N: AtomicUsize = AtomicUsize::new(0);
    loop {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "managed-agents-tool-output-{}-{n}.txt",
            std::process::id()
        ));
        match std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reads stdout to its end: the first [`OUTPUT_KEPT`] bytes in memory, everything into a file
/// once there is more (a file that cannot be written is reported, and the rest read and
/// dropped so the command is never blocked).
fn output_reader(mut from: impl Read + Send + 'static) -> JoinHandle<Captured> {
    std::thread::spawn(move || {
        let mut c = Captured::default();
        let mut file: Option<std::fs::File> = None;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            c.total += n as u64;
            let room = OUTPUT_KEPT - c.start.len();
            if n <= room && c.file.is_none() {
                c.start.extend_from_slice(&buf[..n]);
                continue;
            }
            if c.file.is_none() {
                c.file = Some(
                    match spill_file()
                        .and_then(|(path, mut f)| f.write_all(&c.start).map(|()| (path, f)))
                    {
                        Ok((path, f)) => {
                            file = Some(f);
                            Ok(path)
                        }
                        Err(e) => Err(e.to_string()),
                    },
                );
                c.start.extend_from_slice(&buf[..room.min(n)]);
            }
            if let Some(f) = &mut file {
                if let Err(e) = f.write_all(&buf[..n]) {
                    c.file = Some(Err(e.to_string()));
                    file = None;
                }
            }
        }
        c
    })
}

/// Reads stderr to its end, keeping its last [`STDERR_TAIL`] bytes.
fn tail_reader(mut from: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut tail = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    tail.extend_from_slice(&buf[..n]);
                    if tail.len() > 2 * STDERR_TAIL {
                        tail.drain(..tail.len() - STDERR_TAIL);
                    }
                }
            }
        }
        if tail.len() > STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
        tail
    })
}

/// Makes the result's text: stdout up to [`OUTPUT_LIMIT`] characters, then a line naming the file
/// that holds all of it.
fn result_text(c: Captured) -> String {
    let text = String::from_utf8_lossy(&c.start);
    let text = text.trim_end();
    let cut = text.char_indices().nth(OUTPUT_LIMIT).map(|(i, _)| i);
    if cut.is_none() && c.file.is_none() {
        return text.to_string();
    }
    let shown = &text[..cut.unwrap_or(text.len())];
    let whole = match c.file {
        Some(Ok(path)) => format!("saved whole in {}", path.display()),
        Some(Err(e)) => format!("the rest could not be saved: {e}"),
        // over the limit in characters, not in bytes: the whole is in memory
        None => match spill_file().and_then(|(path, mut f)| f.write_all(&c.start).map(|()| path)) {
            Ok(path) => format!("saved whole in {}", path.display()),
            Err(e) => format!("the rest could not be saved: {e}"),
        },
    };
    format!(
        "{shown}\n[output truncated at {OUTPUT_LIMIT} characters of {} bytes; {whole}]",
        c.total
    )
}

/// Makes the end of stderr as an error result shows it.
fn stderr_tail(tail: Vec<u8>) -> String {
    let text = String::from_utf8_lossy(&tail);
    let text = text.trim();
    if text.is_empty() {
        " (no stderr)".into()
    } else {
        format!("; stderr ends:\n{text}")
    }
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
    // its own spans (if it makes any) are children of the tool call's
    crate::telemetry::pass_context(&mut cmd);
    // registered before it can start children, so Ctrl-C right now still reaches it
    groups::spawn(&mut cmd)
}

/// Waits for the child until `limit` (or the deadline), killing its group then.
fn wait(child: &mut Child, limit: Deadline) -> (std::io::Result<ExitStatus>, bool) {
    let group = child.id() as i32;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Ok(status), false),
            Ok(None) if limit.is_expired() => {
                groups::kill(group);
                return (child.wait(), true);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                groups::kill(group);
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
    let mut child = spawn(&tool.command).map_err(|e| {
        ToolFailure::Failed(format!(
            "the command of tool {:?} could not start: {e}",
            tool.name
        ))
    })?;
    let group = child.id() as i32;
    let stdin = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            // a command that does not read its input closes the pipe: not an error
            let _ = stdin.write_all(input.as_bytes());
        })
    });
    let stdout = child.stdout.take().map(output_reader);
    let stderr = child.stderr.take().map(tail_reader);
    let (status, timed_out) = wait(&mut child, Deadline::after(limit).min(deadline));
    // what it left running in the background goes with it (and lets the pipes close)
    groups::end(group);
    if let Some(h) = stdin {
        let _ = h.join();
    }
    let out = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = stderr_tail(stderr.and_then(|h| h.join().ok()).unwrap_or_default());
    let status = status
        .map_err(|e| ToolFailure::Failed(format!("the command could not be waited for: {e}")))?;
    if timed_out {
        let why = if deadline.is_expired() {
            "the run's deadline passed".to_string()
        } else {
            format!("timed out after {}", humantime::format_duration(limit))
        };
        return Err(ToolFailure::Failed(format!(
            "the command was killed: {why}{err}"
        )));
    }
    if status.success() {
        return Ok(result_text(out));
    }
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(sig) if interrupted() => Err(ToolFailure::Killed(format!(
            "the command was stopped by Ctrl-C (signal {sig})"
        ))),
        Some(sig) => Err(ToolFailure::Killed(format!(
            "the command was killed by signal {sig}{err}"
        ))),
        None => Err(ToolFailure::Failed(format!(
            "the command exited with status {}{err}",
            status.code().unwrap_or(-1)
        ))),
    }
}
