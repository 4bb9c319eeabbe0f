//! `run` (one session end to end) and `batch` (one session per task, N at a time, resumable).

use crate::args::{Args, Usage};
use crate::{client, exit, out, Failure};
use managed_agents::runner::{Outcome, RunError, StopReason};
use managed_agents::types::*;
use managed_agents::Client;
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const RUN_HELP: &str = "\
Usage: managed-agents run --agent ID[@VERSION] --environment ID (--message TEXT | --message-file F) [options]

Creates a session, sends the message, answers custom tool calls by running commands, prints the
agent's text as it arrives (or every event as a JSON line with --json), and stops when the turn ends.

Options:
  --agent ID[@VERSION]          the agent (its latest version unless one is given)
  --environment ID              the environment
  --message TEXT | --message-file F
  --title TEXT                  the session's title
  --resource file:FILE_ID:PATH  mount an uploaded file (repeatable)
  --vault ID                    a vault of credentials (repeatable)
  --tool NAME=COMMAND           answer the custom tool NAME by running COMMAND with `sh -c`: the tool
                                input as JSON on stdin, its stdout the result, a non-zero exit an error
  --deadline DURATION           the whole run's deadline (default 10m; 30s, 10m, 1h)
  --download-outputs DIR        download the session's output files into DIR at the end
  --json                        events as JSON lines on stdout, then a summary line

Exit codes: 0 end_turn, 1 API error, 2 bad arguments, 3 terminated, 4 deadline, 5 stopped otherwise.

Example:
  managed-agents run --agent agent_011CZx --environment env_011CZx --message 'Review the auth module' \\
      --tool run_tests='pytest -q \"$(jq -r .test_path)\"' --download-outputs out/
";

const BATCH_HELP: &str = "\
Usage: managed-agents batch TASKS.jsonl --out RESULTS.jsonl [options]

