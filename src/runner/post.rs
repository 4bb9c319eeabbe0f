//! Posting to the session without doubling anything: the user message is sent again after a
//! failure only when the session's log shows it did not arrive, and a result (or
//! confirmation) whose post failed is looked up in the log before it is reported as not posted.
//!
//! The API takes no idempotency key (the official SDKs send none), and a failure after the
//! request left (a connection reset, a timeout, a 5xx from a proxy) does not say whether the
//! server recorded it. The official Python runner posts only tool results and retries them
//! blindly; a second result for a call is refused by the server, so after a lost answer the
//! retry fails although the first post worked. The log tells.
//!
//! A result the API refuses (400, 413) leaves its call open: an `is_error` result with the
//! API's message is posted in its place, as the official runner does.

use super::outcome::{ToolCall, ToolOutput};
use crate::cancel::StopSignal;
use crate::client::Client;
use crate::deadline::Deadline;
use crate::error::Result;
use crate::request_options::RequestOptions;
use crate::stream::Position;
use crate::types::*;
use std::time::Duration;

/// The timeout of a connection's first request; it doubles with each failed attempt.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT_CAP: Duration = Duration::from_secs(240);

/// The timeout of a request of the `attempt`-th connection attempt (0 for the first) since the
/// last one that read the history.
pub(super) fn request_timeout(attempt: u32) -> Duration {
    REQUEST_TIMEOUT
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(REQUEST_TIMEOUT_CAP)
}

/// Attempts at sending the user message.
const MESSAGE_ATTEMPTS: u32 = 5;
/// Events of one kind read back, newest first, when looking for one in the log.
const LOOK_BACK: usize = 200;
/// Attempts at posting a result or confirmation.
const ANSWER_ATTEMPTS: u32 = 5;
/// The wait after a failed attempt at posting an answer; it doubles up to the cap.
const SEND_BACKOFF_START: Duration = Duration::from_secs(1);
const SEND_BACKOFF_CAP: Duration = Duration::from_secs(30);

