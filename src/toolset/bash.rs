//! The `bash` tool: one persistent `/bin/bash` per toolset, in its own process group.
//!
//! As the official toolsets do, the shell lives across calls (its working directory, variables
//! and background jobs carry over); each command runs as `{ CMD\n} </dev/null` followed by
//! `printf '\n<sentinel>%d\n'` of its status on stderr and then stdout, with a random sentinel
//! per call; stdout and stderr are read apart until the sentinel on each (the text is stdout
//! then stderr, or stderr first when the command failed; a long one cut and saved whole in a
//! file of the work directory, as `bash_output` says). Unlike the official ones, the command
//! reaches the shell as the text of a here-document (ended by a random delimiter) that the
//! shell `eval`s: a command that does not parse (an unclosed quote, a stray `}`) fails with
//! status 2 and leaves the shell and its state as they were, where sent as is it would end the
//! shell or leave it waiting for the rest of the quote until the time limit.
//!
//! The shell runs in a process group of its own; at the time limit, on restart and when the
//! toolset is closed or dropped the whole group is killed (SIGKILL), background jobs and
//! their children included. A process that leaves the group on purpose (`setsid`) escapes
//! that: only the operating system (a cgroup, a container) can hold it.

use super::bash_output::{Ends, Output, Pipe};
use super::{nonce, AgentToolContext, Outcome, ToolResult, BASH_DEFAULT_TIMEOUT};
use crate::deadline::Deadline;
use rustix::process::{Pid, Signal};
use serde::Deserialize;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long a timed-out command's output is still collected after its group is killed.
const OUTPUT_GRACE: Duration = Duration::from_secs(1);
/// How long the output of a shell that was ended or exited is still collected: a process
/// that left the group (or a background job) can hold the pipe open for good.
const EXIT_DRAIN: Duration = Duration::from_millis(200);
/// How often a running command's shell is checked for having exited.
const EXIT_POLL: Duration = Duration::from_millis(100);

/// The bash tool's input (`BetaManagedAgentsAgentToolset20260401BashInput`).
#[derive(Debug, Deserialize)]
pub(crate) struct BashInput {
    command: Option<String>,
    restart: Option<bool>,
    timeout_ms: Option<u64>,
}

/// What a new shell is started from.
pub(crate) struct Shell<'a> {
    pub ctx: &'a AgentToolContext,
    pub workdir: &'a Path,
    pub group: &'a Arc<Group>,
}

/// The process group of the toolset's running shell, killable from any thread while a
/// command runs, with the output its command waits on. It is set while the shell's process
/// is not yet reaped, so its id is never one the system has given to another process.
#[derive(Default)]
pub(crate) struct Group {
    running: Mutex<Option<(Pid, Arc<Shared>)>>,
    /// The file holding the last long output, which the result named.
    saved: Mutex<Option<PathBuf>>,
}

impl Group {
    fn set(&self, running: Option<(Pid, Arc<Shared>)>) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = running;
    }

    /// Removes the file of the last long output, if there is one.
    pub(crate) fn remove_saved(&self) {
        let saved = self.saved.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(path) = saved {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Kills the whole group of the running shell, if there is one, and tells the command
    /// waiting on its output that the shell was ended: it returns without waiting for the
    /// output's end, which a process that left the group can hold off for good.
    pub(crate) fn kill(&self) {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((pid, shared)) = &*running {
            let _ = rustix::process::kill_process_group(*pid, Signal::KILL);
            shared.lock().ended = true;
            shared.changed.notify_all();
        }
    }
}

/// Runs one bash call on the toolset's shell, starting it if there is none.
pub(crate) fn call(
    session: &mut Option<BashSession>,
    shell: Shell<'_>,
    input: BashInput,
    deadline: Deadline,
) -> Outcome {
    if input.restart == Some(true) {
        *session = None;
        *session = Some(start(&shell)?);
        if input.command.as_deref().unwrap_or("").is_empty() {
            return Ok(ToolResult::text_result("bash session restarted"));
        }
    }
    let command = match input.command.as_deref() {
        Some(c) if !c.is_empty() => c,
        _ => return Err("bash: command is required".into()),
    };
    let timeout = match input.timeout_ms {
        Some(ms) if ms > 0 => Duration::from_millis(ms).min(BASH_DEFAULT_TIMEOUT),
        _ => BASH_DEFAULT_TIMEOUT,
    };
    let shell_ctx = shell.ctx;
    let shell = match session {
        Some(shell) => shell,
        None => session.insert(start(&shell)?),
    };
    match shell.exec(command, timeout, deadline) {
        Ok((out, 0)) => Ok(ToolResult::text_result(out)),
        Ok((out, code)) if out.is_empty() => Err(format!("exit code: {code}")),
        Ok((out, code)) => Err(format!("{out}\nexit code: {code}")),
        Err(failure) => {
            // The shell is in an unknown state (a command still running, or gone): end it and
            // its whole group, so nothing of this command reaches the next call.
            *session = None;
            if let Some(stopped) = &shell_ctx.hooks.call_stopped {
                stopped();
            }
            Err(failure)
        }
    }
}

fn start(shell: &Shell<'_>) -> Result<BashSession, String> {
    BashSession::start(shell).map_err(|e| format!("bash: cannot start /bin/bash: {e}"))
}

/// This process's environment without its `ANTHROPIC_*` variables, nor any variable that
/// holds the value of one of them (a key copied under another name is a key too).
fn inherited_env() -> Vec<(OsString, OsString)> {
    // in any case, as the official toolset drops them (`anthropic_api_key` too)
    let anthropic = |k: &OsString| {
        k.as_encoded_bytes()
            .get(..10)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"ANTHROPIC_"))
    };
    let vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let keys: Vec<&OsString> = vars
        .iter()
        .filter(|(k, v)| {
            anthropic(k) && !k.eq_ignore_ascii_case("ANTHROPIC_BASE_URL") && !v.is_empty()
        })
        .map(|(_, v)| v)
        .collect();
    vars.iter()
        .filter(|(k, v)| !anthropic(k) && !keys.contains(&v))
        .cloned()
        .collect()
}