Runs one session per line of TASKS.jsonl, N at a time on one client, and appends one line per
finished task to RESULTS.jsonl: {\"id\", \"session_id\", \"stop_reason\", \"text\", \"usage\", \"error\"}.
Running it again with the same --out skips the tasks already there (resumable after a crash or
Ctrl-C). Ctrl-C stops starting new sessions and lets the running ones finish; a second Ctrl-C
quits at once.

A task line: {\"id\": \"t1\", \"message\": \"...\"} with optional \"agent\" (ID or ID@VERSION),
\"environment\", \"title\", \"vault_ids\", \"resources\" (as the API takes them).

Options:
  --out FILE              where results go (required)
  --parallel N            sessions at once (default 4)
  --agent ID[@VERSION]    the agent of tasks that name none
  --environment ID        the environment of tasks that name none
  --tool NAME=COMMAND     as for `run` (repeatable)
  --deadline DURATION     each session's deadline (default 10m)
  --retry-failed          run again the tasks whose result has an error

Example:
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --parallel 8 --out results.jsonl
";

/// `NAME=COMMAND` pairs.
fn tools(a: &Args) -> Result<Vec<(String, String)>, Usage> {
    a.all("tool")
        .into_iter()
        .map(|t| match t.split_once('=') {
            Some((n, c)) if !n.is_empty() && !c.is_empty() => Ok((n.to_string(), c.to_string())),
            _ => Err(Usage(format!("--tool {t:?}: expected NAME=COMMAND"))),
        })
        .collect()
}

/// `agent_x` or `agent_x@3`.
fn agent_ref(spec: &str) -> Result<SessionCreateParamsAgent, Usage> {
    match spec.split_once('@') {
        Some((id, v)) => {
            let v: i64 = v.parse().map_err(|_| {
                Usage(format!(
                    "agent {spec:?}: the version after @ must be a number"
                ))
            })?;
            Ok(AgentParams::new(id).version(v).into())
        }
        None => Ok(spec.into()),
    }
}

/// Runs a tool's command: the input as JSON on stdin, stdout the result.
fn run_command(command: &str, input: &serde_json::Map<String, Value>) -> Result<String, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {command:?}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(Value::Object(input.clone()).to_string().as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{command:?} failed: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
        let code = out
            .status
            .code()
            .map_or("a signal".to_string(), |c| format!("status {c}"));
        Err(format!(
            "{command:?} exited with {code}: {}",
            if stderr.is_empty() { stdout } else { stderr }
        ))
    }
}

fn stop_code(reason: &Option<StopReason>) -> u8 {
    match reason {
        Some(StopReason::EndTurn) => exit::OK,
        Some(StopReason::Terminated) | Some(StopReason::Deleted) => exit::TERMINATED,
        _ => exit::STOPPED,
    }
}

fn stop_name(reason: &Option<StopReason>) -> String {
    match reason {
        Some(StopReason::EndTurn) => "end_turn".into(),
        Some(StopReason::RetriesExhausted) => "retries_exhausted".into(),
        Some(StopReason::Terminated) => "terminated".into(),
        Some(StopReason::Deleted) => "deleted".into(),
        Some(StopReason::Idle(r)) => r.tag().unwrap_or("unknown").to_string(),
        None => "none".into(),
    }
}

/// What one session needs.
struct Task {
    id: String,
    agent: String,
    environment: String,
    message: String,
    title: Option<String>,
    vault_ids: Vec<String>,
    resources: Vec<Value>,
}

/// Creates the session and runs it to the end of the turn.
fn run_one(
    c: &Client,
    t: &Task,
    tools: &[(String, String)],
    deadline: Duration,
    on_event: &mut dyn FnMut(&SessionEvent),
) -> Result<(String, Result<Outcome, RunError>), Failure> {
    let mut params = SessionCreateParams::new(agent_ref(&t.agent)?, t.environment.as_str());
    if let Some(title) = &t.title {
        params = params.title(title.as_str());
    }
    if !t.vault_ids.is_empty() {
        params = params.vault_ids(t.vault_ids.clone());
    }
    if !t.resources.is_empty() {
        let resources: Vec<SessionCreateParamsResource> =
            serde_json::from_value(Value::Array(t.resources.clone()))
                .map_err(|e| Failure(exit::USAGE, format!("task {}: resources: {e}", t.id)))?;
        params = params.resources(resources);
    }
    let session = c.sessions().create(&params)?;
    let mut runner = c
        .run(&session.id)
        .message(t.message.as_str())
        .deadline(deadline)
        .on_event(on_event);
    for (name, command) in tools {
        let command = command.clone();
        runner = runner.tool(name.as_str(), move |call| {
            run_command(&command, &call.input)
        });
    }
    Ok((session.id, runner.until_idle()))
}

fn resource(spec: &str) -> Result<Value, Usage> {
    let parts: Vec<&str> = spec.splitn(3, ':').collect();
    match parts.as_slice() {
        ["file", id, mount] if !id.is_empty() && !mount.is_empty() => {
            Ok(json!({"type": "file", "file_id": id, "mount_path": mount}))
        }
        _ => Err(Usage(format!(
            "--resource {spec:?}: expected file:FILE_ID:MOUNT_PATH"
        ))),
    }
}

pub fn run(argv: &[String]) -> Result<u8, Failure> {
    if argv.iter().any(|a| a == "--help" || a == "-h") {
        out(RUN_HELP.trim_end());
        return Ok(exit::OK);
    }
    let a = Args::parse(
        argv,
        &[
            "agent",
            "environment",
            "message",
            "message-file",
            "title",
            "resource",
            "vault",
            "tool",
            "deadline",
            "download-outputs",
        ],
        &["json"],
    )?;
    if let Some(extra) = a.positional.first() {
        return Err(Usage(format!("unexpected argument {extra:?}")).into());
    }
    let message = match (a.get("message"), a.get("message-file")) {
        (Some(m), None) => m.to_string(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| Failure(exit::USAGE, format!("--message-file {f}: {e}")))?,
        _ => return Err(Usage("give one of --message or --message-file".into()).into()),
    };
    let task = Task {
        id: "run".into(),
        agent: a.require("agent")?.to_string(),
        environment: a.require("environment")?.to_string(),
        message,
        title: a.get("title").map(String::from),
        vault_ids: a.all("vault").into_iter().map(String::from).collect(),
        resources: a
            .all("resource")
            .into_iter()
            .map(resource)
            .collect::<Result<_, _>>()?,
    };
    let tools = tools(&a)?;
    let deadline = a.duration("deadline")?.unwrap_or(Duration::from_secs(600));
    let json_mode = a.has("json");
    let c = client()?;
    let mut stdout = std::io::stdout();
    let mut on_event = |ev: &SessionEvent| {
        if json_mode {
            let _ = writeln!(stdout, "{}", serde_json::to_string(ev).unwrap_or_default());
        } else if let SessionEvent::AgentMessage(m) = ev {
            let _ = writeln!(stdout, "{}", m.text());
        }
        let _ = stdout.flush();
    };
    let (session_id, result) = run_one(&c, &task, &tools, deadline, &mut on_event)?;
    let (outcome, error) = match result {
        Ok(o) => (o, None),
        Err(e) => (*e.outcome, Some(e.error)),
    };
    if let Some(dir) = a.get("download-outputs") {
        download_outputs(&c, &session_id, dir)?;
    }
    let usage = outcome.usage.clone().unwrap_or_default();
    let summary = json!({
        "session_id": session_id,
        "stop_reason": error.as_ref().map_or_else(|| stop_name(&outcome.stop_reason), |_| "error".into()),
        "events": outcome.events.len(),
        "tool_calls": outcome.tool_calls.len(),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "error": error.as_ref().map(|e| e.to_string()),
    });
    if json_mode {
        out(&summary.to_string());
    } else {
        eprintln!(
            "{}: {} events, {} tool calls, {} input / {} output tokens, session {session_id}",
            summary["stop_reason"].as_str().unwrap_or(""),
            outcome.events.len(),
            outcome.tool_calls.len(),
            usage.input_tokens.unwrap_or(0),
            usage.output_tokens.unwrap_or(0)
        );
    }
    match error {
        Some(e) => Err(Failure::from(e)),
        None => Ok(stop_code(&outcome.stop_reason)),
    }
}

fn download_outputs(c: &Client, session_id: &str, dir: &str) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure(exit::USAGE, format!("--download-outputs {dir}: {e}")))?;
    for f in c.files().list(&FileListParams::scope(session_id))? {
        let f = f?;
        // only the last component of a name the API gave: a file never lands outside DIR
        let name = Path::new(&f.filename)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| f.id.clone());
        let path = Path::new(dir).join(name);
        let n = c.files().download(&f.id)?.copy_to_path(&path)?;
        eprintln!("downloaded {} ({n} bytes)", path.display());
    }
    Ok(())
}

