//! The emulator's HTTP/1.1 server: keep-alive, the request parser's bounds over a raw socket,
//! and the close-before-the-status-line fault.

use crate::support::emulated::setup;
use managed_agents::types::*;
use managed_agents_emulator::{Emulator, Faults};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn connect(emu: &Emulator) -> TcpStream {
    let conn = TcpStream::connect(emu.base_url().trim_start_matches("http://")).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn
}

/// Reads one answer: the status, the headers (lower-case names) and the body.
fn read_answer(r: &mut impl BufRead) -> (u16, Vec<(String, String)>, String) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, headers, String::from_utf8(body).unwrap())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Sends bytes on a new connection and reads the one answer; the connection is then closed.
fn raw(emu: &Emulator, bytes: &[u8]) -> (u16, String) {
    let mut conn = connect(emu);
    // the server may answer (and close) before the whole of an oversize request is written
    let _ = conn.write_all(bytes);
    let mut r = BufReader::new(conn);
    let (status, headers, body) = read_answer(&mut r);
    assert_eq!(header(&headers, "connection"), Some("close"));
    let mut rest = Vec::new();
    assert_eq!(r.read_to_end(&mut rest).unwrap_or(0), 0, "closed after it");
    (status, body)
}

#[test]
fn many_requests_share_one_connection() {
    let (emu, c) = setup();
    for i in 0..40 {
        c.environments()
            .create(&EnvironmentCreateParams::cloud(format!("e{i}")))
            .unwrap();
    }
    let listed = c.environments().list(&Default::default()).unwrap();
    assert_eq!(listed.data.len(), 20);
    assert_eq!(emu.requests(), 41);
    assert!(
        emu.connections() <= 2,
        "41 requests took {} connections",
        emu.connections()
    );
}

