//! One event-stream frame, read into what the stream does with it; previews folded into the
//! message being written; which events end a turn.

use crate::error::Error;
use crate::sse::EventRef;
use crate::types::json_tag::json_tag;
use crate::types::*;
use serde_json::Value;

/// What one event-stream frame holds, read out of the reader's buffer.
// lives for one step of the loop; boxing the event would cost an allocation per event
#[allow(clippy::large_enum_variant)]
pub(crate) enum Frame {
    /// A heartbeat (`ping`), a frame without data, or a frame that is not an event (logged at
    /// warn): skipped, as the official SDKs skip the first two.
    Skip,
    /// An `error` frame.
    Error(Error),
    /// A whole event (or one of a kind this version does not know, as `Unknown`), read
    /// straight into the type the stream hands out.
    Event(SessionEvent),
    /// A preview (`event_start`, `event_delta`): a kind only the stream union has.
    Preview(StreamSessionEvents),
}

impl Frame {
    #[inline]
    pub(crate) fn read(frame: &EventRef<'_>) -> Frame {
        if frame.event() == "ping" || frame.data().is_empty() {
            return Frame::Skip;
        }
        if frame.event() == "error" {
            return Frame::Error(stream_error(frame.data()));
        }
        let data = frame.data();
        let tag = json_tag(data, "type");
        match tag {
            // an event, or a kind this version does not know: read straight into
            // `SessionEvent`, never built as a `StreamSessionEvents` and moved across
            Some(t) if SessionEvent::has_kind(t) || !StreamSessionEvents::has_kind(t) => {
                match SessionEvent::json_tagged(data, tag, false) {
                    Ok(event) => Frame::Event(event),
                    Err(e) => unreadable(frame, e),
                }
            }
            // a preview, or a tag the light scan does not read (an escape in it, say): the
            // stream union's reader decides which it is
            _ => match StreamSessionEvents::json_tagged(data, tag, false) {
                Ok(parsed) => match SessionEvent::try_from(parsed) {
                    Ok(event) => Frame::Event(event),
                    Err(preview) => Frame::Preview(preview),
                },
                Err(e) => unreadable(frame, e),
            },
        }
    }
}

/// A frame whose data does not read as its kind: a JSON object of an event kind is delivered
/// as `Unknown` (nothing lost); anything else, or a preview, is skipped. Either way it is
/// logged at warn, and the stream goes on.
fn unreadable(frame: &EventRef<'_>, e: serde_json::Error) -> Frame {
    let excerpt = crate::error::excerpt(frame.data().as_bytes(), 200);
    match serde_json::from_str::<Value>(frame.data()) {
        Ok(v @ Value::Object(_)) => {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
            if kind == "event_start" || kind == "event_delta" {
                log::warn!("skipping a preview frame that does not read ({e}): {excerpt}");
                return Frame::Skip;
            }
            log::warn!("an event-stream frame of type {kind:?} does not read ({e}); delivered as Unknown: {excerpt}");
            Frame::Event(SessionEvent::Unknown(v))
        }
        _ => {
            log::warn!(
                "skipping an event-stream frame ({:?}) that is not an event ({e}): {excerpt}",
                frame.event()
            );
            Frame::Skip
        }
    }
}

/// An `event: error` frame as an [`Error::Stream`].
pub(crate) fn stream_error(data: &str) -> Error {
    let v: Value = serde_json::from_str(data).unwrap_or_default();
    let err = v.get("error");
    let text = |e: Option<&Value>, key: &str| {
        e.and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(String::from)
    };
    Error::Stream {
        error_type: text(err, "type")
            .filter(|t| !t.is_empty())
            .map(crate::error::ErrorType::from),
        message: text(err, "message")
            .unwrap_or_else(|| crate::error::excerpt(data.as_bytes(), 200)),
        request_id: text(Some(&v), "request_id"),
        body: data.to_string(),
    }
}

/// The snapshot an `agent.message` preview starts from (its `event_start`).
pub(crate) fn message_start(start: &StartEvent) -> Option<AgentMessageEvent> {
    if start.event.tag() != Some("agent.message") {
        return None;
    }
    let mut snap = AgentMessageEvent::default();
    if let StartEventPreview::AgentMessage(p) = &start.event {
        snap.id = p.id.clone();
    }
    Some(snap)
}

/// Folds one `event_delta` into the `agent.message` snapshot, as the official accumulator
/// does: a new index opens a block, an existing text block grows; `None` when the delta does
/// not belong to the snapshot (no preview open, another event, or an index past the end).
pub(crate) fn fold(
    snapshot: Option<AgentMessageEvent>,
    delta: &DeltaEvent,
) -> Option<AgentMessageEvent> {
    let mut snap = snapshot?;
    if snap.id != delta.event_id {
        return None;
    }
    let cd = &delta.delta;
    let index = cd.index.unwrap_or(0).max(0) as usize;
    let fragment = AgentMessageEventContent::Text(cd.content.clone());
    if index == snap.content.len() {
        snap.content.push(fragment);
    } else if index < snap.content.len() {
        if let (AgentMessageEventContent::Text(have), AgentMessageEventContent::Text(more)) =
            (&mut snap.content[index], fragment)
        {
            have.text.push_str(&more.text);
        }
    } else {
        return None;
    }
    Some(snap)
}
