//! The emulator's HTTP/1.1 server: a thread per connection carrying many requests
//! (keep-alive), each read by `request` and answered through the router, and the faults
//! injected on the way (the rate limit, a new connection's handshake, a close before the
//! status line, stalls, overloads; the stream faults are in `stream`). A connection is closed
//! when the client asks, after a stream, after a malformed request, when a fault drops it,
//! when it has been idle too long, or when the emulator stops.

pub(crate) mod request;

use super::faults::Faults;
use super::replay::Served;
use super::reply::{ApiError, Reply};
use super::shared::Shared;
use super::wire::request_id;
use super::{contract, rate_limit, replay_stream, router, stream};
use request::{read_request_then, Limits, Request, RequestError};
use serde_json::json;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a connection may wait for its next request.
const IDLE: Duration = Duration::from_secs(30);
/// How often a waiting connection looks whether the emulator stopped.
const TICK: Duration = Duration::from_millis(200);
/// How long the bytes of one request may take once it has begun.
const READ: Duration = Duration::from_secs(60);

/// Accepts connections until the emulator stops, each on its own thread.
pub(crate) fn serve(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopped() {
            break;
        }
        let Ok(conn) = conn else { continue };
        shared.lock().connections += 1;
        let shared = shared.clone();
        let _ = std::thread::Builder::new()
            .name("emulator connection".into())
            .spawn(move || connection(&shared, conn));
    }
}

