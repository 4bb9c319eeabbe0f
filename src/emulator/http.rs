//! The emulator's HTTP/1.1 server: accepting connections, answering each request through the
//! router, writing answers and error bodies, and the faults injected on the way.

use super::reply::{ApiError, Reply};
use super::request::read_request;
use super::{router, stream, Shared};
use serde_json::json;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

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
            .name("emulator request".into())
            .spawn(move || handle(&shared, conn));
    }
}

fn handle(shared: &Arc<Shared>, mut conn: TcpStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let Some(request) = read_request(&mut BufReader::new(read_half)) else {
        return;
    };
    let (faults, n) = {
        let mut s = shared.lock();
        s.requests += 1;
        (s.faults.clone(), s.requests)
    };
    if let Some(d) = faults.stall.or(faults.slow) {
        std::thread::sleep(d);
    }
    let fail = {
        let mut s = shared.lock();
        if s.faults.fail_next > 0 {
            s.faults.fail_next -= 1;
            true
        } else {
            faults.fail_every > 0 && n % faults.fail_every == 0
        }
    };
    if fail {
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
        respond_error(
            &mut conn,
            ApiError(status, kind, "injected fault".into()),
            &[("retry-after-ms", retry.to_string())],
        );
    } else {
        let content_type = request.header("content-type").unwrap_or("");
        match router::route(
            shared,
            &request.method,
            &request.target,
            content_type,
            &request.body,
        ) {
            Ok(Reply::Json(v)) => respond(
                &mut conn,
                200,
                "application/json",
                v.to_string().as_bytes(),
                &[],
            ),
            Ok(Reply::Bytes(ct, bytes)) => respond(&mut conn, 200, ct, &bytes, &[]),
            Ok(Reply::Stream { session, previews }) => {
                stream::stream(shared, &mut conn, &session, previews, &faults)
            }
            Err(e) => respond_error(&mut conn, e, &[]),
        }
    }
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        529 => "Overloaded",
        _ => "Status",
    }
}

fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(1);
    format!("req_011EMU{:016x}", h.finish())
}

fn respond(
    conn: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[(&str, String)],
) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nrequest-id: {}\r\nconnection: close\r\n",
        reason(status),
        body.len(),
        request_id()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

fn respond_error(conn: &mut TcpStream, e: ApiError, extra: &[(&str, String)]) {
    let id = request_id();
    let body = json!({"type": "error", "error": {"type": e.1, "message": e.2}, "request_id": id});
    respond(
        conn,
        e.0,
        "application/json",
        body.to_string().as_bytes(),
        extra,
    );
}

/// Writes bytes, one at a time with a pause when trickling.
pub(crate) fn write_out(
    w: &mut dyn Write,
    bytes: &[u8],
    trickle: Option<Duration>,
) -> std::io::Result<()> {
    match trickle {
        Some(d) => {
            for b in bytes {
                w.write_all(std::slice::from_ref(b))?;
                w.flush()?;
                std::thread::sleep(d);
            }
            Ok(())
        }
        None => {
            w.write_all(bytes)?;
            w.flush()
        }
    }
}
