//! `batch`: one session per task line, N at a time on one client, each result appended to a
//! locked results file; a second run with the same file does only what is left. The whole
//! tasks file is checked first and every bad line reported at once.

use crate::cli::BatchArgs;
use crate::parse::parse_task_line;
use crate::progress::Progress;
use crate::results::Results;
use crate::run::{agent_ref, run_task, tool_commands, Task};
use crate::{client, exit, note, tools, Failure};
use managed_agents::Deadline;
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Checks one line; the error names the field.
fn task(line: &str, agent: Option<&str>, environment: Option<&str>) -> Result<Task, String> {
    let t = parse_task_line(line)?;
    let agent = t
        .agent
        .or(agent.map(String::from))
        .ok_or("no \"agent\" and no --agent")?;
    agent_ref(&agent).map_err(|e| format!("field `agent`: {e}"))?;
    let environment = t
        .environment
        .or(environment.map(String::from))
        .ok_or("no \"environment\" and no --environment")?;
    Ok(Task {
        title: t.title.or(Some(t.id.clone())),
        id: t.id,
        agent,
        environment,
        message: t.message,
        vault_ids: t.vault_ids,
        resources: t.resources,
    })
}

/// Reads and checks every task line; every bad line is reported, then exit 2.
fn read_tasks(
    path: &str,
    agent: Option<&str>,
    environment: Option<&str>,
) -> Result<Vec<Task>, Failure> {
    let src = crate::input::read(path)?;
    let mut tasks = Vec::new();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    for (i, line) in src.text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", src.name, i + 1);
        match task(line, agent, environment) {
            Ok(t) if !ids.insert(t.id.clone()) => {
                errors.push(format!("{at}: the id {:?} is used twice", t.id))
            }
            Ok(t) => tasks.push(t),
            Err(e) => errors.push(format!("{at}: {e}")),
        }
    }
    if let Some(last) = errors.pop() {
        for e in &errors {
            note(&format!("error: {}", crate::escape_controls(e)));
        }
        let more = if errors.is_empty() {
            String::new()
        } else {
            format!(" ({} bad lines)", errors.len() + 1)
        };
        return Err(Failure(exit::USAGE, format!("{last}{more}")));
    }
    if tasks.is_empty() {
        return Err(Failure(exit::USAGE, format!("{}: no tasks", src.name)));
    }
    Ok(tasks)
}

/// The ids of tasks already done: a result that ended the turn, or any other unless retrying
/// failures; never one whose tool was killed.
fn done_ids(prior: &[Value], retry_failed: bool) -> HashSet<String> {
    let mut done = HashSet::new();
    for v in prior {
        let failed = !v["error"].is_null() || v["stop_reason"] != json!("end_turn");
        let killed = v["tool_killed"] == json!(true);
        if let Some(id) = v["id"].as_str() {
            let retry = killed || (failed && retry_failed);
            if !retry {
                done.insert(id.to_string());
            }
        }
    }
    done
}

pub fn batch(a: BatchArgs, quiet: bool) -> Result<u8, Failure> {
    let tasks = read_tasks(&a.tasks, a.agent.as_deref(), a.environment.as_deref())?;
    let c = client()?;
    let tasks_path = (a.tasks != "-").then(|| Path::new(&a.tasks));
    let (results, prior) = Results::open(&a.out, tasks_path)?;
    let done = done_ids(&prior, a.retry_failed);
    let todo: VecDeque<Task> = tasks
        .into_iter()
        .filter(|t| !done.contains(&t.id))
        .collect();
    let total = todo.len();
    let parallel = usize::from(a.parallel).min(total.max(1));
    if !quiet {
        note(&format!(
            "{total} tasks to run ({} already done), {parallel} at a time",
            done.len()
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                tools::interrupt();
                note("\ninterrupted again: quitting now");
                std::process::exit(exit::INTERRUPTED.into());
            }
            note("\ninterrupted: no new sessions; waiting for the running ones (Ctrl-C again to quit now)");
        });
    }
    let queue = Mutex::new(todo);
    let results = Mutex::new(results);
    let progress = Progress::new(total, quiet);
    let tools = tool_commands(&a.tools);
    let write_error = Mutex::new(None::<Failure>);
    std::thread::scope(|s| {
        for _ in 0..parallel {
            s.spawn(|| loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(task) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front() else {
                    return;
                };
                progress.started();
                let deadline = Deadline::after(a.deadline);
                let ran = run_task(
                    &c,
                    &task,
                    &tools,
                    a.tools.tool_timeout,
                    deadline,
                    &mut |_| {},
                );
                let error = ran.error_text((a.deadline, deadline));
                let mut line = json!({"id": task.id, "session_id": ran.session_id,
                    "stop_reason": ran.stop_name(), "text": ran.text(),
                    "usage": ran.outcome.usage, "error": error});
                if ran.killed.is_some() {
                    line["tool_killed"] = json!(true);
                }
                let ok = error.is_none() && ran.stop_name() == "end_turn";
                let written = results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .write(&line);
                if let Err(e) = written {
                    // results cannot be kept: start nothing more
                    stop.store(true, Ordering::SeqCst);
                    *write_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                }
                let outcome = error.unwrap_or_else(|| ran.stop_name());
                progress.finished(&task.id, ok, &outcome);
            });
        }
    });
    progress.finish();
    tools::kill_all();
    results.lock().unwrap_or_else(|p| p.into_inner()).sync()?;
    if let Some(e) = write_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let (n, bad) = progress.counts();
    if stop.load(Ordering::SeqCst) && n < total {
        return Err(Failure(
            exit::INTERRUPTED,
            format!("interrupted: {n} of {total} tasks finished; run again with the same --out to resume"),
        ));
    }
    if !quiet {
        note(&format!(
            "{n} tasks finished, {bad} failed; results in {}",
            a.out.display()
        ));
    }
    Ok(if bad == 0 { exit::OK } else { exit::API })
}