/// Answers the requests of one connection until it is closed.
fn connection(shared: &Arc<Shared>, mut conn: TcpStream) {
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    // a new connection's handshake, as a network would make the client wait for it
    let handshake = shared.lock().faults.handshake;
    if let Some(d) = handshake {
        std::thread::sleep(d);
    }
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(read_half);
    let limits = Limits::default();
    while next_request_begins(shared, &conn, &mut reader) {
        let _ = conn.set_read_timeout(Some(READ));
        let read = read_request_then(&mut reader, &limits, |head| {
            if head
                .header("expect")
                .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
            {
                (&conn).write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            Ok(())
        });
        let keep = match read {
            Ok(request) => answer(shared, &mut conn, &request),
            Err(RequestError::Invalid { status, message }) => {
                shared.lock().requests += 1;
                let kind = if status == 413 {
                    "request_too_large"
                } else {
                    "invalid_request_error"
                };
                respond_error(&mut conn, ApiError(status, kind, message), &[], false);
                false
            }
            Err(RequestError::Closed | RequestError::Io(_)) => false,
        };
        if !keep {
            break;
        }
    }
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// Waits for the first byte of the next request; `false` when the connection ended, has been
/// idle too long, or the emulator stopped.
fn next_request_begins(shared: &Shared, conn: &TcpStream, r: &mut BufReader<TcpStream>) -> bool {
    let _ = conn.set_read_timeout(Some(TICK));
    let since = Instant::now();
    loop {
        if shared.stopped() {
            return false;
        }
        match r.fill_buf() {
            Ok(b) => return !b.is_empty(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if since.elapsed() > IDLE {
                    return false;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// How the sessions tokens of work items begin.
const SESSIONS_TOKEN_PREFIX: &str = "sk-ant-emu-sessions-";

/// Answers one request, faults first; `true` when the connection may carry another.
fn answer(shared: &Arc<Shared>, conn: &mut TcpStream, request: &Request) -> bool {
    let (faults, fail, close, strict, limited) = {
        let mut guard = shared.lock();
        let s = &mut *guard;
        s.requests += 1;
        let limited = rate_limit::admit(&mut s.rate_bucket, &s.faults, Instant::now()).err();
        s.rate_limited += usize::from(limited.is_some());
        s.request_log.record(
            &request.method,
            &request.target,
            &request.headers,
            limited.is_some(),
        );
        let n = s.requests;
        let close = s.faults.close_next > 0
            || (s.faults.close_every > 0 && n.is_multiple_of(s.faults.close_every));
        let fail = !close
            && if s.faults.fail_next > 0 {
                s.faults.fail_next -= 1;
                true
            } else {
                s.faults.fail_every > 0 && n.is_multiple_of(s.faults.fail_every)
            };
        if close && s.faults.close_next > 0 {
            s.faults.close_next -= 1;
        }
        (s.faults.clone(), fail, close, s.strict, limited)
    };
    let keep = request.keep_alive() && !faults.no_keep_alive;
    if let Some(wait) = limited {
        // over the limit: refused before anything else, as the API refuses it
        let secs = rate_limit::retry_after_secs(wait);
        let message = format!(
            "This request would exceed the rate limit of {} requests per {:?}; retry after {secs} s",
            faults.rate_limit,
            faults
                .rate_limit_window
                .filter(|w| !w.is_zero())
                .unwrap_or(rate_limit::DEFAULT_WINDOW)
        );
        respond_error(
            conn,
            ApiError(429, "rate_limit_error", message),
            &[("retry-after", secs.to_string())],
            keep,
        );
        return keep;
    }
    if close {
        // the request was read; the connection closes before the status line
        return false;
    }
    if let Some(d) = faults.stall.or(faults.slow) {
        std::thread::sleep(d);
    }
    if fail {
        let (status, kind, retry) = injected(&faults);
        respond_error(
            conn,
            ApiError(status, kind, "injected fault".into()),
            &[("retry-after-ms", retry.to_string())],
            keep,
        );
        return keep;
    }
    let path = request.target.split('?').next().unwrap_or("");
    if let Err(e) = contract::check(
        strict,
        path,
        request.header("anthropic-version"),
        request.header("anthropic-beta"),
    ) {
        respond_error(conn, e, &[], keep);
        return keep;
    }
    if request.target.starts_with("/v1/sessions/") {
        let token = request
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .filter(|t| t.starts_with(SESSIONS_TOKEN_PREFIX));
        if let Some(token) = token {
            shared.lock().work.observe(token, &request.method);
        }
    }
    if request.method == "POST" && path.starts_with("/v1/sessions/") && path.ends_with("/events") {
        if let Some(d) = faults.slow_event_posts {
            std::thread::sleep(d);
        }
    }
    let content_type = request.header("content-type").unwrap_or("");
    let arrived = std::time::Instant::now();
    let replayed = shared.lock().replay.as_mut().map(|r| {
        r.answer(
            &request.method,
            &request.target,
            content_type,
            &request.body,
        )
    });
    match replayed {
        None | Some(Served::Emulate) => {}
        Some(Served::Whole {
            exchange,
            status,
            content_type,
            headers,
            body,
        }) => {
            // the recorded answer once what it may show has happened
            let limit = replay_stream::hold_for(shared, exchange, None);
            match replay_stream::wait_until(shared, conn, limit, |r| r.answerable(exchange)) {
                replay_stream::Wait::Ready => {}
                replay_stream::Wait::Stopped | replay_stream::Wait::Gone => return false,
                replay_stream::Wait::Expired => {
                    let message = shared
                        .lock()
                        .replay
                        .as_mut()
                        .map(|r| r.unplayable(exchange, None, limit))
                        .unwrap_or_default();
                    respond_error(
                        conn,
                        ApiError(400, "invalid_request_error", message),
                        &[],
                        keep,
                    );
                    return keep;
                }
            }
            // as long after the request as the answer came in the recording, at the speed
            if !replay_stream::answer_delay(shared, exchange, arrived) {
                return false;
            }
            if let Some(r) = shared.lock().replay.as_mut() {
                r.release(exchange);
            }
            let headers: Vec<(&str, String)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            respond(conn, status, &content_type, &body, &headers, keep);
            return keep;
        }
        Some(Served::Own(reply)) => return reply_with(shared, conn, Ok(reply), keep, &faults),
        Some(Served::Refused(e)) => {
            respond_error(conn, e, &[], keep);
            return keep;
        }
        Some(Served::NoAnswer) => return false,
        Some(Served::Events(play)) => {
            replay_stream::events(shared, conn, play, &faults);
            return false;
        }
        Some(Served::Bytes(play)) => {
            replay_stream::bytes(shared, conn, &play, &faults);
            return false;
        }
        Some(Served::Quiet) => {
            replay_stream::quiet(shared, conn);
            return false;
        }
    }
    let routed = router::route(
        shared,
        &request.method,
        &request.target,
        content_type,
        request.header("anthropic-worker-id"),
        &request.body,
    );
    reply_with(shared, conn, routed, keep, &faults)
}

/// Writes a route's answer; `true` when the connection may carry another request.
fn reply_with(
    shared: &Arc<Shared>,
    conn: &mut TcpStream,
    routed: Result<Reply, ApiError>,
    keep: bool,
    faults: &Faults,
) -> bool {
    match routed {
        Ok(Reply::Json(v)) => {
            let body = v.to_string();
            respond(conn, 200, "application/json", body.as_bytes(), &[], keep);
        }
        Ok(Reply::Status(status, v)) => respond_status(conn, status, v, &[], keep),
        Ok(Reply::Bytes(ct, bytes)) => respond(conn, 200, ct, &bytes, &[], keep),
        Ok(Reply::NoContent) => respond(conn, 204, "", &[], &[], keep),
        Ok(Reply::Stream { session, previews }) => {
            // a stream's body ends with the connection
            stream::stream(shared, conn, &session, previews, faults);
            return false;
        }
        Err(e) => respond_error(conn, e, &[], keep),
    }
    keep
}

/// Returns the status, error type and `retry-after-ms` of an injected failure.
fn injected(faults: &Faults) -> (u16, &'static str, u64) {
    let status = if faults.fail_status == 0 {
        529
    } else {
        faults.fail_status
    };
    let kind = if status == 429 {
        "rate_limit_error"
    } else {
        "overloaded_error"
    };
    let retry = if faults.retry_after_ms == 0 {
        20
    } else {
        faults.retry_after_ms
    };
    (status, kind, retry)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        529 => "Overloaded",
        _ => "Status",
    }
}

fn respond(
    conn: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[(&str, String)],
    keep_alive: bool,
) {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    // a 204 has no body, and says nothing of one (RFC 9110: no content-length)
    let framing = if status == 204 {
        String::new()
    } else {
        format!(
            "content-type: {content_type}\r\ncontent-length: {}\r\n",
            body.len()
        )
    };
    // an error's body names its request id: the header says the same
    let id = match extra.iter().find(|(k, _)| *k == "request-id") {
        Some(_) => String::new(),
        None => format!("request-id: {}\r\n", request_id()),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\n{framing}{id}connection: {connection}\r\n",
        reason(status)
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // one write for small answers: no small packets waiting on the client's delayed ACK
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    let _ = conn.write_all(&out);
    let _ = conn.flush();
}

fn respond_error(conn: &mut TcpStream, e: ApiError, extra: &[(&str, String)], keep_alive: bool) {
    let body = json!({"type": "error", "error": {"type": e.1, "message": e.2}});
    respond_status(conn, e.0, body, extra, keep_alive);
}

/// Writes a JSON answer with another status; an error body gets the request id of the header.
fn respond_status(
    conn: &mut TcpStream,
    status: u16,
    mut body: serde_json::Value,
    extra: &[(&str, String)],
    keep_alive: bool,
) {
    let id = request_id();
    if body["type"] == "error" {
        body["request_id"] = json!(id);
    }
    let mut headers = extra.to_vec();
    headers.push(("request-id", id));
    let body = body.to_string();
    respond(
        conn,
        status,
        "application/json",
        body.as_bytes(),
        &headers,
        keep_alive,
    );
}