pub(crate) struct Shared {
    output: Mutex<Output>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running shell: its process (leader of its own process group), its standard input and
/// the output its drain thread collects.
pub(crate) struct BashSession {
    child: Child,
    stdin: Option<ChildStdin>,
    shared: Arc<Shared>,
    group: Arc<Group>,
    workdir: PathBuf,
}

impl BashSession {
    fn start(shell: &Shell<'_>) -> io::Result<BashSession> {
        let (ctx, workdir) = (shell.ctx, shell.workdir);
        let env: Vec<(OsString, OsString)> = match &ctx.env {
            Some(vars) => vars.clone(),
            None => inherited_env(),
        };
        // stdout and stderr apart, as the official shell keeps them.
        let (out_reader, out_writer) = io::pipe()?;
        let (err_reader, err_writer) = io::pipe()?;
        let mut command = Command::new("/bin/bash");
        command
            .args(["--noprofile", "--norc"])
            .current_dir(workdir)
            .env_clear()
            .envs(env)
            .env("PS1", "")
            .env("PS2", "")
            .env("TERM", "dumb")
            // no history file: what the agent typed stays out of the work directory's parent
            .env("HISTFILE", "")
            .stdin(Stdio::piped())
            .stdout(out_writer)
            .stderr(err_writer)
            .process_group(0);
        let mut child = command.spawn()?;
        // Our copies of the pipe's write end must go, or the reader never sees its end.
        drop(command);
        let shared = Arc::new(Shared {
            output: Mutex::new(Output::default()),
            changed: Condvar::new(),
        });
        for (pipe, reader) in [(Pipe::Stdout, out_reader), (Pipe::Stderr, err_reader)] {
            let drain = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name("toolset-bash-output".into())
                .spawn(move || drain_output(reader, pipe, &drain));
            if let Err(e) = spawned {
                kill_group(&mut child);
                return Err(e);
            }
        }
        let stdin = child.stdin.take();
        shell
            .group
            .set(Some((Pid::from_child(&child), Arc::clone(&shared))));
        Ok(BashSession {
            child,
            stdin,
            shared,
            group: Arc::clone(shell.group),
            workdir: workdir.to_path_buf(),
        })
    }

