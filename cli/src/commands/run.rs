//! `run`: one session end to end, its arguments, its help and its `exec`: the task made from
//! the flags, the agent's messages (or every event with `--json`) on stdout, a summary line,
//! Ctrl-C and the signals interrupting the session, the outputs downloaded at the end.

use crate::client::client;
use crate::download::{self, Existing};
use crate::exit::{Exit, Failure};
use crate::output::{escape_controls, note, out};
use crate::parse::duration;
use crate::signals;
use crate::task::{agent_ref, interrupt_session, run_task_with, Ends, OnDeadline, Task};
use crate::tools::{self, ToolArgs};
use clap::Args;
use managed_agents::types::*;
use managed_agents::{Client, Deadline};
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Holds the arguments of `run`.
#[derive(Args, Debug)]
#[command(after_help = "\
Exit codes: 0 end_turn, 1 API error, 2 bad arguments, 3 terminated or deleted, 4 deadline,
5 stopped otherwise, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.

Ctrl-C, SIGTERM and SIGHUP kill the tool commands running (their whole process groups) and send
the session `user.interrupt`; so does the deadline (--on-deadline archive archives it too). The
session's id is printed either way.

Examples:
  managed-agents run --agent agent_011CZx --environment env_011CZx --message 'Review the auth module' \\
      --tool run_tests='pytest -q \"$(jq -r .test_path)\"' --download-outputs out/
  echo 'Summarise README.md' | managed-agents run --agent agent_011CZx --environment env_011CZx --message-file -")]
pub struct RunArgs {
    /// The agent, at its latest version unless one is given.
    #[arg(long, value_name = "ID[@VERSION]")]
    pub agent: String,
    /// The environment.
    #[arg(long, value_name = "ID")]
    pub environment: String,
    /// The user message.
    #[arg(
        long,
        required_unless_present = "message_file",
        conflicts_with = "message_file"
    )]
    pub message: Option<String>,
    /// Read the user message from a file (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<String>,
    /// The session's title.
    #[arg(long)]
    pub title: Option<String>,
    /// Mount an uploaded file (repeatable).
    #[arg(long, value_name = "file:FILE_ID:PATH")]
    pub resource: Vec<String>,
    /// A vault of credentials (repeatable).
    #[arg(long, value_name = "ID")]
    pub vault: Vec<String>,
    #[command(flatten)]
    pub tools: ToolArgs,
    /// The whole run's deadline, session creation included.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = duration)]
    pub deadline: Duration,
    /// What to do with the session when the deadline passes: interrupt it (`user.interrupt`:
    /// its turn ends, it stays for a later message) or interrupt and archive it.
    #[arg(long, value_name = "WHAT", value_enum, default_value = "interrupt")]
    pub on_deadline: OnDeadline,
    /// Download the session's output files into DIR at the end (never overwriting a file).
    #[arg(long, value_name = "DIR")]
    pub download_outputs: Option<PathBuf>,
    /// Every event as a JSON line on stdout, then a summary line.
    #[arg(long)]
    pub json: bool,
    /// A --tool name the agent has no custom tool of is an error (exit 2), not a warning.
    #[arg(long)]
    pub strict_tools: bool,
}

fn resource(spec: &str) -> Result<SessionCreateParamsResource, Failure> {
    let parts: Vec<&str> = spec.splitn(3, ':').collect();
    match parts.as_slice() {
        ["file", id, mount] if !id.is_empty() && !mount.is_empty() => {
            serde_json::from_value(json!({"type": "file", "file_id": id, "mount_path": mount}))
                .map_err(|e| Failure(Exit::Usage, format!("--resource {spec:?}: {e}")))
        }
        _ => Err(Failure(
            Exit::Usage,
            format!("--resource {spec:?}: expected file:FILE_ID:MOUNT_PATH"),
        )),
    }
}

