//! Measures the client on loopback: peak memory and throughput of a 1 GiB upload and download,
//! and how far past its deadline a call against a trickling server returns.
//!
//! `cargo bench --bench client` (add `-- quick` for 64 MiB and 5 tries). Peak memory is the
//! process's VmHWM from /proc (Linux), which includes the in-process test server.

use managed_agents::types::SessionEvent;
use managed_agents::StreamOptions;
use managed_agents::{Client, UploadFile};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const FILE_JSON: &str = r#"{"id":"file_1","type":"file","filename":"big.bin","mime_type":"application/octet-stream","size_bytes":1,"created_at":"2026-04-01T00:00:00Z","downloadable":true}"#;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(String::from)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Bytes that cost nothing to make.
struct Pattern(u64);

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.0) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = i as u8;
        }
        self.0 -= n as u64;
        Ok(n)
    }
}

/// Serves uploads (drained, chunked or not) and downloads of `size` bytes, one connection at a time.
fn serve(size: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || handle(conn, size));
        }
    });
    url
}

fn handle(conn: TcpStream, size: u64) {
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::with_capacity(64 * 1024, conn);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let (mut chunked, mut len) = (false, 0u64);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        chunked |= h.starts_with("transfer-encoding:") && h.contains("chunked");
        if let Some(v) = h.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    if chunked {
        loop {
            let mut s = String::new();
            r.read_line(&mut s).unwrap();
            let n = u64::from_str_radix(s.trim(), 16).unwrap();
            std::io::copy(&mut (&mut r).take(n + 2), &mut std::io::sink()).unwrap();
            if n == 0 {
                break;
            }
        }
    } else {
        std::io::copy(&mut (&mut r).take(len), &mut std::io::sink()).unwrap();
    }
    if line.starts_with("POST") {
        write!(w, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{FILE_JSON}", FILE_JSON.len()).unwrap();
    } else {
        write!(w, "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n").unwrap();
        let _ = std::io::copy(&mut Pattern(size), &mut w);
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let size: u64 = if quick { 64 << 20 } else { 1 << 30 };
    let tries = if quick { 5 } else { 100 };
    let url = serve(size);
    let client = Client::builder()
        .api_key("k")
        .base_url(&url)
        .build()
        .unwrap();
    let base = peak_rss_kib();

    let t = Instant::now();
    client
        .files()
        .upload(UploadFile::reader("big.bin", Pattern(size)))
        .unwrap();
    let up = t.elapsed();
    let after_up = peak_rss_kib();

    let t = Instant::now();
    let n = client
        .files()
        .download("file_1")
        .unwrap()
        .write_to(&mut std::io::sink())
        .unwrap();
    let down = t.elapsed();
    assert_eq!(n, size);
    let after_down = peak_rss_kib();
    let mib = size as f64 / (1 << 20) as f64;
    println!(
        "upload   {mib:.0} MiB: {:.0} MiB/s, peak RSS {:.1} MiB (before: {:.1} MiB)",
        mib / up.as_secs_f64(),
        after_up as f64 / 1024.0,
        base as f64 / 1024.0
    );
    println!(
        "download {mib:.0} MiB: {:.0} MiB/s, peak RSS {:.1} MiB",
        mib / down.as_secs_f64(),
        after_down as f64 / 1024.0
    );

    // deadlines: 100 tries each (5 with `quick`), the max and mean overshoot
    let deadline = Duration::from_millis(300);
    let trickling = trickle(true);
    let silent = trickle(false);
    let call = |url: &str| {
        Client::builder()
            .api_key("k")
            .base_url(url)
            .max_retries(0)
            .timeout(deadline)
            .build()
            .unwrap()
    };
    let stream = |url: &str, idle: Option<Duration>, overall: Option<Duration>| {
        let mut o = StreamOptions::new().idle(idle).max_reconnects(0);
        if let Some(d) = overall {
            o = o.timeout(d);
        }
        let c = Client::builder()
            .api_key("k")
            .base_url(url)
            .build()
            .unwrap();
        let err = c.sessions().events().stream("sesn_1", o).and_then(|mut s| {
            s.next()
                .unwrap_or(Ok(SessionEvent::Unknown(Default::default())))
                .map(|_| ())
        });
        assert!(
            matches!(err, Err(managed_agents::Error::Timeout { .. })),
            "{err:?}"
        );
    };
    type Case<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let cases: [Case; 4] = [
        (
            "call deadline, body trickled 1 byte/100 ms",
            Box::new(|| {
                assert!(call(&trickling).sessions().retrieve("s").is_err());
            }),
        ),
        (
            "call deadline, server never answers",
            Box::new(|| {
                assert!(call(&silent).sessions().retrieve("s").is_err());
            }),
        ),
        (
            "stream overall deadline, heartbeats every 100 ms",
            Box::new(|| stream(&heartbeats(), None, Some(deadline))),
        ),
        (
            "stream overall deadline, server silent after headers (idle timeouts of 100 ms reconnect)",
            Box::new(|| {
                stream(
                    &silent_stream(),
                    Some(Duration::from_millis(100)),
                    Some(deadline),
                )
            }),
        ),
    ];
    for (name, case) in cases.iter() {
        let mut worst = Duration::ZERO;
        let mut total = Duration::ZERO;
        for _ in 0..tries {
            let t = Instant::now();
            case();
            let over = t.elapsed().saturating_sub(deadline);
            worst = worst.max(over);
            total += over;
        }
        println!(
            "{name}: {deadline:?}, {tries} tries: overshoot max {:.1} ms, mean {:.1} ms",
            worst.as_secs_f64() * 1000.0,
            total.as_secs_f64() * 1000.0 / tries as f64
        );
    }
}

/// A server that answers a JSON body trickled a byte per 100 ms (`true`), or never answers.
fn trickle(answer: bool) -> String {
    serve_with(move |conn| {
        if answer {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n{");
            while conn.write_all(b" ").is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        } else {
            std::thread::sleep(Duration::from_secs(30));
        }
    })
}

/// An event stream that sends a heartbeat every 100 ms, for ever.
fn heartbeats() -> String {
    serve_with(|conn| {
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n");
        while conn.write_all(b": heartbeat\n\n").is_ok() {
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

/// An event stream that sends its headers, then nothing.
fn silent_stream() -> String {
    serve_with(|conn| {
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n");
        std::thread::sleep(Duration::from_secs(30));
    })
}

fn serve_with(f: impl Fn(&mut TcpStream) + Send + Sync + Copy + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                // a stream opens by reading where the session's log ends: an empty log
                let head = String::from_utf8_lossy(&buf[..n]);
                if head.starts_with("GET /v1/sessions/sesn_1/events?") {
                    let body = r#"{"data":[],"next_page":null}"#;
                    let _ = write!(conn, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                    return;
                }
                f(&mut conn);
            });
        }
    });
    url
}
