//! The webhooks the emulator sends: the endpoint a test or the standalone emulator gives it
//! ([`WebhookEndpoint`]), the outbox every change is posted to, and the thin events themselves
//! (`{id, created_at, type: "event", data: {type, id, organization_id, workspace_id, ..}}`).
//!
//! `kinds` says which changes make which webhook events; `outbox` makes them and hands them to
//! `sender`, which delivers them, signed as Standard Webhooks do (`signing`), on a thread of
//! its own with retries. Which answered requests make events is read above the state, in
//! `route_webhooks`.

mod endpoint;
mod kinds;
mod outbox;
mod sender;
mod signing;

pub use endpoint::WebhookEndpoint;
pub(crate) use kinds::{kind_of, ROUTE_KINDS};
pub(crate) use outbox::{finish, Outbox};

use kinds::{session_kind, SESSION_EVENTS};
use outbox::envelope;
use serde_json::Value;

/// Returns every kind of webhook event the emulator sends, as it sends it: each envelope with the
/// fields its kind needs, and, for a kind that needs fields beyond `type` and `id`, the same
/// envelope without them. The library's tests read each with its own types (the emulator
/// shares no code with the client it checks). Not a stable API.
#[doc(hidden)]
pub fn __webhook_samples() -> Vec<(Value, Option<Value>)> {
    let mut kinds: Vec<(&str, &[(&str, &str)])> = ROUTE_KINDS
        .iter()
        .map(|k| {
            let extra: &[(&str, &str)] = if k.starts_with("vault_credential.") {
                &[("vault_id", "vlt_1")]
            } else {
                &[]
            };
            (*k, extra)
        })
        .collect();
    kinds.push(("session.created", &[]));
    for stream_kind in SESSION_EVENTS {
        if let Some((kind, threaded)) = session_kind(stream_kind) {
            let extra: &[(&str, &str)] = if threaded {
                &[("session_thread_id", "sthr_1")]
            } else {
                &[]
            };
            kinds.push((kind, extra));
        }
    }
    let at = "2026-05-01T12:00:00.000Z";
    kinds
        .into_iter()
        .map(|(kind, extra)| {
            let bare = (!extra.is_empty()).then(|| envelope("event_1", at, kind, "x_1", &[]));
            (envelope("event_1", at, kind, "x_1", extra), bare)
        })
        .collect()
}