/// Runs `run`: one session end to end.
pub fn exec(a: RunArgs, quiet: bool) -> Result<Exit, Failure> {
    // the whole run, session creation included
    let deadline = Deadline::after(a.deadline);
    let message = match (&a.message, &a.message_file) {
        (Some(m), _) => m.clone(),
        (None, Some(f)) => crate::input::read(f)?.text,
        (None, None) => {
            return Err(Failure(
                Exit::Usage,
                "give --message or --message-file".into(),
            ))
        }
    };
    if message.trim().is_empty() {
        return Err(Failure(Exit::Usage, "the message is empty".into()));
    }
    agent_ref(&a.agent).map_err(|m| Failure(Exit::Usage, format!("--agent: {m}")))?;
    if let Some(dir) = &a.download_outputs {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure(
                Exit::Usage,
                format!("--download-outputs {}: {e}", dir.display()),
            )
        })?;
    }
    let task = Task {
        id: "run".into(),
        agent: a.agent.clone(),
        environment: a.environment.clone(),
        message,
        title: a.title.clone(),
        vault_ids: a.vault.clone(),
        resources: a
            .resource
            .iter()
            .map(|r| resource(r))
            .collect::<Result<_, _>>()?,
        session: None,
        resumable: false,
        journaled: false,
        max_cost: None,
        metadata: Default::default(),
    };
    let c = client()?;
    let tool_commands = a.tools.commands();
    tools::check_unique(&tool_commands)?;
    tools::check_names(&c, &a.agent, &tool_commands, a.strict_tools)?;
    // the session, once created: a signal interrupts it before the run exits
    let session: Arc<Mutex<Option<String>>> = Arc::default();
    {
        let (c, session) = (c.clone(), session.clone());
        signals::on_stop(move |stop| {
            tools::interrupt();
            download::remove_partial();
            let id = session.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match id {
                Some(id) => note(&format!(
                    "\ninterrupted ({}): {}",
                    stop.name(),
                    interrupt_session(&c, &id, false)
                )),
                None => note(&format!(
                    "\ninterrupted ({}) before the session was created",
                    stop.name()
                )),
            }
            stop.code().exit();
        });
    }
    let json_mode = a.json;
    let terminal = std::io::stdout().is_terminal();
    let mut on_event = |ev: &SessionEvent| {
        if json_mode {
            out(&serde_json::to_string(ev).unwrap_or_default());
        } else if let SessionEvent::AgentMessage(m) = ev {
            out(&printable(&m.text(), terminal));
        }
    };
    let ran = run_task_with(
        &c,
        &task,
        &tool_commands,
        a.tools.tool_timeout,
        deadline,
        &mut on_event,
        Ends {
            on_created: &mut |id| {
                *session.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.to_string());
                true
            },
            on_deadline: a.on_deadline,
        },
    );
    // a tool still running (past the deadline) goes with the run
    tools::kill_all();
    if let (Some(dir), Some(id)) = (&a.download_outputs, &ran.session_id) {
        download_outputs(&c, id, dir, quiet)?;
    }
    let usage = ran.outcome.usage.clone().unwrap_or_default();
    let error = ran.error_text((a.deadline, deadline));
    let summary = json!({
        "session_id": ran.session_id,
        "stop_reason": ran.stop_name(),
        "events": ran.outcome.events_seen,
        "tool_calls": ran.outcome.tool_calls.len(),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "error": error,
    });
    if json_mode {
        out(&summary.to_string());
    } else if !quiet && error.is_none() {
        note(&format!(
            "{}: {} events, {} tool calls, {} input / {} output tokens, session {}",
            ran.stop_name(),
            ran.outcome.events_seen,
            ran.outcome.tool_calls.len(),
            usage.input_tokens.unwrap_or(0),
            usage.output_tokens.unwrap_or(0),
            ran.session_id.as_deref().unwrap_or("not created"),
        ));
    }
    match error {
        // one line: what went wrong, and the session to look at (and what was done with it)
        Some(e) => Err(Failure(
            ran.code(),
            match (&ran.left, &ran.session_id) {
                (Some(left), _) => format!("{e} ({left})"),
                (None, Some(id)) => format!("{e} (session {id})"),
                (None, None) => e,
            },
        )),
        None => Ok(ran.code()),
    }
}

/// Prepares the agent's text for a terminal: line breaks and tabs kept, other control characters
/// (escape sequences that could move the cursor or rewrite the screen) escaped.
fn printable(text: &str, terminal: bool) -> String {
    if !terminal {
        return text.to_string();
    }
    text.split('\n')
        .map(|line| {
            line.split('\t')
                .map(escape_controls)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Downloads a session's output files into `dir`: plain names only, nothing overwritten (a
/// taken name gets a number).
pub fn download_outputs(
    c: &Client,
    session_id: &str,
    dir: &Path,
    quiet: bool,
) -> Result<(), Failure> {
    for f in c.files().list(&FileListParams::scope(session_id))? {
        let f = f?;
        let name = download::local_name(&f.filename, &f.id);
        let (path, n) = download::save(c.files().download(&f.id)?, dir, &name, Existing::Rename)?;
        if !quiet {
            note(&format!("downloaded {} ({n} bytes)", path.display()));
        }
    }
    Ok(())
}
