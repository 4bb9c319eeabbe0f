//! The emulator's outbox: the sender of the endpoint set, if any, and the thin events posted to
//! it (`{id, created_at, type: "event", data: {type, id, organization_id, workspace_id, ..}}`).

use super::endpoint::WebhookEndpoint;
use super::kinds::session_kind;
use super::sender;
use crate::store::Clock;
use serde_json::{json, Value};
use std::time::Duration;

/// The organization every event of the emulator names.
const ORGANIZATION_ID: &str = "00000000-0000-4000-8000-0000000e0001";
/// The workspace every event of the emulator names.
const WORKSPACE_ID: &str = "00000000-0000-4000-8000-0000000e0002";

/// The emulator's outbox: the running sender of the endpoint set, if any.
#[derive(Default)]
pub(crate) struct Outbox {
    sender: Option<sender::Sender>,
}

impl Outbox {
    /// Returns whether an endpoint is set.
    pub(crate) fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Sends to `endpoint` from now on (the sender of an earlier one ends after the try it is
    /// making).
    pub(crate) fn set(&mut self, endpoint: Option<WebhookEndpoint>) -> std::io::Result<()> {
        self.sender = endpoint.map(sender::Sender::start).transpose()?;
        Ok(())
    }

    /// Stops sending; returns the sender's thread, to be ended with [`finish`] outside the
    /// emulator's lock.
    pub(crate) fn shut_down(&mut self) -> Option<std::thread::JoinHandle<()>> {
        self.sender.take().and_then(sender::Sender::stop)
    }

    /// Posts a webhook event of `kind` about the object `id` (at `at`, the time of the change,
    /// or now on `clock`), with the `extra` fields of its kind, when an endpoint wants it.
    pub(crate) fn emit(
        &mut self,
        clock: &mut Clock,
        kind: &str,
        id: &str,
        at: Option<&str>,
        extra: &[(&str, &str)],
    ) {
        let Some(sender) = &self.sender else {
            return;
        };
        if !sender.endpoint().wants(kind) {
            return;
        }
        let event_id = clock.id("event");
        let created_at = match at {
            Some(t) => t.to_string(),
            None => clock.now(),
        };
        let event = envelope(&event_id, &created_at, kind, id, extra);
        let _ = sender.post(event_id, event.to_string());
    }

    /// Posts the webhook event of an event recorded on a session or on a child thread's own
    /// stream (`event` has its `processed_at`), if its kind makes one. Only the session's own
    /// stream makes webhook events (`live`: the session exists): a child thread's events reach
    /// it as copies, and a webhook event names the session.
    pub(crate) fn session_event(
        &mut self,
        clock: &mut Clock,
        live: bool,
        session: &str,
        event: &Value,
    ) {
        if !self.enabled() || !live {
            return;
        }
        let Some((kind, threaded)) = event["type"].as_str().and_then(session_kind) else {
            return;
        };
        let at = event["processed_at"].as_str().map(str::to_string);
        let thread = event["session_thread_id"].as_str().unwrap_or_default();
        if threaded && thread.is_empty() {
            return;
        }
        let extra: &[(&str, &str)] = if threaded {
            &[("session_thread_id", thread)]
        } else {
            &[]
        };
        self.emit(clock, kind, session, at.as_deref(), extra);
    }
}

/// Waits for a stopped sender's thread to end, for a short while: a try under way is left to
/// end on its own (by its timeout) when the receiver does not answer.
pub(crate) fn finish(thread: std::thread::JoinHandle<()>) {
    let since = std::time::Instant::now();
    while !thread.is_finished() {
        if since.elapsed() > sender::STOP_WAIT {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = thread.join();
}

/// Returns the thin event: `{id, created_at, type: "event", data: {type, id,
/// organization_id, workspace_id, ..extra}}`.
pub(super) fn envelope(
    event_id: &str,
    at: &str,
    kind: &str,
    id: &str,
    extra: &[(&str, &str)],
) -> Value {
    let mut data = json!({"type": kind, "id": id, "organization_id": ORGANIZATION_ID,
        "workspace_id": WORKSPACE_ID});
    for (k, v) in extra {
        data[*k] = json!(v);
    }
    json!({"id": event_id, "created_at": at, "type": "event", "data": data})
}