    /// Runs `command`, by `timeout` or `deadline` (the earlier): its output (ANSI escapes
    /// removed, a long one cut and saved) and exit status, or why there is none.
    fn exec(
        &mut self,
        command: &str,
        timeout: Duration,
        deadline: Deadline,
    ) -> Result<(String, i32), String> {
        let sentinel = format!("__ANT_CMD_{}_DONE__", nonce());
        // Split by '' so the sentinel never appears whole in what the shell is sent.
        let (head, tail) = sentinel.split_at(8);
        let delimiter = format!("__ANT_EOF_{}", nonce());
        let wrapped = format!(
            "IFS= read -r -d '' __ANT_CMD <<'{delimiter}'\n{command}\n{delimiter}\n\
             {{ eval \"$__ANT_CMD\"\n}} </dev/null; __ANT_STATUS=$?; \
             printf '\\n{head}''{tail}%d\\n' \"$__ANT_STATUS\" >&2; \
             printf '\\n{head}''{tail}%d\\n' \"$__ANT_STATUS\"; unset __ANT_CMD __ANT_STATUS\n"
        );
        self.shared.lock().start(sentinel.as_bytes());
        let stdin = self.stdin.as_mut().ok_or("bash: session closed")?;
        if let Err(e) = stdin
            .write_all(wrapped.as_bytes())
            .and_then(|()| stdin.flush())
        {
            return Err(format!("bash: the shell is gone: {e}"));
        }

        let limit = Deadline::after(timeout);
        let until = deadline.min(limit);
        let mut out = self.shared.lock();
        loop {
            if let Some((ends, code)) = out.sentinel() {
                let text = self.finish(&mut out, ends, code == 0);
                return Ok((text, code));
            }
            if out.closed() || out.ended {
                // The output still in the pipe, for a moment at most: a process that left
                // the group can keep the pipe open after the shell is gone.
                out = self.drain(out, EXIT_DRAIN);
                let ends = out.all();
                let text = self.finish(&mut out, ends, false);
                return Err(join(
                    text,
                    "bash: the shell exited or was ended; a new one starts at the next call".into(),
                ));
            }
            let left = until.remaining().unwrap_or(EXIT_POLL);
            if left.is_zero() {
                // Kill the group now, then collect what it wrote before it died (the output
                // still in the pipe), for a moment at most.
                drop(out);
                let _ =
                    rustix::process::kill_process_group(Pid::from_child(&self.child), Signal::KILL);
                out = self.drain(self.shared.lock(), OUTPUT_GRACE);
                let ends = out.all();
                let text = self.finish(&mut out, ends, false);
                let why = if until == limit {
                    format!(
                        "bash: command timed out after {}; the shell was restarted",
                        seconds(timeout)
                    )
                } else {
                    "bash: the call's deadline passed before the command finished; the shell was restarted".to_string()
                };
                return Err(join(text, why));
            }
            out = self
                .shared
                .changed
                .wait_timeout(out, left.min(EXIT_POLL))
                .unwrap_or_else(|e| e.into_inner())
                .0;
            if !out.closed() && matches!(self.child.try_wait(), Ok(Some(_))) {
                // The shell itself ended (`exit`): what it left is read as if it was ended,
                // and its group (background jobs) killed at once, as the official toolset
                // does, before the reaped shell's id can be given to another process. (The
                // output's lock is let go first: `Group::kill` takes the two the other way.)
                drop(out);
                let _ =
                    rustix::process::kill_process_group(Pid::from_child(&self.child), Signal::KILL);
                self.group.set(None);
                out = self.shared.lock();
                out.ended = true;
            }
        }
    }

    /// The text the agent gets of the output up to `end` (a long one saved in a file of the
    /// work directory, which replaces the last).
    fn finish(&self, out: &mut Output, ends: Ends, succeeded: bool) -> String {
        let mut saved = self.group.saved.lock().unwrap_or_else(|e| e.into_inner());
        out.finish(ends, succeeded, &self.workdir, &mut saved)
    }

    /// Waits up to `grace` for the end of the output, and gives back the lock.
    fn drain<'a>(
        &self,
        mut out: std::sync::MutexGuard<'a, Output>,
        grace: Duration,
    ) -> std::sync::MutexGuard<'a, Output> {
        let grace = Deadline::after(grace);
        while !out.closed() {
            match grace.remaining() {
                Some(r) if !r.is_zero() => {
                    out = self
                        .shared
                        .changed
                        .wait_timeout(out, r)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                _ => break,
            }
        }
        out
    }
}

impl Drop for BashSession {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // Forget the group before the shell is reaped (its id is free for reuse after).
        self.group.set(None);
        kill_group(&mut self.child);
    }
}

/// Kills the shell's whole process group and reaps the shell.
fn kill_group(child: &mut Child) {
    if rustix::process::kill_process_group(Pid::from_child(child), Signal::KILL).is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// Reads one of the shell's outputs until its end, handing it to the command that runs.
fn drain_output(mut reader: io::PipeReader, pipe: Pipe, shared: &Shared) {
    let mut chunk = [0u8; 8192];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => 0,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => 0,
        };
        let mut out = shared.lock();
        if n == 0 {
            out.close(pipe);
            shared.changed.notify_all();
            return;
        }
        out.push(pipe, &chunk[..n]);
        shared.changed.notify_all();
    }
}

fn join(text: String, why: String) -> String {
    if text.is_empty() {
        why
    } else {
        format!("{text}\n{why}")
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}
