//! `batch`: its arguments, help and `exec`: one session per task line, at most N at a time on
//! one client (fewer while the API rate-limits it: `throttle`), each result appended to a
//! locked results file; a second run with the same file does only what is left, carrying on in the sessions its journal names. `batch cleanup` archives
//! the batch's sessions no task claims. With `--shard I/N` it runs only its shard's tasks (one
//! machine of N); `batch summary` merges the shards' results files.

use crate::client::{client, client_with};
use crate::cost::{self, Budget};
use crate::exit::{Exit, Failure};
use crate::journal::Journal;
use crate::output::note;
use crate::parse::duration;
use crate::plan::{failed_before, Prior, Queue, TaskFile};
use crate::progress::Progress;
use crate::results::Results;
use crate::shard::{self, ShardArg};
use crate::signals;
use crate::task::{give_up, run_task_with, Ends, OnDeadline};
use crate::throttle::Throttle;
use crate::tools::{self, ToolArgs};
use clap::{Args, Subcommand};
use managed_agents::types::SessionListParams;
use managed_agents::{Client, Deadline};
use serde_json::json;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Holds the arguments of `batch`.
#[derive(Args, Debug)]
#[command(after_help = "\
Runs one session per line of TASKS, N at a time on one client, and appends one line per finished
task to --out: {\"id\", \"session_id\", \"stop_reason\", \"text\", \"usage\", \"error\"}. Running it
again with the same --out skips the tasks already there (resumable after a crash or Ctrl-C).
Each task's session is journaled in --out's journal (FILE.journal, fsync'd) as soon as it exists,
before its message, and created with the metadata {\"batch\": BATCH_ID, \"task\": TASK_ID}; a run
again carries on in it: a session whose turn ended is recorded without sending anything, one
still running is followed, one never sent its message gets it. No crash makes a task pay for a
second session. `batch cleanup --out FILE` archives the batch's sessions no task claims.
Ctrl-C stops starting new sessions and lets the running ones finish; a second Ctrl-C (or SIGTERM,
SIGHUP) quits, doing with the running sessions what --on-deadline says.
A task whose tool command was killed by a signal gets \"tool_killed\": true, its call is left
unanswered, and it runs again in the same session (the call answered anew), up to --max-attempts
times in all. A failed task is not done: a run again says how many failed before, runs
them with --retry-failed, and exits 1 while failures remain.

A task line: {\"id\": \"t1\", \"message\": \"...\"} with optional \"agent\" (ID or ID@VERSION),
\"environment\", \"title\", \"vault_ids\", \"resources\" (as the API takes them).

Many machines: --shard I/N runs only the tasks of shard I (from 0) of N, each task in exactly one
shard by a stable hash of its id (64-bit FNV-1a), the same on every machine and release; each
shard writes its own --out, and `batch summary results-*.jsonl` merges them. --shard N takes I
from JOB_COMPLETION_INDEX, as a Kubernetes Indexed Job sets it (docs/kubernetes/).

Budgets: --max-cost USD caps the whole batch, --session-max-cost USD each session. Each new
session is created with the API's budget ({\"type\": \"limit\", \"max_list_cost\": ..}) of the smaller
of --session-max-cost and what is left of --max-cost; what is spent is the sum of the list_cost
the API reports in the usage of the batch's sessions (each session once, prior runs' results
included). Once it reaches --max-cost no new session starts and the tasks left are not run.
Sessions running at once each start with what was left when they started, so together they can
spend past --max-cost by at most that; --session-max-cost bounds each. A session that reaches its
budget ends with stop_reason \"budget_reached\" (a failed task). The closing line totals the
sessions' tokens, cache tokens, list_cost and active_seconds. No price is known locally.

Rate limits: the batch slows down as a whole when the API answers 429, instead of each session
retrying on its own. --parallel is the most sessions at once; the batch starts with 4 and allows
one more after each successful request until the first 429. A 429 halves how many sessions may
run and how many requests may be in flight at once (not below 1), holds every request of the
batch until its retry-after has passed, and sends the refused request again then (the API acted
on none it refused), for as long as the session's --deadline allows; after as many successful
requests in a row as sessions are allowed, one more is (additive increase, multiplicative
decrease). From the first 429 on, the batch's requests are also paced: a 429 halves the pace
the requests went at, each success quickens it by a 32nd, and a new session starts only when no
request waits for its turn (a limit of requests a minute is not kept by fewer requests at once
when each takes milliseconds). No task fails on a 429 unless its deadline passes. --fixed-parallel keeps --parallel
sessions at once from the start, each request retrying its own 429s as the official SDKs do
(twice), so a task can fail on one. The closing line counts the 429s and gives the pace.

Exit codes: 0 every task done, 1 failures remain or the API or connection failed (retryable), 2
bad arguments, tasks file, --shard or --out, 6 the budget is spent (--max-cost: tasks left not
run) or sessions ended on their budgets and nothing else failed (2 and 6: do not retry, a
Kubernetes podFailurePolicy FailIndex), 129, 130, 143 a signal ended it (retryable: a run again
resumes).

Examples:
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --parallel 8 --out results.jsonl
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --shard 0/3 --out results-0.jsonl
  managed-agents batch summary results-*.jsonl")]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub command: Option<BatchCmd>,
    /// The tasks, one JSON object a line (`-`: stdin, first copied to a file in --out's folder
    /// that is removed at once). Every line is checked before anything starts; a task is read
    /// again when it starts, so a batch holds no task that waits.
    #[arg(value_name = "TASKS.jsonl", required = true)]
    pub tasks: Option<String>,
    /// Where results go (appended; locked while the batch runs); its journal is FILE.journal.
    #[arg(long, value_name = "FILE", required = true)]
    pub out: Option<PathBuf>,
    /// The batch's id, the metadata `batch` of its sessions (default: the one its journal
    /// names, else the results file's name and the start time).
    #[arg(long, value_name = "ID")]
    pub batch_id: Option<String>,
    /// What to do with a session the batch gives up on (its --deadline passed, the batch
    /// quits): interrupt it (`user.interrupt`; a run again asks its task again in it),
    /// interrupt and archive it, or leave it running.
    #[arg(long, value_name = "WHAT", value_enum, default_value = "interrupt")]
    pub on_deadline: OnDeadline,
    /// The most sessions at once; fewer while the API rate-limits the batch (see below).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub parallel: u16,
    /// Keep --parallel sessions at once whatever the API's rate limits: each request retries
    /// its 429s on its own, as the official SDKs do (2 retries), and a task can fail on one.
    #[arg(long)]
    pub fixed_parallel: bool,
    /// The agent of tasks that name none.
    #[arg(long, value_name = "ID[@VERSION]")]
    pub agent: Option<String>,
    /// The environment of tasks that name none.
    #[arg(long, value_name = "ID")]
    pub environment: Option<String>,
    #[command(flatten)]
    pub tools: ToolArgs,
    /// Each session's deadline, its creation included.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = duration)]
    pub deadline: Duration,
    /// Run again the tasks that did not end their turn (an error, a deadline, another stop).
    #[arg(long)]
    pub retry_failed: bool,
    /// The most times one task is run, over every run with the same --out: a task whose tool
    /// was killed runs again until then, a failed one with --retry-failed.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_attempts: u16,
    /// A --tool name a task's agent has no custom tool of is an error (exit 2), not a warning.
    #[arg(long)]
    pub strict_tools: bool,
    /// Run only shard I (from 0) of N: the tasks whose id hashes to it. `N` alone takes I
    /// from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's). Give each shard its own --out.
    #[arg(long, value_name = "I/N", value_parser = shard::parse_arg)]
    pub shard: Option<ShardArg>,
    /// The whole batch's budget in US dollars (e.g. 25 or 2.50): the list cost the API reports
    /// for its sessions, prior runs' included; once spent, no new session starts (exit 6).
    #[arg(long, value_name = "USD", value_parser = cost::parse_usd)]
    pub max_cost: Option<u64>,
    /// Each session's budget in US dollars, sent as its API budget on create (capped by what
    /// is left of --max-cost).
    #[arg(long, value_name = "USD", value_parser = cost::parse_usd)]
    pub session_max_cost: Option<u64>,
}

/// Names `batch`'s subcommands.
#[derive(Subcommand, Debug)]
pub enum BatchCmd {
    /// Archive the sessions of a batch (by their metadata) that no task of it claims.
    Cleanup(CleanupArgs),
    /// Merge results files (a batch's shards) into one account: done, failed, usage.
    Summary(SummaryArgs),
}

/// Holds the arguments of `batch summary`.
#[derive(Args, Debug)]
#[command(after_help = "\
Reads results files (one per shard of a batch run with --shard, or any batch's) and counts each
task once: done when one of its lines ended its turn, else failed with its last error. Usage is
summed field by field, each session once (its last line: a session's usage is its whole, over
attempts), list_cost included. A task in more than one file is
named: the shards overlapped, or one tasks file was run twice. With --tasks, the tasks no file
names are counted (and listed) as not run: a shard that never ran. Exits 0 when every task is
done, 1 when some failed or did not run, 2 when a file cannot be read.

Examples:
  managed-agents batch summary results-*.jsonl
  managed-agents batch summary results-*.jsonl --tasks tasks.jsonl --json")]
pub struct SummaryArgs {
    /// The results files.
    #[arg(value_name = "RESULTS.jsonl", required = true)]
    pub files: Vec<PathBuf>,
    /// The batch's tasks file: its tasks no results file names are counted as not run.
    #[arg(long, value_name = "TASKS.jsonl")]
    pub tasks: Option<String>,
    /// Print the account as JSON: {"tasks", "done", "failed", "usage", "failures", ..}.
    #[arg(long)]
    pub json: bool,
}

/// Holds the arguments of `batch cleanup`.
#[derive(Args, Debug)]
#[command(after_help = "\
Lists the sessions, and archives those whose metadata names the batch of FILE's journal and
that neither the journal nor the results claim: sessions a run created and was killed before
journaling, never sent a message. Not while the batch runs (its results file is locked).

Example:
  managed-agents batch cleanup --out results.jsonl")]
pub struct CleanupArgs {
    /// The batch's results file (its journal, FILE.journal, names the batch).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// The sessions running now, and what to do with them if the batch quits.
static RUNNING: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static GIVE_UP: OnceLock<(Client, OnDeadline, Arc<Throttle>)> = OnceLock::new();
/// Set once the batch quits: a session that ends from here on ended on the batch's own
/// interrupt, so its task gets no result and a run again asks it again.
static QUITTING: AtomicBool = AtomicBool::new(false);

fn running() -> std::sync::MutexGuard<'static, Option<HashSet<String>>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Does with every session still running what `--on-deadline` says (interrupt, archive or
/// leave them), all at once, before the batch quits.
fn give_up_running() {
    QUITTING.store(true, Ordering::SeqCst);
    let Some((c, how, throttle)) = GIVE_UP.get() else {
        return;
    };
    // no request waits out a rate limit's hold any more: the interrupts go now
    throttle.release();
    let ids: Vec<String> = running().take().unwrap_or_default().into_iter().collect();
    std::thread::scope(|s| {
        for id in &ids {
            s.spawn(move || note(&give_up(c, id, *how)));
        }
    });
}

/// The longest metadata value the API takes.
const METADATA_VALUE_MAX: usize = 512;

/// Runs `batch` (or `batch cleanup`).
pub fn exec(a: BatchArgs, quiet: bool) -> Result<Exit, Failure> {
    // Ctrl-C is the batch's own (finish the running sessions); SIGTERM and SIGHUP end it
    // now, its tools with it (a resume runs the tasks not written)
    signals::on_termination(|stop| {
        QUITTING.store(true, Ordering::SeqCst);
        tools::interrupt();
        note(&format!(
            "\n{}: quitting now; run again with the same --out to resume",
            stop.name()
        ));
        give_up_running();
        stop.code().exit();
    });
    match &a.command {
        Some(BatchCmd::Cleanup(c)) => return cleanup(&c.out, quiet),
        Some(BatchCmd::Summary(s)) => {
            return crate::summary::exec(&s.files, s.tasks.as_deref(), s.json)
        }
        None => {}
    }
    let shard = match a.shard {
        Some(s) => Some(s.resolve(std::env::var(shard::INDEX_VAR).ok().as_deref())?),
        None => None,
    };
    let (Some(tasks_file), Some(out)) = (a.tasks.clone(), a.out.clone()) else {
        return Err(Failure(Exit::Usage, "give TASKS.jsonl and --out".into()));
    };
    if let Some(id) = a.batch_id.as_deref() {
        if id.is_empty() || id.chars().count() > METADATA_VALUE_MAX {
            return Err(Failure(
                Exit::Usage,
                format!(
                    "--batch-id: 1 to {METADATA_VALUE_MAX} characters (it is a metadata value)"
                ),
            ));
        }
    }
    // the first pass: every line checked, 8 bytes kept a task; stdin is spooled beside --out
    let spool_dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let task_file = TaskFile::open(
        &tasks_file,
        spool_dir,
        a.agent.as_deref(),
        a.environment.as_deref(),
    )?;
    let checked = task_file.check(shard)?;
    if let Some(s) = shard {
        if !quiet {
            note(&format!(
                "shard {s}: {} of {} tasks",
                checked.hashes.len(),
                checked.all
            ));
        }
    }
    // every request of the batch goes through its rate-limit controller
    let throttle = Arc::new(Throttle::new(usize::from(a.parallel), !a.fixed_parallel));
    let c = client_with(Some(throttle.clone()))?;
    let tools = a.tools.commands();
    tools::check_unique(&tools)?;
    for agent in &checked.agents {
        tools::check_names(&c, agent, &tools, a.strict_tools)?;
    }
    let tasks_path = (tasks_file != "-").then(|| Path::new(&tasks_file));
    let max_attempts = usize::from(a.max_attempts);
    let budget = Budget::new(a.max_cost, a.session_max_cost, &[]);
    // what earlier runs left: a few bytes a task, no line kept
    let mut before = Prior::new(a.retry_failed, max_attempts);
    let results = Results::open(&out, tasks_path, |v| {
        before.result(&v);
        budget.prior(&v);
    })?;
    // the last session journaled for a task, when no result names it: carried on
    let journal = Journal::open(&out, a.batch_id.as_deref(), |t, s| before.journaled(t, s))?;
    let batch_id = journal.batch.clone();
    let counts = before.count(&checked.hashes);
    let (done, failed) = (counts.done, counts.failed);
    drop(checked);
    // the second pass: tasks read from the file as workers take them
    let todo = Queue::new(&task_file, shard, before, counts.todo)?;
    let total = counts.todo;
    let parallel = usize::from(a.parallel).min(total.max(1));
    throttle.cap(parallel);
    if !quiet {
        note(&format!(
            "{total} tasks to run ({done} already done{}), {parallel} at a time",
            failed_before(&counts, max_attempts)
        ));
    }
    *running() = Some(HashSet::new());
    let _ = GIVE_UP.set((c.clone(), a.on_deadline, throttle.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                QUITTING.store(true, Ordering::SeqCst);
                tools::interrupt();
                note("\ninterrupted again: quitting now");
                give_up_running();
                Exit::Interrupted.exit();
            }
            note("\ninterrupted: no new sessions; waiting for the running ones (Ctrl-C again to quit now)");
        });
    }
    if !quiet {
        if let Some(m) = budget.max {
            note(&format!(
                "budget: {} of {} spent",
                cost::usd(budget.spent()),
                cost::usd(m)
            ));
        }
    }
    // set when the batch's budget left a task not run
    let budget_stop = AtomicBool::new(false);
    let budget_ended = AtomicUsize::new(0);
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
                // a slot of the sessions allowed at once (fewer while rate-limited), held
                // until the task ends
                let queue_empty = || queue.lock().unwrap_or_else(|p| p.into_inner()).is_empty();
                let Some(_slot) = throttle.acquire(|| stop.load(Ordering::SeqCst) || queue_empty())
                else {
                    return;
                };
                let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
                if q.is_empty() {
                    return;
                }
                // the budget spent: no new session (nor a carried-on one) starts
                let cap = budget.session_cap();
                if cap == Some(0) || budget.is_spent() {
                    budget_stop.store(true, Ordering::SeqCst);
                    return;
                }
                let mut task = match q.pop() {
                    Some(Ok(t)) => t,
                    Some(Err(e)) => {
                        // the tasks file changed under the batch: start nothing more
                        stop.store(true, Ordering::SeqCst);
                        *write_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        return;
                    }
                    None => return,
                };
                drop(q);
                task.max_cost = cap;
                task.metadata.insert("batch".into(), batch_id.clone());
                if task.id.chars().count() <= METADATA_VALUE_MAX {
                    task.metadata.insert("task".into(), task.id.clone());
                }
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
                if error.is_none() && ran.stop_name() == "budget_reached" {
                    budget_ended.fetch_add(1, Ordering::SeqCst);
                }
                budget.record(&line);
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
    if QUITTING.load(Ordering::SeqCst) {
        // the tasks ended because the batch is quitting: the thread that quits gives up the
        // running sessions and ends the process with the signal's own status
        loop {
            std::thread::park();
        }
    }
    if let Some(e) = write_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let (n, bad) = progress.counts();
    if stop.load(Ordering::SeqCst) && n < total {
        return Err(Failure(
            Exit::Interrupted,
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
        note(&format!("usage: {}", budget.line()));
        let r = throttle.account();
        if r.rate_limited > 0 {
            let how = if a.fixed_parallel {
                format!("{} sessions at once throughout (--fixed-parallel)", r.max)
            } else {
                let pace = r
                    .pace
                    .map(|p| format!("; requests paced at {p:.2} a second"))
                    .unwrap_or_default();
                format!(
                    "sessions at once went down to {} and are at {} of {}{pace}",
                    r.lowest, r.limit, r.max
                )
            };
            note(&format!(
                "rate limited: {} requests answered 429; {how}",
                r.rate_limited
            ));
        }
    }
    if budget_stop.load(Ordering::SeqCst) && n < total {
        return Err(Failure(
            Exit::Budget,
            format!(
                "budget spent: {} of --max-cost {}; {} tasks not run",
                cost::usd(budget.spent()),
                cost::usd(budget.max.unwrap_or(0)),
                total - n
            ),
        ));
    }
    let ended_on_budget = budget_ended.load(Ordering::SeqCst);
    // failures remain, from this run or an earlier one
    Ok(if bad + failed == 0 {
        Exit::Ok
    } else if failed == 0 && bad == ended_on_budget {
        // every failure is a session that reached its budget: running it again spends no more
        Exit::Budget
    } else {
        Exit::Api
    })
}

/// Runs `batch cleanup`: archives the sessions of the batch of `out` (by their metadata) that no
/// task claims (neither its journal nor its results name them): sessions created by a run
/// that crashed before journaling them, never sent a message.
fn cleanup(out: &Path, quiet: bool) -> Result<Exit, Failure> {
    let (batch, journaled) = Journal::read(out)?;
    // the results file's lock: never while the batch runs
    let mut claimed: HashSet<String> = journaled.into_iter().map(|(_, s)| s).collect();
    let _lock = Results::open(out, None, |v| {
        if let Some(s) = v["session_id"].as_str() {
            claimed.insert(s.to_string());
        }
    })?;
    let c = client()?;
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
    Ok(if failed == 0 { Exit::Ok } else { Exit::Api })
}