/// Sends the user message once: the transport does not retry it. After a retryable failure
/// the session's newest user messages are read, and the message is sent again only if none
/// after `floor` (where the log ended when the run's stream opened) has its text.
pub(super) fn send_message(
    client: &Client,
    session_id: &str,
    text: &str,
    floor: &Position,
    deadline: Deadline,
) -> Result<()> {
    let params = EventSendParams::one(UserMessageEventParams::text(text));
    let mut wait = Duration::from_millis(500);
    for attempt in 1.. {
        let opts = RequestOptions::new().deadline(deadline).max_retries(0);
        let err = match client
            .sessions()
            .events()
            .send_with(session_id, &params, &opts)
        {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if !err.is_retryable() || attempt >= MESSAGE_ATTEMPTS {
            return Err(err);
        }
        match recorded(client, session_id, floor, deadline, |ev| match ev {
            SessionEvent::UserMessage(m) => message_text(m) == text,
            _ => false,
        }) {
            Ok(true) => {
                log::info!("sending the message failed ({err}), but the session recorded it");
                return Ok(());
            }
            Ok(false) => {}
            Err(e) => {
                log::warn!(
                    "sending the message failed ({err}) and the session's log could not be read \
                     ({e}); not sending it again, it may have arrived"
                );
                return Err(err);
            }
        }
        log::debug!("sending the message failed ({err}); attempt {attempt}, again in {wait:?}");
        if !deadline.sleep(wait) {
            return Err(err);
        }
        wait = (wait * 2).min(Duration::from_secs(8));
    }
    unreachable!("the loop returns")
}

/// Sends a tool result or confirmation: up to [`ANSWER_ATTEMPTS`] attempts, each under a
/// timeout of 15 s that doubles with each attempt, as the official runner posts (a second
/// answer for the same call is refused by the server). When that fails, the log is read: if
/// it holds an answer to `tool_use_id` after `floor`, an earlier attempt went through.
#[allow(clippy::too_many_arguments)]
pub(super) fn send_answer(
    client: &Client,
    session_id: &str,
    params: EventSendParams,
    tool_use_id: &str,
    floor: &Position,
    deadline: Deadline,
    cancel: &StopSignal,
) -> Result<()> {
    // what answers the call: an event of the kind being sent
    let kind = params.events.first().map(|e| match e {
        EventParams::UserToolResult(_) => SessionEventType::UserToolResult,
        EventParams::UserToolConfirmation(_) => SessionEventType::UserToolConfirmation,
        _ => SessionEventType::UserCustomToolResult,
    });
    // each attempt under a timeout that doubles (a large body needs longer on a slow link),
    // a backoff of 1 s doubling to 30 s between them, none once the run is cancelled
    let mut attempt = 0;
    let err = loop {
        let opts = RequestOptions::new()
            .deadline(deadline)
            .timeout(request_timeout(attempt));
        let e = match client
            .sessions()
            .events()
            .send_with(session_id, &params, &opts)
        {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        attempt += 1;
        if !e.is_retryable() || attempt >= ANSWER_ATTEMPTS || cancel.is_set() {
            break e;
        }
        let wait = SEND_BACKOFF_START
            .saturating_mul(1 << (attempt - 1).min(5))
            .min(SEND_BACKOFF_CAP);
        let wait = wait.mul_f64(0.5 + 0.5 * crate::retry::jitter());
        log::warn!("posting the answer to {tool_use_id} failed ({e}); again in {wait:?}");
        let left = deadline.remaining();
        if cancel.wait(left.map_or(wait, |l| l.min(wait))) || deadline.is_expired() {
            break e;
        }
    };
    let answers = |ev: &SessionEvent| match ev {
        SessionEvent::UserCustomToolResult(r) => {
            kind == Some(SessionEventType::UserCustomToolResult)
                && r.custom_tool_use_id == tool_use_id
        }
        SessionEvent::UserToolConfirmation(c) => {
            kind == Some(SessionEventType::UserToolConfirmation) && c.tool_use_id == tool_use_id
        }
        SessionEvent::UserToolResult(r) => {
            kind == Some(SessionEventType::UserToolResult) && r.tool_use_id == tool_use_id
        }
        _ => false,
    };
    match recorded(client, session_id, floor, deadline, answers) {
        Ok(true) => {
            log::info!(
                "posting the answer to {tool_use_id} failed ({err}), but the session recorded it"
            );
            Ok(())
        }
        Ok(false) => Err(err),
        Err(e) => {
            log::warn!("could not read the log to check the answer to {tool_use_id}: {e}");
            Err(err)
        }
    }
}

/// Whether the log holds an event `wanted` takes, newer than `floor`: the newest user events
/// are read back until one from before the floor, or [`LOOK_BACK`] of them.
fn recorded(
    client: &Client,
    session_id: &str,
    floor: &Position,
    deadline: Deadline,
    wanted: impl Fn(&SessionEvent) -> bool,
) -> Result<bool> {
    let opts = RequestOptions::new()
        .deadline(deadline.min(Deadline::after(Duration::from_secs(30))))
        .max_retries(2);
    let params = SessionsEventListParams::default()
        .order(EventsListOrder::Desc)
        .limit(50)
        .types(vec![
            SessionEventType::UserMessage,
            SessionEventType::UserCustomToolResult,
            SessionEventType::UserToolConfirmation,
            SessionEventType::UserToolResult,
        ]);
    let page = client
        .sessions()
        .events()
        .list_with(session_id, &params, &opts)?;
    for ev in page.into_iter().take(LOOK_BACK) {
        let ev = ev?;
        if !floor.is_ahead(ev.id(), ev.processed_at()) {
            return Ok(false);
        }
        if wanted(&ev) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The text of a user message's text blocks, joined as the builder writes one.
fn message_text(m: &UserMessageEvent) -> String {
    m.content
        .iter()
        .filter_map(|b| match b {
            UserMessageEventContent::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

/// Posts a tool's result (a `user.custom_tool_result`, or a `user.tool_result` for a built-in
/// call) with [`send_answer`]. A result the API refuses (400, 413: too large, or not valid)
/// leaves the call open, so it is replaced by an `is_error` result carrying the API's whole
/// message, as the official runner does. Returns the output and error flag of what was posted
/// (or tried), and whether it arrived.
#[allow(clippy::too_many_arguments)]
pub(super) fn send_result(
    client: &Client,
    session_id: &str,
    call: &ToolCall,
    builtin: bool,
    output: ToolOutput,
    is_error: bool,
    floor: &Position,
    deadline: Deadline,
    cancel: &StopSignal,
) -> (ToolOutput, bool, Result<()>) {
    let params = |out: &ToolOutput, is_error: bool| {
        if builtin {
            EventSendParams::one(
                UserToolResultEventParams::new(call.id.clone())
                    .content(out.0.clone())
                    .is_error(is_error),
            )
        } else {
            EventSendParams::one(
                UserCustomToolResultEventParams::new(call.id.clone())
                    .content(out.0.clone())
                    .is_error(is_error),
            )
        }
    };
    let sent = send_answer(
        client,
        session_id,
        params(&output, is_error),
        &call.id,
        floor,
        deadline,
        cancel,
    );
    let refusal = match sent {
        Err(e) if matches!(e.status(), Some(400 | 413)) => e,
        sent => return (output, is_error, sent),
    };
    let text = format!(
        "The API refused the result of tool '{}': {refusal}",
        call.name
    );
    log::warn!(
        "{text} (tool_use_id {}); posting that as its result",
        call.id
    );
    let instead = ToolOutput::from(text);
    match send_answer(
        client,
        session_id,
        params(&instead, true),
        &call.id,
        floor,
        deadline,
        cancel,
    ) {
        Ok(()) => (instead, true, Ok(())),
        Err(e) => {
            log::error!(
                "posting the error result in place of a refused one failed ({e}) tool_use_id={}",
                call.id
            );
            (output, is_error, Err(refusal))
        }
    }
}