use std::path::Path;

/// Reads and checks every task line; errors name the line.
fn read_tasks(
    path: &str,
    agent: Option<&str>,
    environment: Option<&str>,
) -> Result<Vec<Task>, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure(exit::USAGE, format!("{path}: {e}")))?;
    let mut tasks = Vec::new();
    let mut ids = HashSet::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = format!("{path}:{}", i + 1);
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Failure(exit::USAGE, format!("{at}: not JSON: {e}")))?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        let id = field("id")
            .ok_or_else(|| Failure(exit::USAGE, format!("{at}: a task needs a string \"id\"")))?;
        if !ids.insert(id.clone()) {
            return Err(Failure(
                exit::USAGE,
                format!("{at}: the id {id:?} is used twice"),
            ));
        }
        let message = field("message")
            .ok_or_else(|| Failure(exit::USAGE, format!("{at}: a task needs a \"message\"")))?;
        let agent = field("agent")
            .or(agent.map(String::from))
            .ok_or_else(|| Failure(exit::USAGE, format!("{at}: no \"agent\" and no --agent")))?;
        let environment = field("environment")
            .or(environment.map(String::from))
            .ok_or_else(|| {
                Failure(
                    exit::USAGE,
                    format!("{at}: no \"environment\" and no --environment"),
                )
            })?;
        let vault_ids = v
            .get("vault_ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let resources = v
            .get("resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        tasks.push(Task {
            title: field("title").or(Some(id.clone())),
            id,
            agent,
            environment,
            message,
            vault_ids,
            resources,
        });
    }
    Ok(tasks)
}

/// The task ids already in the results file (done), leaving out failed ones when asked.
fn done_ids(path: &str, retry_failed: bool) -> Result<HashSet<String>, Failure> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(HashSet::new());
    };
    let mut done = HashSet::new();
    for line in text.lines() {
        // a line cut by a crash is not a result
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let failed = !v["error"].is_null();
        if let Some(id) = v["id"].as_str() {
            if !(failed && retry_failed) {
                done.insert(id.to_string());
            }
        }
    }
    Ok(done)
}

