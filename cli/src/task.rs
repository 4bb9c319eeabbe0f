//! A task's session: created (or carried on, when a batch's journal names it) and its turn
//! run under one deadline, with tool commands as handlers; what is done with a session the
//! run gives up on (`--on-deadline`); how the run ended, as an exit code and a line. What
//! `run` and `batch` share.

use crate::exit::{Exit, Failure};
use crate::tools::{self, ToolCommand, ToolFailure};
use managed_agents::environments::StopSignal;
use managed_agents::runner::{Outcome, StopReason};
use managed_agents::types::*;
use managed_agents::{Client, Deadline, Error, RequestOptions};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What one session needs.
pub struct Task {
    pub id: String,
    pub agent: String,
    pub environment: String,
    pub message: String,
    pub title: Option<String>,
    pub vault_ids: Vec<String>,
    pub resources: Vec<SessionCreateParamsResource>,
    /// A session of an earlier attempt whose tool was killed: carried on (its call answered
    /// anew) instead of creating one.
    pub session: Option<String>,
    /// Whether a later attempt may carry on: a tool killed by a signal then leaves its call
    /// unanswered and ends the run (else its call gets an error result and the turn goes on).
    pub resumable: bool,
    /// Whether `session` comes from a batch's journal: its events say whether it got its
    /// message (else it gets it now) and whether its turn already ended (then nothing is
    /// sent and its result is read from its events).
    pub journaled: bool,
    /// The metadata the session is created with.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// The budget a new session is created with, in US cents (its `max_list_cost`).
    pub max_cost: Option<u64>,
}

/// How a task's run ended.
pub struct Ran {
    /// The session, once created.
    pub session_id: Option<String>,
    /// What happened (empty when the session could not be created).
    pub outcome: Outcome,
    /// Why it did not reach a stop.
    pub error: Option<Error>,
    /// A tool killed by a signal (or by Ctrl-C): the task is not done.
    pub killed: Option<String>,
    /// What was done with a session the deadline left running (its id in it).
    pub left: Option<String>,
}

impl Ran {
    /// Returns the exit code of this end.
    pub fn code(&self) -> Exit {
        if self.killed.is_some() && tools::interrupted() {
            return Exit::Interrupted;
        }
        match &self.error {
            // the session was deleted under the run
            Some(Error::Api { status: 404, .. }) if self.session_id.is_some() => Exit::Terminated,
            Some(e) => Failure::from(clone_kind(e)).0,
            None if self.killed.is_some() => Exit::Api,
            None => stop_code(&self.outcome.stop_reason),
        }
    }

    /// Returns the stop's name for output.
    pub fn stop_name(&self) -> String {
        match &self.error {
            Some(Error::Timeout { .. }) => "deadline".into(),
            Some(_) => "error".into(),
            None => stop_name(&self.outcome.stop_reason),
        }
    }

