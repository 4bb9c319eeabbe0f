//! `batch`: one session per task line, N at a time on one client, each result appended to a
//! locked results file; a second run with the same file does only what is left, carrying on
//! in the sessions its journal names. The whole tasks file is checked first and every bad line
//! reported at once. `batch cleanup` archives the batch's sessions no task claims.

use crate::cli::{BatchArgs, BatchCmd};
use crate::journal::Journal;
use crate::parse::parse_task_line;
use crate::progress::Progress;
use crate::results::Results;
use crate::run::{agent_ref, give_up, run_task_with, tool_commands, Ends, OnDeadline, Task};
use crate::{client, exit, note, tools, Failure};
use managed_agents::types::SessionListParams;
use managed_agents::{Client, Deadline};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The sessions running now, and what to do with them if the batch quits.
static RUNNING: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static GIVE_UP: OnceLock<(Client, OnDeadline)> = OnceLock::new();
/// Set once the batch quits: a session that ends from here on ended on the batch's own
/// interrupt, so its task gets no result and a run again asks it again.
static QUITTING: AtomicBool = AtomicBool::new(false);

fn running() -> std::sync::MutexGuard<'static, Option<HashSet<String>>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Does with every session still running what `--on-deadline` says (interrupt, archive or
/// leave them), all at once, before the batch quits.
pub fn give_up_running() {
    QUITTING.store(true, Ordering::SeqCst);
    let Some((c, how)) = GIVE_UP.get() else {
        return;
    };
    let ids: Vec<String> = running().take().unwrap_or_default().into_iter().collect();
    std::thread::scope(|s| {
        for id in &ids {
            s.spawn(move || note(&give_up(c, id, *how)));
        }
    });
}

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
        session: None,
        resumable: true,
        journaled: false,
        metadata: BTreeMap::new(),
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

/// What earlier runs left in the results file, by task id.
#[derive(Default)]
struct Prior {
    /// Tasks that ended their turn: never run again.
    done: HashSet<String>,
    /// Tasks to run again: their tool was killed, or they failed and failures are retried,
    /// with attempts left.
    again: HashSet<String>,
    /// Of those, the ones whose tool was killed in a session that is carried on.
    sessions: HashMap<String, String>,
    /// Failed tasks not run again: their number.
    failed: usize,
    /// Of those, the ones that used all their attempts.
    spent: usize,
}

/// Sorts the tasks of earlier results: a task is done once a result ended its turn; a failed
/// one is not done, and runs again while it has attempts left (`max_attempts` in all) when
/// its tool was killed or `retry_failed` is given.
fn prior(results: &[Value], retry_failed: bool, max_attempts: usize) -> Prior {
    // per id: (attempts, ended its turn, the session of the last attempt if its tool was killed)
    let mut seen: HashMap<&str, (usize, bool, Option<&str>)> = HashMap::new();
    for v in results {
        let Some(id) = v["id"].as_str() else { continue };
        let ok = v["error"].is_null() && v["stop_reason"] == json!("end_turn");
        let e = seen.entry(id).or_default();
        e.0 += 1;
        e.1 |= ok;
        e.2 = (v["tool_killed"] == json!(true)).then(|| v["session_id"].as_str().unwrap_or(""));
    }
    let mut p = Prior::default();
    for (id, (attempts, ok, killed_in)) in seen {
        let killed = killed_in.is_some();
        if ok {
            p.done.insert(id.to_string());
        } else if (killed || retry_failed) && attempts < max_attempts {
            p.again.insert(id.to_string());
            if let Some(session) = killed_in.filter(|s| !s.is_empty()) {
                p.sessions.insert(id.to_string(), session.to_string());
            }
        } else {
            p.failed += 1;
            if killed || retry_failed {
                p.spent += 1;
            }
        }
    }
    p
}

/// What the first line says of the failures of earlier runs that are not run again.
fn failed_before(p: &Prior, max_attempts: usize) -> String {
    if p.failed == 0 {
        return String::new();
    }
    let mut s = format!(", {} failed before", p.failed);
    if p.spent > 0 {
        s.push_str(&format!(
            " ({} after {max_attempts} attempts; --max-attempts allows more)",
            p.spent
        ));
    }
    if p.failed > p.spent {
        s.push_str(": --retry-failed runs them again");
    }
    s
}

/// The longest metadata value the API takes.
const METADATA_VALUE_MAX: usize = 512;

