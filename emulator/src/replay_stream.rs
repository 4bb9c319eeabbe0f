//! Playing a recorded event stream or download onto a connection: each frame or chunk after
//! its recorded delay (scaled by the replay's speed), a frame not before the requests that
//! changed its session before it arrived in the recording have been served (the message it
//! answers, the tool result it echoes: so a client sees nothing early, at any speed), then
//! the recorded end (`eof` closes,
//! `cut` sends the partial frame and closes, `closed` holds the connection open until the
//! client goes). The stream faults apply on top (drops after a number of events, mid-line
//! cuts, trickle); a fault's cut tells the replay, whose live stream the connections of the
//! disturbed session then play (a connection that reaches a recorded `closed` end goes on
//! with the session's next recorded stream).

use super::faults::Faults;
use super::replay::cassette::End;
use super::replay::{Playback, Replay};
use super::shared::Shared;
use super::wire::{request_id, write_out};
use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How often a pause or a held connection looks whether the emulator stopped.
const TICK: Duration = Duration::from_millis(100);

/// Plays an event stream from its playback's frame on, until its recorded end, a fault cuts it,
/// the client goes, or the emulator stops. A stream played after a cut whose recording ends
/// with the client letting go goes on with the next recorded stream of its session, if one
/// was not played yet (the client's next stream, which the cut took the place of).
pub(crate) fn events(shared: &Shared, conn: &mut TcpStream, play: Playback, faults: &Faults) {
    let x = play.exchange();
    // the answer's head as long after the request as it came in the recording
    if play.from == 0 && !pause(shared, x.elapsed_ms.unwrap_or(0.0)) {
        return;
    }
    let head = head(
        x.status.unwrap_or(200),
        &x.response_headers,
        "text/event-stream",
        None,
    );
    if write_out(conn, head.as_bytes(), None).is_err() {
        return;
    }
    let mut play = play;
    // the events written on this connection, which a stream fault counts
    let mut sent = 0usize;
    // the ids of the events written on this connection
    let mut played = HashSet::new();
    loop {
        if !frames(shared, conn, &play, faults, &mut sent, &mut played) {
            return;
        }
        match &play.exchange().end {
            Some(End::Eof { delay_ms }) => {
                let _ = pause(shared, *delay_ms);
            }
            Some(End::Cut { partial }) => {
                let _ = write_out(conn, partial.as_bytes(), faults.trickle);
            }
            Some(End::Closed { .. }) | None => {
                let next = play.source.as_ref().and_then(|source| {
                    let mut s = shared.lock();
                    s.replay.as_mut()?.chain(source, play.exchange)
                });
                if let Some(next) = next {
                    play = next;
                    continue;
                }
                // settled before the hold: another connection's stream may go on meanwhile
                settle(shared, &play);
                hold(shared, conn);
                return;
            }
        }
        settle(shared, &play);
        return;
    }
}

/// Plays a stream's frames from its playback's first on; `false` when the stream ended
/// before its recorded end (a fault cut it, the client went, the emulator stopped).
fn frames(
    shared: &Shared,
    conn: &mut TcpStream,
    play: &Playback,
    faults: &Faults,
    sent: &mut usize,
    played: &mut HashSet<String>,
) -> bool {
    let x = play.exchange();
    for (i, frame) in x.frames.iter().enumerate().skip(play.from) {
        if !pause(shared, frame.delay_ms) {
            return false;
        }
        let limit = hold_for(shared, play.exchange, Some(i));
        match wait_until(shared, conn, limit, |r| r.ready(play.exchange, i)) {
            Wait::Ready => {}
            Wait::Stopped | Wait::Gone => return false,
            Wait::Expired => {
                let message = shared
                    .lock()
                    .replay
                    .as_mut()
                    .map(|r| r.unplayable(play.exchange, Some(i), limit))
                    .unwrap_or_default();
                let data = serde_json::json!({"type": "error",
                    "error": {"type": "invalid_request_error", "message": message}});
                let _ = write_out(
                    conn,
                    format!("event: error\ndata: {data}\n\n").as_bytes(),
                    None,
                );
                return false;
            }
        }
        // a stream that follows another on this connection repeats the events both carried
        let id = frame.data.as_ref().and_then(|d| d["id"].as_str());
        if id.is_some_and(|id| played.contains(id)) {
            continue;
        }
        if !frame.ping && faults.drop_stream_after.is_some_and(|n| *sent + 1 >= n) {
            if faults.drop_mid_line {
                let _ = write_out(conn, &frame.wire[..frame.wire.len() / 2], faults.trickle);
            }
            // the event happened: a listing shows it, the next connection goes on after it
            let mut s = shared.lock();
            if let Some(replay) = s.replay.as_mut() {
                if let Some(source) = &play.source {
                    if let Some(data) = &frame.data {
                        replay.shown(source, data);
                    }
                    replay.cut(source, play.exchange, i + 1);
                }
            }
            return false;
        }
        if write_out(conn, &frame.wire, faults.trickle).is_err() {
            return false;
        }
        if let Some(source) = &play.source {
            if let Some(replay) = shared.lock().replay.as_mut() {
                if let Some(data) = &frame.data {
                    replay.shown(source, data);
                }
                replay.played(source, play.exchange, i);
            }
        }
        if !frame.ping {
            *sent += 1;
        }
        if let Some(id) = id {
            played.insert(id.to_string());
        }
    }
    true
}

/// Holds a stream that has nothing more to send open, quiet, until the client goes or the
/// emulator stops.
pub(crate) fn quiet(shared: &Shared, conn: &mut TcpStream) {
    let head = head(200, &[], "text/event-stream", None);
    if write_out(conn, head.as_bytes(), None).is_ok() {
        hold(shared, conn);
    }
}