    /// Joins every agent message, one after the other with a line break between them.
    pub fn text(&self) -> String {
        self.outcome
            .events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::AgentMessage(m) => Some(m.text()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Returns the tool whose result the API refused, if one was.
    fn refused_result(&self) -> Option<&str> {
        self.outcome
            .tool_calls
            .iter()
            .find(|c| c.post_error.is_some())
            .map(|c| c.call.name.as_str())
    }

    /// Says the error to report, if any (a killed tool first). `deadline` is the task's whole
    /// deadline (`--deadline`): when it passed, the error names it (a request's own time
    /// limit names itself).
    pub fn error_text(&self, deadline: (Duration, Deadline)) -> Option<String> {
        match (&self.killed, &self.error) {
            (Some(k), _) => Some(format!("a tool did not finish: {k}")),
            (None, Some(e @ Error::Api { .. })) if self.refused_result().is_some() => {
                Some(format!(
                    "the API refused the result of tool {}: {e}",
                    self.refused_result().unwrap_or_default()
                ))
            }
            (None, Some(Error::Timeout { .. })) if deadline.1.is_expired() => Some(format!(
                "the deadline passed (--deadline {}) after {} events",
                humantime::format_duration(deadline.0),
                self.outcome.events_seen
            )),
            (None, Some(e)) => Some(e.to_string()),
            (None, None) => None,
        }
    }
}

/// Makes an error of the same kind (for its exit code).
fn clone_kind(e: &Error) -> Error {
    match e {
        Error::Timeout { message, .. } => Error::timeout(message.clone()),
        Error::InvalidInput { param, message, .. } => Error::invalid_input(param, message),
        _ => Error::connection(e.to_string()),
    }
}

fn stop_code(reason: &Option<StopReason>) -> Exit {
    match reason {
        Some(StopReason::EndTurn) => Exit::Ok,
        Some(StopReason::Terminated) | Some(StopReason::Deleted) => Exit::Terminated,
        _ => Exit::Stopped,
    }
}

fn stop_name(reason: &Option<StopReason>) -> String {
    match reason {
        Some(StopReason::EndTurn) => "end_turn".into(),
        Some(StopReason::RetriesExhausted) => "retries_exhausted".into(),
        Some(StopReason::Terminated) => "terminated".into(),
        Some(StopReason::Deleted) => "deleted".into(),
        Some(StopReason::Idle(r)) => r.tag().unwrap_or("unknown").to_string(),
        Some(other) => format!("{other:?}").to_lowercase(),
        None => "none".into(),
    }
}

/// Reads an agent as `agent_x` or `agent_x@3`.
pub fn agent_ref(spec: &str) -> Result<SessionCreateParamsAgent, String> {
    match spec.split_once('@') {
        Some((id, v)) => {
            let v: i64 = v
                .parse()
                .map_err(|_| format!("agent {spec:?}: the version after @ must be a number"))?;
            Ok(AgentParams::new(id).version(v).into())
        }
        None if spec.is_empty() => Err("the agent is empty".into()),
        None => Ok(spec.into()),
    }
}

/// What [`run_task_with`] does at the ends of a session's life.
pub struct Ends<'a> {
    /// Called with the session's id as soon as it exists (before its message); `false`
    /// leaves it unmessaged and ends the run.
    pub on_created: &'a mut dyn FnMut(&str) -> bool,
    /// What is done with the session when the deadline passes with its turn under way.
    pub on_deadline: OnDeadline,
}

/// Creates the task's session (or carries on in its own) and runs its turn, all before
/// `deadline`, doing what `ends` says when the session is created and when the run gives up.
/// The task is a trace of its own (`--otlp-endpoint`): a root span `managed_agents.task`
/// with the task's and the session's ids, the library's spans under it; with `TRACEPARENT`
/// set, the root is a child of the trace it names instead.
pub fn run_task_with(
    c: &Client,
    t: &Task,
    tools: &[ToolCommand],
    tool_timeout: Duration,
    deadline: Deadline,
    on_event: &mut dyn FnMut(&SessionEvent),
    ends: Ends<'_>,
) -> Ran {
    let span = tracing::info_span!(
        parent: None,
        "managed_agents.task",
        "managed_agents.task.id" = t.id.as_str(),
        "anthropic.session.id" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
    );
    // a child of the caller's trace when its environment names one (`TRACEPARENT`)
    crate::telemetry::adopt_parent(&span);
    let ran = span.in_scope(|| run_task(c, t, tools, tool_timeout, deadline, on_event, ends));
    if let Some(id) = &ran.session_id {
        span.record("anthropic.session.id", id.as_str());
    }
    span.record(
        "otel.status_code",
        if ran.error.is_some() { "error" } else { "ok" },
    );
    ran
}

fn run_task(
    c: &Client,
    t: &Task,
    tools: &[ToolCommand],
    tool_timeout: Duration,
    deadline: Deadline,
    on_event: &mut dyn FnMut(&SessionEvent),
    ends: Ends<'_>,
) -> Ran {
    let mut ran = Ran {
        session_id: None,
        outcome: Outcome::default(),
        error: None,
        killed: None,
        left: None,
    };
    let session_id = match &t.session {
        Some(id) => id.clone(),
        None => match create_session(c, t, deadline) {
            Ok(id) => id,
            Err(e) => {
                ran.error = Some(e);
                return ran;
            }
        },
    };
    ran.session_id = Some(session_id.clone());
    if t.session.is_none() && !(ends.on_created)(&session_id) {
        ran.error = Some(Error::invalid_input(
            "journal",
            "the session could not be journaled; it was not sent its message",
        ));
        return ran;
    }
    // a journaled session: what became of it decides what is sent
    let mut send_message = t.session.is_none();
    if t.journaled {
        match journaled_state(c, &session_id, deadline) {
            // a turn cut short (a batch that quit interrupted it) is asked again
            Ok(Journaled::Unmessaged | Journaled::Interrupted) => send_message = true,
            Ok(Journaled::Ended(outcome)) => {
                ran.outcome = *outcome;
                return ran;
            }
            Ok(Journaled::Going) => {}
            Err(e) => {
                ran.error = Some(e);
                return ran;
            }
        }
    }
    let Some(left) = deadline.remaining().filter(|d| !d.is_zero()) else {
        ran.error = Some(Error::timeout(
            "the deadline passed while creating the session",
        ));
        return ran;
    };
    let killed = Arc::new(Mutex::new(None::<String>));
    // a tool killed by a signal ends the run with its call unanswered, so that a later
    // attempt carries on in the same session
    let cancel = StopSignal::new();
    let over = Arc::new(AtomicBool::new(false));
    let mut runner = c
        .run(&session_id)
        .deadline(left)
        // the command's own limit comes first and kills it; this is the runner's backstop
        .handler_timeout(tool_timeout + Duration::from_secs(5))
        .cancel(cancel.clone())
        .on_event(on_event);
    if send_message {
        runner = runner.message(t.message.as_str());
    }
    for tool in tools {
        let (tool, killed, cancel, over) =
            (tool.clone(), killed.clone(), cancel.clone(), over.clone());
        let resumable = t.resumable;
        runner = runner.tool(tool.name.clone(), move |call| {
            let input = Value::Object(call.input.clone()).to_string();
            match tools::run(&tool, input, tool_timeout, deadline) {
                Ok(out) => Ok(out),
                Err(ToolFailure::Failed(m)) => Err(m),
                Err(ToolFailure::Killed(m)) => {
                    let local = format!("{}: {m}", tool.name);
                    *killed.lock().unwrap_or_else(|p| p.into_inner()) = Some(local);
                    if !resumable {
                        return Err(m);
                    }
                    cancel.set();
                    // held until the run has seen the cancel, so no error result is posted
                    let held = Deadline::after(Duration::from_secs(30));
                    while !over.load(Ordering::SeqCst) && !held.is_expired() {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(m)
                }
            }
        });
    }
    match runner.until_idle() {
        Ok(o) => ran.outcome = o,
        Err(e) => {
            ran.outcome = *e.outcome;
            ran.error = Some(e.error);
        }
    }
    over.store(true, Ordering::SeqCst);
    ran.killed = killed.lock().unwrap_or_else(|p| p.into_inner()).take();
    // a journaled turn followed from its middle (or ended just before the run connected):
    // its messages are read whole from its events
    if t.journaled && ran.error.is_none() && ran.outcome.stop_reason == Some(StopReason::EndTurn) {
        if let Ok(Journaled::Ended(o)) = journaled_state(c, &session_id, deadline) {
            ran.outcome.events = o.events;
        }
    }
    if let Some(Error::Timeout { .. }) = &ran.error {
        // (a tool command still running is killed at the deadline by its own wait)
        ran.left = Some(give_up(c, &session_id, ends.on_deadline));
    }
    ran
}

/// What became of a journaled session.
enum Journaled {
    /// It never got its message.
    Unmessaged,
    /// Its turn ended (`end_turn`) after its message: the outcome read from its events.
    Ended(Box<Outcome>),
    /// Its turn was interrupted (`user.interrupt`) before it ended.
    Interrupted,
    /// Its turn is under way or waits on a tool: followed from here.
    Going,
}

/// Reads a journaled session's events to tell what became of it.
fn journaled_state(c: &Client, id: &str, deadline: Deadline) -> Result<Journaled, Error> {
    let options = RequestOptions::new().deadline(deadline);
    let params = SessionsEventListParams::default()
        .order(EventsListOrder::Asc)
        .limit(100);
    let mut events = Vec::new();
    for ev in c
        .sessions()
        .events()
        .list_with(id, &params, &options)?
        .auto_paging()
    {
        events.push(ev?);
    }
    let Some(last_message) = events
        .iter()
        .rposition(|e| matches!(e, SessionEvent::UserMessage(_)))
    else {
        return Ok(Journaled::Unmessaged);
    };
    let after = &events[last_message + 1..];
    let ended = after.iter().rev().find_map(|e| match e {
        SessionEvent::SessionStatusIdle(idle) => Some(matches!(
            idle.stop_reason,
            SessionStatusIdleEventStopReason::EndTurn(_)
        )),
        SessionEvent::SessionStatusRunning(_) => Some(false),
        _ => None,
    });
    let interrupted = after
        .iter()
        .any(|e| matches!(e, SessionEvent::UserInterrupt(_)));
    if interrupted {
        return Ok(Journaled::Interrupted);
    }
    if ended != Some(true) {
        return Ok(Journaled::Going);
    }
    let mut outcome = Outcome::default();
    outcome.stop_reason = Some(StopReason::EndTurn);
    outcome.events_seen = after.len() as u64;
    outcome.usage = c
        .sessions()
        .retrieve_with(id, &options)
        .ok()
        .map(|s| s.usage);
    outcome.events = after.to_vec();
    Ok(Journaled::Ended(Box::new(outcome)))
}

/// Creates the task's session; its id.
fn create_session(c: &Client, t: &Task, deadline: Deadline) -> Result<String, Error> {
    let agent = agent_ref(&t.agent).map_err(|m| Error::invalid_input("agent", m))?;
    let mut params = SessionCreateParams::new(agent, t.environment.as_str());
    if let Some(title) = &t.title {
        params = params.title(title.as_str());
    }
    if !t.metadata.is_empty() {
        params = params.metadata(t.metadata.clone());
    }
    if !t.vault_ids.is_empty() {
        params = params.vault_ids(t.vault_ids.clone());
    }
    if !t.resources.is_empty() {
        params = params.resources(t.resources.clone());
    }
    if let Some(cents) = t.max_cost {
        params = params.budget(BudgetLimitParam::new(MonetaryAmountParam::new(
            cents.to_string(),
        )));
    }
    c.sessions()
        .create_with(&params, &RequestOptions::new().deadline(deadline))
        .map(|s| s.id)
}

/// What `--on-deadline` does with a session still running when the run gives up on it (its
/// deadline, a batch quitting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnDeadline {
    /// Send `user.interrupt`: its turn ends, it stays for a later message.
    Interrupt,
    /// Interrupt it, then archive it.
    Archive,
    /// Leave it running.
    Leave,
}

/// Does with a session the run gives up on what `how` says: the line that says what was
/// done, its id in it.
pub fn give_up(c: &Client, id: &str, how: OnDeadline) -> String {
    match how {
        OnDeadline::Leave => format!("session {id} left running"),
        how => interrupt_session(c, id, how == OnDeadline::Archive),
    }
}

/// Sends `user.interrupt` to a session the run leaves (and archives it): the line that says
/// what was done, its id in it.
pub fn interrupt_session(c: &Client, id: &str, archive: bool) -> String {
    // its own short deadline: the run's may have passed
    let options = RequestOptions::new().deadline(Deadline::after(Duration::from_secs(15)));
    let interrupt = EventSendParams::one(UserInterruptEventParams::new());
    if let Err(e) = c.sessions().events().send_with(id, &interrupt, &options) {
        return format!("session {id} may still be running: interrupting it failed: {e}");
    }
    if !archive {
        return format!("session {id} interrupted");
    }
    match c.sessions().archive_with(id, &options) {
        Ok(_) => format!("session {id} interrupted and archived"),
        Err(e) => format!("session {id} interrupted; archiving it failed: {e}"),
    }
}