pub fn batch(a: BatchArgs, quiet: bool) -> Result<u8, Failure> {
    if let Some(BatchCmd::Cleanup(c)) = &a.command {
        return cleanup(&c.out, quiet);
    }
    let (Some(tasks_file), Some(out)) = (a.tasks.clone(), a.out.clone()) else {
        return Err(Failure(exit::USAGE, "give TASKS.jsonl and --out".into()));
    };
    if let Some(id) = a.batch_id.as_deref() {
        if id.is_empty() || id.chars().count() > METADATA_VALUE_MAX {
            return Err(Failure(
                exit::USAGE,
                format!(
                    "--batch-id: 1 to {METADATA_VALUE_MAX} characters (it is a metadata value)"
                ),
            ));
        }
    }
    let tasks = read_tasks(&tasks_file, a.agent.as_deref(), a.environment.as_deref())?;
    let c = client()?;
    let tools = tool_commands(&a.tools);
    tools::check_unique(&tools)?;
    let agents: std::collections::BTreeSet<&str> = tasks.iter().map(|t| t.agent.as_str()).collect();
    for agent in agents {
        tools::check_names(&c, agent, &tools, a.strict_tools)?;
    }
    let tasks_path = (tasks_file != "-").then(|| Path::new(&tasks_file));
    let (results, prior_results) = Results::open(&out, tasks_path)?;
    let journal = Journal::open(&out, a.batch_id.as_deref())?;
    let prior_ids: HashSet<&str> = prior_results
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    // the last session journaled for a task, when no result names it: carried on
    let resulted: HashSet<&str> = prior_results
        .iter()
        .filter_map(|v| v["session_id"].as_str())
        .collect();
    let mut pending: HashMap<String, String> = HashMap::new();
    for (task, session) in &journal.sessions {
        if resulted.contains(session.as_str()) {
            pending.remove(task);
        } else {
            pending.insert(task.clone(), session.clone());
        }
    }
    let batch_id = journal.batch.clone();
    let max_attempts = usize::from(a.max_attempts);
    let before = prior(&prior_results, a.retry_failed, max_attempts);
    let (mut done, mut failed) = (0, 0);
    let todo: VecDeque<Task> = tasks
        .into_iter()
        .filter(|t| {
            let ran = before.done.contains(&t.id);
            let run_again = before.again.contains(&t.id) || pending.contains_key(&t.id);
            done += usize::from(ran);
            // a task that failed before and is not run again
            failed += usize::from(!ran && !run_again && prior_ids.contains(t.id.as_str()));
            !ran && (run_again || !prior_ids.contains(t.id.as_str()))
        })
        .map(|mut t| {
            match pending.get(&t.id) {
                Some(s) => {
                    t.session = Some(s.clone());
                    t.journaled = true;
                }
                None => t.session = before.sessions.get(&t.id).cloned(),
            }
            t.metadata.insert("batch".into(), batch_id.clone());
            if t.id.chars().count() <= METADATA_VALUE_MAX {
                t.metadata.insert("task".into(), t.id.clone());
            }
            t
        })
        .collect();
    let total = todo.len();
    let parallel = usize::from(a.parallel).min(total.max(1));
    if !quiet {
        note(&format!(
            "{total} tasks to run ({done} already done{}), {parallel} at a time",
            failed_before(&Prior { failed, ..before }, max_attempts)
        ));
    }
    *running() = Some(HashSet::new());
    let _ = GIVE_UP.set((c.clone(), a.on_deadline));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                tools::interrupt();
                note("\ninterrupted again: quitting now");
                give_up_running();
                std::process::exit(exit::INTERRUPTED.into());
            }
            note("\ninterrupted: no new sessions; waiting for the running ones (Ctrl-C again to quit now)");
        });
    }
    let queue = Mutex::new(todo);
    let results = Mutex::new(results);
    let journal = Mutex::new(journal);
    let progress = Progress::new(total, quiet);
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
                if let (Some(s), Some(r)) = (&task.session, running().as_mut()) {
                    r.insert(s.clone());
                }
                let mut journal_failed = false;
                // journaled (and synced) before its message: a crash from here on never
                // pays for a second session
                let mut on_created = |id: &str| {
                    let recorded = journal
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(&task.id, id);
                    if let Err(e) = recorded {
                        journal_failed = true;
                        stop.store(true, Ordering::SeqCst);
                        *write_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        return false;
                    }
                    if let Some(r) = running().as_mut() {
                        r.insert(id.to_string());
                    }
                    true
                };
                let ran = run_task_with(
                    &c,
                    &task,
                    &tools,
                    a.tools.tool_timeout,
                    deadline,
                    &mut |_| {},
                    Ends {
                        on_created: &mut on_created,
                        on_deadline: a.on_deadline,
                    },
                );
                if let (Some(s), Some(r)) = (&ran.session_id, running().as_mut()) {
                    r.remove(s);
                }
                if journal_failed || QUITTING.load(Ordering::SeqCst) {
                    return;
                }
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
        let earlier = if failed > 0 {
            format!(" ({failed} more failed before)")
        } else {
            String::new()
        };
        note(&format!(
            "{n} tasks finished, {bad} failed{earlier}; results in {}",
            out.display()
        ));
    }
    // failures remain, from this run or an earlier one
    Ok(if bad + failed == 0 {
        exit::OK
    } else {
        exit::API
    })
}

/// `batch cleanup`: archives the sessions of the batch of `out` (by their metadata) that no
/// task claims (neither its journal nor its results name them): sessions created by a run
/// that crashed before journaling them, never sent a message.
fn cleanup(out: &Path, quiet: bool) -> Result<u8, Failure> {
    let (batch, journaled) = Journal::read(out)?;
    // the results file's lock: never while the batch runs
    let (_lock, results) = Results::open(out, None)?;
    let c = client()?;
    let mut claimed: HashSet<String> = journaled.into_iter().map(|(_, s)| s).collect();
    claimed.extend(
        results
            .iter()
            .filter_map(|v| v["session_id"].as_str().map(String::from)),
    );
    let mut orphans = Vec::new();
    for s in c
        .sessions()
        .list(&SessionListParams::default().limit(100))?
    {
        let s = s?;
        if s.archived_at.is_none()
            && s.metadata.get("batch").map(String::as_str) == Some(batch.as_str())
            && !claimed.contains(&s.id)
        {
            orphans.push(s.id);
        }
    }
    let mut failed = 0;
    for id in &orphans {
        match c.sessions().archive(id) {
            Ok(_) if !quiet => note(&format!("archived {id}: no task of the batch claims it")),
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                note(&format!("error: archiving {id}: {e}"));
            }
        }
    }
    if !quiet {
        note(&format!(
            "batch {batch}: {} sessions archived, {failed} could not be",
            orphans.len() - failed
        ));
    }
    Ok(if failed == 0 { exit::OK } else { exit::API })
}