/// Plays a recorded download: its length first, then its chunks with their delays.
pub(crate) fn bytes(shared: &Shared, conn: &mut TcpStream, play: &Playback, faults: &Faults) {
    let x = play.exchange();
    if !pause(shared, x.elapsed_ms.unwrap_or(0.0)) {
        return;
    }
    let length: usize = x.chunks.iter().map(|c| c.bytes.len()).sum();
    let head = head(
        x.status.unwrap_or(200),
        &x.response_headers,
        "application/octet-stream",
        Some(length),
    );
    if write_out(conn, head.as_bytes(), None).is_err() {
        return;
    }
    for chunk in &x.chunks {
        if !pause(shared, chunk.delay_ms) {
            return;
        }
        if write_out(conn, &chunk.bytes, faults.trickle).is_err() {
            return;
        }
    }
}

/// The head of a played answer: the recorded status and headers (those the server writes
/// itself left out), a content type, and a length or `connection: close`.
fn head(
    status: u16,
    recorded: &[(String, String)],
    default_type: &str,
    length: Option<usize>,
) -> String {
    let content_type = recorded
        .iter()
        .find(|(k, _)| k == "content-type")
        .map_or(default_type, |(_, v)| v.as_str());
    let reason = if status == 200 { "OK" } else { "Status" };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n");
    if let Some(n) = length {
        head.push_str(&format!("content-length: {n}\r\n"));
    }
    for (k, v) in recorded {
        let own = matches!(
            k.as_str(),
            "content-type" | "content-length" | "transfer-encoding" | "connection" | "keep-alive"
        );
        if !own {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    if !recorded.iter().any(|(k, _)| k == "request-id") {
        head.push_str(&format!("request-id: {}\r\n", request_id()));
    }
    head.push_str("connection: close\r\n\r\n");
    head
}

/// Waits a recorded delay at the replay's speed; `false` when the emulator stopped meanwhile.
fn pause(shared: &Shared, delay_ms: f64) -> bool {
    let speed = shared.lock().replay.as_ref().map_or(1.0, |r| r.speed);
    pause_until(shared, Instant::now() + scaled(delay_ms, speed))
}

/// Waits until a whole recorded answer is due: as long after the request `arrived` as the
/// recording took from sending to the answer (`elapsed_ms`), at the replay's speed; `false`
/// when the emulator stopped meanwhile.
pub(crate) fn answer_delay(shared: &Shared, exchange: usize, arrived: Instant) -> bool {
    let wait = shared
        .lock()
        .replay
        .as_ref()
        .map_or(Duration::ZERO, |r| r.answer_delay(exchange));
    pause_until(shared, arrived + wait)
}

/// Waits until `until`; `false` when the emulator stopped meanwhile.
fn pause_until(shared: &Shared, until: Instant) -> bool {
    loop {
        if shared.stopped() {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(TICK));
    }
}

/// A recorded delay at a speed: 1.0 as recorded, 2.0 half as long, 0 (or infinite, or not a
/// number) none at all.
pub(crate) fn scaled(delay_ms: f64, speed: f64) -> Duration {
    if !(speed.is_finite() && speed > 0.0) {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(delay_ms / speed / 1000.0).unwrap_or(Duration::ZERO)
}

/// How long the replay holds an answer (or a stream's frame) for its causes.
pub(crate) fn hold_for(shared: &Shared, exchange: usize, frame: Option<usize>) -> Duration {
    shared
        .lock()
        .replay
        .as_ref()
        .map_or(Duration::ZERO, |r| r.hold_for(exchange, frame))
}

/// How a wait for a recorded answer's causes ended.
pub(crate) enum Wait {
    /// The answer may be written.
    Ready,
    /// The requests it follows did not come within the hold.
    Expired,
    /// The emulator stopped.
    Stopped,
    /// The client closed the connection.
    Gone,
}

/// Waits until the replay says an answer or frame may be written (the requests it followed
/// in the recording have been served), the client goes, the emulator stops, or `limit` has
/// passed.
pub(crate) fn wait_until(
    shared: &Shared,
    conn: &TcpStream,
    limit: Duration,
    ready: impl Fn(&Replay) -> bool,
) -> Wait {
    let until = Instant::now() + limit;
    loop {
        if shared.stopped() {
            return Wait::Stopped;
        }
        let ready = shared.lock().replay.as_ref().is_none_or(&ready);
        if ready {
            return Wait::Ready;
        }
        if gone(conn) {
            return Wait::Gone;
        }
        if Instant::now() >= until {
            return Wait::Expired;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Returns whether the client closed the connection (looked at without waiting).
fn gone(conn: &TcpStream) -> bool {
    if conn.set_nonblocking(true).is_err() {
        return false;
    }
    let mut buf = [0u8; 1];
    let gone = match conn.peek(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
    };
    let _ = conn.set_nonblocking(false);
    gone
}

/// Holds a connection open until the client closes it or the emulator stops.
fn hold(shared: &Shared, conn: &TcpStream) {
    let _ = conn.set_read_timeout(Some(TICK));
    let mut buf = [0u8; 64];
    while !shared.stopped() {
        match conn.peek(&mut buf) {
            Ok(_) => return,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Tells the replay that a stream was played to its recorded end without a fault.
fn settle(shared: &Shared, play: &Playback) {
    if let Some(source) = &play.source {
        if let Some(replay) = shared.lock().replay.as_mut() {
            replay.settled(source, play.exchange);
        }
    }
}
