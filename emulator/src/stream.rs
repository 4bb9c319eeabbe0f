//! A session's live event stream (SSE): the events added after it opens, `ping` heartbeats,
//! `agent.message` previews when asked, and the stream faults (drops, mid-line cuts, trickle).

use super::faults::Faults;
use super::shared::Shared;
use super::wire::{request_id, write_out};
use serde_json::{json, Value};
use std::io::Write;

/// Serves the stream of `session` (or of a child thread: its id) until the client goes, the
/// session is deleted, a fault drops it, or the emulator stops.
pub(crate) fn stream(
    shared: &Shared,
    w: &mut dyn Write,
    session: &str,
    previews: bool,
    faults: &Faults,
) {
    // the stream's start is fixed before the client hears it is open: a listing the client
    // makes once it has the headers then overlaps the stream, never leaves a gap
    let mut next = shared
        .lock()
        .logs
        .get(session)
        .map_or(0, |l| l.events.len());
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nrequest-id: {}\r\nconnection: close\r\n\r\n",
        request_id()
    );
    if write_out(w, head.as_bytes(), None).is_err() {
        return;
    }
    let mut sent = 0usize;
    loop {
        let batch: Vec<Value> = {
            let mut s = shared.lock();
            let len = s.logs.get(session).map_or(0, |l| l.events.len());
            if len == next && !shared.stopped() {
                s = shared
                    .changed
                    .wait_timeout(s, shared.heartbeat)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            // a deleted session's log (and its threads') is gone
            let Some(log) = s.logs.get(session) else {
                return;
            };
            let b = log
                .events
                .get(next..)
                .map(<[Value]>::to_vec)
                .unwrap_or_default();
            next = log.events.len();
            b
        };
        if shared.stopped() {
            return;
        }
        if batch.is_empty() {
            let ping = b"event: ping\ndata: {\"type\": \"ping\"}\n\n";
            if write_out(w, ping, faults.trickle).is_err() {
                return;
            }
            continue;
        }
        for ev in batch {
            if previews && ev["type"] == "agent.message" {
                for f in preview_frames(&ev) {
                    let frame = format!("event: message\ndata: {f}\n\n");
                    if write_out(w, frame.as_bytes(), faults.trickle).is_err() {
                        return;
                    }
                }
            }
            let frame = format!("event: message\ndata: {ev}\n\n");
            if faults.drop_stream_after.is_some_and(|n| sent + 1 >= n) {
                if faults.drop_mid_line {
                    let _ = write_out(w, &frame.as_bytes()[..frame.len() / 2], faults.trickle);
                }
                return;
            }
            if write_out(w, frame.as_bytes(), faults.trickle).is_err() {
                return;
            }
            sent += 1;
        }
    }
}

/// Returns the preview of an `agent.message`: `event_start`, then its text three words at a time.
fn preview_frames(ev: &Value) -> Vec<Value> {
    let id = ev["id"].clone();
    let mut frames =
        vec![json!({"type": "event_start", "event": {"type": "agent.message", "id": id}})];
    for (i, block) in ev["content"].as_array().into_iter().flatten().enumerate() {
        let text = block["text"].as_str().unwrap_or("");
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        for chunk in words.chunks(3) {
            frames.push(json!({"type": "event_delta", "event_id": id,
                "delta": {"type": "content_delta", "index": i, "content": {"type": "text", "text": chunk.concat()}}}));
        }
    }
    frames
}
