//! Retries, deadlines and errors against servers that misbehave on purpose (real sockets on
//! loopback). Time bounds are generous margins, never speed assertions.

use crate::support::{respond, respond_json, TestServer};
use managed_agents::{Client, ConnectionKind, Error, RequestOptions};
use std::io::Write;
use std::time::{Duration, Instant};

const KEY: &str = "sk-ant-secret-do-not-print";

fn session_json() -> String {
    let text = std::fs::read_to_string("tests/fixtures/types/Session.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["minimal"].to_string()
}

fn client(url: &str, retries: u32, timeout: Duration) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .max_retries(retries)
        .timeout(timeout)
        .build()
        .unwrap()
}

#[test]
fn retries_a_429_after_retry_after_ms_and_counts_retries() {
    let body = session_json();
    let server = TestServer::start(move |i, _, conn| {
        if i == 0 {
            respond(
                conn,
                429,
                &[("retry-after-ms", "50")],
                br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
            );
        } else {
            respond_json(conn, &body);
        }
    });
    let s = client(&server.url, 2, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap();
    assert!(!s.id.is_empty());
    assert_eq!(server.count(), 2);
    assert_eq!(
        server.request(0).header("x-stainless-retry-count"),
        Some("0")
    );
    assert_eq!(
        server.request(1).header("x-stainless-retry-count"),
        Some("1")
    );
}

#[test]
fn retries_529_up_to_max_retries_then_reports_it() {
    let server = TestServer::start(|_, _, conn| {
        respond(
            conn,
            529,
            &[("retry-after-ms", "10"), ("request-id", "req_529")],
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
    });
    let err = client(&server.url, 2, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    assert_eq!(server.count(), 3, "one try and two retries");
    assert_eq!(err.status(), Some(529));
    assert_eq!(err.request_id(), Some("req_529"));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("overloaded_error"), "{err}");
}

#[test]
fn retries_a_dropped_connection() {
    let body = session_json();
    let server = TestServer::start(move |i, _, conn| {
        if i == 0 {
            let _ = conn.shutdown(std::net::Shutdown::Both); // closes before the status line
        } else {
            respond_json(conn, &body);
        }
    });
    client(&server.url, 2, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap();
    assert_eq!(server.count(), 2);
}

#[test]
fn does_not_retry_client_errors_or_when_told_not_to() {
    for (status, headers) in [
        (400, vec![]),
        (401, vec![]),
        (404, vec![]),
        (500, vec![("x-should-retry", "false")]),
    ] {
        let server = TestServer::start(move |_, _, conn| respond(conn, status, &headers, b"{}"));
        let err = client(&server.url, 3, Duration::from_secs(30))
            .sessions()
            .retrieve("sesn_1")
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(server.count(), 1, "status {status} was retried");
    }
}

#[test]
fn retries_when_told_to_even_a_400() {
    let body = session_json();
    let server = TestServer::start(move |i, _, conn| {
        if i == 0 {
            respond(
                conn,
                400,
                &[("x-should-retry", "true"), ("retry-after-ms", "10")],
                b"{}",
            );
        } else {
            respond_json(conn, &body);
        }
    });
    client(&server.url, 1, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap();
    assert_eq!(server.count(), 2);
}

#[test]
fn a_retry_that_would_end_after_the_deadline_is_not_started() {
    let server = TestServer::start(|_, _, conn| respond(conn, 503, &[("retry-after", "5")], b"{}"));
    let started = Instant::now();
    let err = client(&server.url, 5, Duration::from_secs(2))
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(server.count(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "slept past the deadline: {:?}",
        started.elapsed()
    );
}

#[test]
fn the_deadline_cuts_off_a_trickling_body() {
    let server = TestServer::start(|_, _, conn| {
        let _ = conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{",
        );
        for _ in 0..600 {
            std::thread::sleep(Duration::from_millis(100));
            if conn.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let err = client(&server.url, 0, Duration::from_secs(1))
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
}

#[test]
fn the_deadline_cuts_off_a_server_that_never_answers() {
    let server = TestServer::start(|_, _, _conn| std::thread::sleep(Duration::from_secs(30)));
    let started = Instant::now();
    let err = client(&server.url, 2, Duration::from_secs(1))
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        server.count(),
        1,
        "a timed-out call is not retried past its deadline"
    );
}

#[test]
fn a_per_call_timeout_overrides_the_client_default() {
    let server = TestServer::start(|_, _, _conn| std::thread::sleep(Duration::from_secs(30)));
    let c = client(&server.url, 0, Duration::from_secs(600));
    let started = Instant::now();
    let err = c
        .sessions()
        .retrieve_with(
            "sesn_1",
            &RequestOptions::new().timeout(Duration::from_millis(500)),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn non_json_error_bodies_become_readable_errors() {
    let server = TestServer::start(|_, _, conn| {
        respond(
            conn,
            502,
            &[("content-type", "text/html"), ("request-id", "req_html")],
            b"<html>Bad Gateway</html>",
        )
    });
    let err = client(&server.url, 0, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    match &err {
        Error::Api {
            status,
            error_type,
            message,
            request_id,
            body,
            ..
        } => {
            assert_eq!(*status, 502);
            assert_eq!(error_type, &None);
            assert!(message.contains("Bad Gateway"));
            assert_eq!(request_id.as_deref(), Some("req_html"));
            assert_eq!(body, "<html>Bad Gateway</html>");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_truncated_success_body_is_a_decode_error_with_an_excerpt() {
    let server =
        TestServer::start(|_, _, conn| respond_json(conn, r#"{"id": "sesn_1", "agent": {"#));
    let err = client(&server.url, 0, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    match &err {
        Error::Decode { excerpt, .. } => {
            assert!(excerpt.starts_with(r#"{"id": "sesn_1""#), "{excerpt}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_api_key_is_never_printed() {
    let server = TestServer::start(|_, _, conn| {
        respond(conn, 401, &[], br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#)
    });
    let c = client(&server.url, 0, Duration::from_secs(30));
    let err = c.sessions().retrieve("sesn_1").unwrap_err();
    let opts = RequestOptions::new()
        .header("x-api-key", KEY)
        .header("Authorization", format!("Bearer {KEY}"));
    let builder = Client::builder().api_key(KEY).header("x-api-key", KEY);
    for text in [
        format!("{c:?}"),
        format!("{err:?}"),
        format!("{err}"),
        format!("{opts:?}"),
        format!("{builder:?}"),
    ] {
        assert!(!text.contains(KEY), "{text}");
    }
    assert_eq!(server.request(0).header("x-api-key"), Some(KEY));
}

#[test]
fn the_client_is_cheap_to_share_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Client>();
    let body = session_json();
    let server = TestServer::start(move |_, _, conn| respond_json(conn, &body));
    let c = client(&server.url, 0, Duration::from_secs(30));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || c.sessions().retrieve(&format!("sesn_{i}")).map(|s| s.id))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    assert_eq!(server.count(), 8);
}

#[test]
fn from_env_without_a_key_says_what_to_do() {
    // the variable is read only when no key is given; this process may have one set
    if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        return;
    }
    let err = Client::from_env().unwrap_err();
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
}

#[test]
fn a_retry_after_date_in_a_huge_year_is_ignored_not_a_panic() {
    let body = session_json();
    let server = TestServer::start(move |i, _, conn| {
        if i == 0 {
            respond(
                conn,
                503,
                &[("retry-after", "Sun, 06 Nov 99999999999999999 08:49:37 GMT")],
                b"{}",
            );
        } else {
            respond_json(conn, &body);
        }
    });
    client(&server.url, 1, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap();
    assert_eq!(server.count(), 2, "the backoff stands in for the bad date");
}

#[test]
fn a_connection_reset_in_the_middle_of_a_body_is_retried() {
    let body = session_json();
    let server = TestServer::start(move |i, _, conn| {
        if i == 0 {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body.as_bytes()[..body.len() / 2]);
            let _ = conn.flush();
            let _ = conn.shutdown(std::net::Shutdown::Both);
        } else {
            respond_json(conn, &body);
        }
    });
    let s = client(&server.url, 2, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap();
    assert!(!s.id.is_empty());
    assert_eq!(server.count(), 2);
}

/// A server that accepts TCP connections, counts them, and never says a word: a TLS handshake
/// with it never ends, so the client's connect timeout fires.
fn silent_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(20));
                drop(conn);
            });
        }
    });
    (url, count)
}

#[test]
fn a_connect_timeout_with_deadline_left_is_retried_then_reported_as_a_timeout() {
    let (url, count) = silent_server();
    let c = Client::builder()
        .api_key(KEY)
        .base_url(&url)
        .max_retries(2)
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = c.sessions().retrieve("sesn_1").unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "one try and two retries"
    );
}

/// Every error in the chain of `source()`s, the error itself first.
fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = vec![err];
    while let Some(next) = out.last().unwrap().source() {
        out.push(next);
    }
    out
}

#[test]
fn a_refused_connection_keeps_its_cause() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = client(
        &format!("http://127.0.0.1:{port}"),
        0,
        Duration::from_secs(30),
    )
    .sessions()
    .retrieve("sesn_1")
    .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert!(
        chain(&err).iter().any(|e| e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)),
        "no io::Error ConnectionRefused among the sources of {err:?}"
    );
    assert_eq!(err.connection_kind(), Some(ConnectionKind::Refused));
    assert!(err.is_retryable());
}

#[test]
fn a_tls_failure_and_a_name_that_does_not_resolve_are_told_apart() {
    // a server that answers a TLS handshake in plain HTTP
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let https = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let err = client(&https, 0, Duration::from_secs(30))
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    assert_eq!(err.connection_kind(), Some(ConnectionKind::Tls), "{err:?}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    let err = Client::builder()
        .api_key(KEY)
        .base_url("http://no-such-host.invalid")
        .allow_plain_http(true)
        .max_retries(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .sessions()
        .retrieve("sesn_1")
        .unwrap_err();
    assert_eq!(err.connection_kind(), Some(ConnectionKind::Dns), "{err:?}");
}