#[test]
fn a_raw_client_sends_several_requests_on_one_connection_then_closes() {
    let (emu, _) = setup();
    let mut conn = connect(&emu);
    let body = r#"{"name": "dev"}"#;
    let post = format!(
        "POST /v1/environments HTTP/1.1\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    // two requests written at once (pipelined), then a chunked one, then one that closes
    conn.write_all(format!("{post}{post}").as_bytes()).unwrap();
    conn.write_all(b"POST /v1/environments HTTP/1.1\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"nam\r\n9\r\ne\": \"ch\"}\r\n0\r\n\r\n").unwrap();
    conn.write_all(b"GET /v1/environments?limit=5 HTTP/1.1\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(conn);
    for _ in 0..3 {
        let (status, headers, body) = read_answer(&mut r);
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&headers, "connection"), Some("keep-alive"));
    }
    let (status, headers, body) = read_answer(&mut r);
    assert_eq!(
        (status, header(&headers, "connection")),
        (200, Some("close"))
    );
    assert_eq!(body.matches(r#""type":"environment""#).count(), 3, "{body}");
    assert!(body.contains(r#""name":"ch""#), "{body}");
    let mut rest = Vec::new();
    assert_eq!(r.read_to_end(&mut rest).unwrap(), 0);
    assert_eq!(emu.connections(), 1);
}

#[test]
fn a_body_larger_than_the_bound_is_413_without_being_read() {
    let (emu, _) = setup();
    // a claim of a terabyte: answered at once, nothing allocated for it
    let (status, body) = raw(
        &emu,
        b"POST /v1/files HTTP/1.1\r\ncontent-length: 1000000000000\r\n\r\nabc",
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains(r#""type":"request_too_large""#), "{body}");
    let (status, _) = raw(
        &emu,
        b"POST /v1/files HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffff\r\nabc",
    );
    assert_eq!(status, 413);
}

#[test]
fn a_chunk_size_that_does_not_fit_is_400_not_an_overflow() {
    let (emu, _) = setup();
    let (status, body) = raw(
        &emu,
        b"POST /v1/agents HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("chunk size"), "{body}");
    let (status, _) = raw(
        &emu,
        b"POST /v1/agents HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n-1\r\n",
    );
    assert_eq!(status, 400);
}

#[test]
fn too_many_or_too_long_headers_are_431() {
    let (emu, _) = setup();
    let many = format!(
        "GET /v1/agents HTTP/1.1\r\n{}\r\n",
        "x-a: 1\r\n".repeat(101)
    );
    assert_eq!(raw(&emu, many.as_bytes()).0, 431);
    let long = format!(
        "GET /v1/agents HTTP/1.1\r\nx-a: {}\r\n\r\n",
        "a".repeat(9000)
    );
    assert_eq!(raw(&emu, long.as_bytes()).0, 431);
    // a header line that never ends is cut off at the bound, not buffered forever
    let endless = format!("GET /v1/agents HTTP/1.1\r\nx-a: {}", "a".repeat(100_000));
    assert_eq!(raw(&emu, endless.as_bytes()).0, 431);
}

#[test]
fn a_request_line_too_long_is_414_and_a_malformed_one_400() {
    let (emu, _) = setup();
    let long = format!("GET /v1/{} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
    assert_eq!(raw(&emu, long.as_bytes()).0, 414);
    assert_eq!(raw(&emu, b"GET /v1/agents\r\n\r\n").0, 400);
    assert_eq!(
        raw(
            &emu,
            b"POST /v1/agents HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}"
        )
        .0,
        400
    );
}

#[test]
fn a_close_before_the_status_line_is_retried_on_a_new_connection() {
    let (emu, c) = setup();
    emu.set_faults(Faults {
        close_next: 2,
        ..Default::default()
    });
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("dev"))
        .unwrap();
    assert_eq!(env.name, "dev");
    assert_eq!(emu.requests(), 3, "two closed, one answered");
    assert!(emu.connections() >= 3, "each close costs its connection");
}

#[test]
fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let (emu, _) = setup();
    let mut conn = connect(&emu);
    let body = r#"{"name": "dev"}"#;
    write!(
        conn,
        "POST /v1/environments HTTP/1.1\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
    r.read_line(&mut line).unwrap();
    conn.write_all(body.as_bytes()).unwrap();
    let (status, _, answer) = read_answer(&mut r);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""name":"dev""#), "{answer}");
}

/// The contract on headers, over a raw socket: no version is refused in any mode, an old
/// version only in strict mode, a missing beta always; and the log shows what came.
#[test]
fn the_version_and_beta_headers_are_held_to_the_contract() {
    let (emu, _) = setup();
    let get = |version: Option<&str>, beta: Option<&str>| {
        let mut head = "GET /v1/agents HTTP/1.1\r\nhost: x\r\nconnection: close\r\n".to_string();
        if let Some(v) = version {
            head.push_str(&format!("anthropic-version: {v}\r\n"));
        }
        if let Some(b) = beta {
            head.push_str(&format!("anthropic-beta: {b}\r\n"));
        }
        head.push_str("\r\n");
        raw(&emu, head.as_bytes())
    };
    const MA: &str = "managed-agents-2026-04-01";
    for strict in [false, true] {
        emu.set_strict(strict);
        let (status, body) = get(None, Some(MA));
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("invalid_request_error") && body.contains("anthropic-version"));
        let (status, body) = get(Some("2026-10-21"), None);
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains("anthropic-beta") && body.contains(MA),
            "{body}"
        );
        assert_eq!(get(Some("2026-10-21"), Some(MA)).0, 200);
    }
    emu.set_strict(false);
    assert_eq!(get(Some("2023-06-01"), Some(MA)).0, 200);
    emu.set_strict(true);
    let (status, body) = get(Some("2023-06-01"), Some(MA));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("2023-06-01"), "{body}");
    let log = emu.request_log();
    let last = log.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", "/v1/agents")
    );
    assert_eq!(last.header("anthropic-version"), Some("2023-06-01"));
}

#[test]
fn the_rate_limit_answers_429_with_retry_after_in_whole_seconds_and_counts_them() {
    let (emu, _) = setup();
    // 3 requests a 3 s window: one more every second
    emu.set_faults(Faults {
        rate_limit: 3,
        rate_limit_window: Some(Duration::from_secs(3)),
        ..Faults::default()
    });
    emu.clear_request_log();
    let mut conn = connect(&emu);
    let get = "GET /v1/environments HTTP/1.1\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\nhost: x\r\n\r\n";
    conn.write_all(get.repeat(5).as_bytes()).unwrap();
    let mut r = BufReader::new(conn);
    let answers: Vec<_> = (0..5).map(|_| read_answer(&mut r)).collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let (_, headers, body) = &answers[3];
    // as the API: whole seconds until the next request may go, the connection kept
    assert_eq!(header(headers, "retry-after"), Some("1"));
    assert_eq!(header(headers, "retry-after-ms"), None);
    assert_eq!(header(headers, "connection"), Some("keep-alive"));
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert!(v["request_id"].is_string(), "{v}");
    assert_eq!(emu.rate_limited(), 2);
    let log = emu.request_log();
    let marked: Vec<bool> = log.iter().map(|q| q.rate_limited).collect();
    assert_eq!(marked, [false, false, false, true, true]);
    // a refused request took nothing: one second on, one more goes
    std::thread::sleep(Duration::from_millis(1100));
    let mut conn = connect(&emu);
    conn.write_all(get.repeat(2).as_bytes()).unwrap();
    let mut r = BufReader::new(conn);
    assert_eq!(read_answer(&mut r).0, 200);
    assert_eq!(read_answer(&mut r).0, 429);
    assert_eq!(emu.rate_limited(), 3);
    // switched off: no limit
    emu.set_faults(Faults::default());
    let mut conn = connect(&emu);
    conn.write_all(get.repeat(4).as_bytes()).unwrap();
    let mut r = BufReader::new(conn);
    for _ in 0..4 {
        assert_eq!(read_answer(&mut r).0, 200);
    }
}