pub fn batch(argv: &[String]) -> Result<u8, Failure> {
    if argv.iter().any(|a| a == "--help" || a == "-h") {
        out(BATCH_HELP.trim_end());
        return Ok(exit::OK);
    }
    let a = Args::parse(
        argv,
        &[
            "out",
            "parallel",
            "agent",
            "environment",
            "tool",
            "deadline",
        ],
        &["retry-failed"],
    )?;
    let tasks_path = a.positional(0, "the tasks file (TASKS.jsonl)")?;
    let out_path = a.require("out")?.to_string();
    let parallel = a.number("parallel")?.unwrap_or(4);
    if parallel == 0 {
        return Err(Usage("--parallel must be at least 1".into()).into());
    }
    let tools = tools(&a)?;
    let deadline = a.duration("deadline")?.unwrap_or(Duration::from_secs(600));
    let tasks = read_tasks(tasks_path, a.get("agent"), a.get("environment"))?;
    let done = done_ids(&out_path, a.has("retry-failed"))?;
    let todo: VecDeque<Task> = tasks
        .into_iter()
        .filter(|t| !done.contains(&t.id))
        .collect();
    let total = todo.len();
    let c = client()?;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out_path)
        .map_err(|e| Failure(exit::USAGE, format!("--out {out_path}: {e}")))?;
    eprintln!(
        "{total} tasks to run ({} already done), {parallel} at a time",
        done.len()
    );

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("\ninterrupted again: quitting now");
                std::process::exit(exit::INTERRUPTED as i32);
            }
            eprintln!("\ninterrupted: no new sessions; waiting for the running ones (Ctrl-C again to quit now)");
        });
    }
    let queue = Arc::new(Mutex::new(todo));
    let out = Arc::new(Mutex::new(out));
    let (finished, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let terminal = std::io::stderr().is_terminal();
    let workers: Vec<_> = (0..parallel.min(total.max(1)))
        .map(|_| {
            let (c, queue, out, stop, tools) = (c.clone(), queue.clone(), out.clone(), stop.clone(), tools.clone());
            let (finished, failed) = (finished.clone(), failed.clone());
            std::thread::spawn(move || loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(task) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front() else { return };
                let result = run_one(&c, &task, &tools, deadline, &mut |_| {});
                let line = match result {
                    Ok((session_id, Ok(o))) => json!({"id": task.id, "session_id": session_id, "stop_reason": stop_name(&o.stop_reason),
                        "text": o.text(), "usage": o.usage, "error": null}),
                    Ok((session_id, Err(e))) => json!({"id": task.id, "session_id": session_id, "stop_reason": stop_name(&e.outcome.stop_reason),
                        "text": e.outcome.text(), "usage": e.outcome.usage, "error": e.error.to_string()}),
                    Err(Failure(_, msg)) => json!({"id": task.id, "session_id": null, "stop_reason": null, "text": "", "usage": null, "error": msg}),
                };
                let ok = line["error"].is_null() && line["stop_reason"] == "end_turn";
                {
                    let mut f = out.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = writeln!(f, "{line}");
                    let _ = f.flush();
                }
                let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                let bad = if ok { failed.load(Ordering::SeqCst) } else { failed.fetch_add(1, Ordering::SeqCst) + 1 };
                if terminal {
                    eprint!("\r{n}/{total} done, {bad} failed");
                } else {
                    eprintln!("task {}: {}", task.id, line["error"].as_str().unwrap_or(line["stop_reason"].as_str().unwrap_or("")));
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    if terminal {
        eprintln!();
    }
    let (n, bad) = (
        finished.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst),
    );
    if stop.load(Ordering::SeqCst) && n < total {
        return Err(Failure(
            exit::INTERRUPTED,
            format!("interrupted: {n} of {total} tasks finished; run again with the same --out to resume"),
        ));
    }
    eprintln!("{n} tasks finished, {bad} failed; results in {out_path}");
    Ok(if bad == 0 { exit::OK } else { exit::API })
}
