//! Memory of a long live stream: 1,000,000 events from a loopback server that drops the
//! connection every 50,000 events (and produces a few while nobody listens, so every reconnect
//! has a backlog to list), read through `EventStream` and through the runner. Reports the
//! process's peak resident set (`VmHWM` of /proc/self/status) before and after.
//!
//! `cargo bench --bench stream_memory` runs both readers, each in a process of its own (a peak
//! is per process); `-- stream` or `-- runner` runs one, `-- quick` streams 100,000 events.

use managed_agents::types::*;
use managed_agents::Client;
use managed_agents::StreamOptions;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Events a connection sends before the server drops it.
const PER_CONNECTION: usize = 50_000;
/// Events produced while nobody listens, after each drop.
const WHILE_AWAY: usize = 5;

/// Two events share each `processed_at`, as events of one instant do.
fn stamp(n: usize) -> String {
    let ms = (n / 2) as u64;
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn event(n: usize, total: usize) -> String {
    if n == total {
        format!(
            r#"{{"id":"sevt_{n:08}","processed_at":"{}","stop_reason":{{"type":"end_turn"}},"type":"session.status_idle"}}"#,
            stamp(n)
        )
    } else {
        format!(
            r#"{{"content":[{{"text":"event {n}: the agent reports progress on the task, as agents do, at some length","type":"text"}}],"id":"sevt_{n:08}","processed_at":"{}","type":"agent.message"}}"#,
            stamp(n)
        )
    }
}

struct State {
    /// Events produced so far (1..=produced exist).
    produced: usize,
    /// The user message arrived: the agent works.
    started: bool,
    connections: usize,
}

struct Server {
    state: Mutex<State>,
    go: Condvar,
    total: usize,
}

fn query<'a>(target: &'a str, key: &str) -> Option<&'a str> {
    let q = target.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

impl Server {
    fn serve(self: Arc<Self>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let server = self.clone();
                std::thread::spawn(move || server.handle(conn));
            }
        });
        url
    }

    fn handle(&self, mut conn: TcpStream) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut len = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; len];
        let _ = std::io::Read::read_exact(&mut reader, &mut body);
        let path = target.split('?').next().unwrap_or("");
        if path == "/v1/sessions/sesn_1/events/stream" {
            self.stream(&mut conn);
        } else if path == "/v1/sessions/sesn_1/events" && method == "POST" {
            let mut st = self.state.lock().unwrap();
            st.started = true;
            self.go.notify_all();
            drop(st);
            respond(&mut conn, 200, r#"{"data":[]}"#);
        } else if path == "/v1/sessions/sesn_1/events" {
            self.list(&mut conn, &target);
        } else {
            respond(
                &mut conn,
                404,
                r#"{"type":"error","error":{"type":"not_found_error","message":"no"}}"#,
            );
        }
    }

    fn stream(&self, conn: &mut TcpStream) {
        let _ = conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
        );
        let _ = conn.flush();
        let mut st = self.state.lock().unwrap();
        st.connections += 1;
        while !st.started {
            st = self.go.wait(st).unwrap();
        }
        let start = st.produced;
        drop(st);
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, conn);
        let mut n = start;
        while n < self.total && n < start + PER_CONNECTION {
            n += 1;
            self.state.lock().unwrap().produced = n;
            if write!(out, "event: message\ndata: {}\n\n", event(n, self.total)).is_err() {
                return;
            }
        }
        let _ = out.flush();
        drop(out);
        // a drop; a few events happen while nobody listens
        let mut st = self.state.lock().unwrap();
        st.produced = (st.produced + WHILE_AWAY).min(self.total);
    }

    /// `events().list`: `created_at[gte]`, `order`, `limit` and a `page` cursor.
    fn list(&self, conn: &mut TcpStream, target: &str) {
        let produced = self.state.lock().unwrap().produced;
        let limit: usize = query(target, "limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(20);
        let desc = query(target, "order") == Some("desc");
        let gte = query(target, "created_at%5Bgte%5D").map(|v| v.replace("%3A", ":"));
        let from: usize = query(target, "page")
            .and_then(|p| p.trim_start_matches('p').parse().ok())
            .unwrap_or(0);
        let mut data = String::from("[");
        let mut next = None;
        if desc {
            let top = if from == 0 { produced } else { from };
            let mut n = top;
            while n >= 1 && top - n < limit {
                if data.len() > 1 {
                    data.push(',');
                }
                data.push_str(&event(n, self.total));
                n -= 1;
            }
            if n >= 1 {
                next = Some(format!("p{n}"));
            }
        } else {
            // the first event at or after the time (stamps are n / 2 ms: a binary search is not needed)
            let mut n = if from > 0 {
                from
            } else {
                match &gte {
                    Some(g) => (1..=produced)
                        .rev()
                        .take_while(|n| stamp(*n) >= *g)
                        .last()
                        .unwrap_or(produced + 1),
                    None => 1,
                }
            };
            let mut count = 0;
            while n <= produced && count < limit {
                if data.len() > 1 {
                    data.push(',');
                }
                data.push_str(&event(n, self.total));
                n += 1;
                count += 1;
            }
            if n <= produced {
                next = Some(format!("p{n}"));
            }
        }
        data.push(']');
        let next = next.map_or("null".into(), |c| format!("\"{c}\""));
        respond(
            conn,
            200,
            &format!(r#"{{"data":{data},"next_page":{next}}}"#),
        );
    }
}

fn respond(conn: &mut TcpStream, status: u16, body: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Peak resident set of this process, in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn run(mode: &str, total: usize) {
    let server = Arc::new(Server {
        state: Mutex::new(State {
            produced: 0,
            started: false,
            connections: 0,
        }),
        go: Condvar::new(),
        total,
    });
    let url = server.clone().serve();
    let client = Client::builder()
        .api_key("k")
        .base_url(&url)
        .build()
        .unwrap();
    let before = peak_kib();
    let t = Instant::now();
    let opts = StreamOptions::new()
        .reconnect_delay(Duration::from_millis(1))
        .max_reconnects(5);
    let delivered = match mode {
        "stream" => {
            let stream = client.sessions().events().stream("sesn_1", opts).unwrap();
            client
                .sessions()
                .events()
                .send(
                    "sesn_1",
                    &EventSendParams::one(UserMessageEventParams::text("go")),
                )
                .unwrap();
            let mut n = 0;
            for ev in stream.until_idle() {
                std::hint::black_box(ev.unwrap());
                n += 1;
            }
            n
        }
        _ => {
            let mut n = 0;
            let outcome = client
                .run("sesn_1")
                .message("go")
                .stream_options(opts)
                .on_event(|ev| {
                    std::hint::black_box(ev);
                    n += 1;
                })
                .until_idle()
                .unwrap();
            assert!(outcome.stop_reason.is_some());
            drop(outcome);
            n
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let connections = server.state.lock().unwrap().connections;
    assert_eq!(delivered, total, "{mode}: every event once");
    println!(
        "{mode}: {delivered} events through {} drops in {secs:.1} s ({:.0} k events/s); peak RSS {:.1} MiB before, {:.1} MiB after",
        connections - 1,
        delivered as f64 / secs / 1e3,
        before as f64 / 1024.0,
        peak_kib() as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "quick");
    let total = if quick { 100_000 } else { 1_000_000 };
    let modes: Vec<&str> = ["stream", "runner"]
        .into_iter()
        .filter(|m| args.iter().any(|a| a == m))
        .collect();
    if modes.len() == 1 {
        run(modes[0], total);
        return;
    }
    // each reader in a process of its own: a peak is per process
    let exe = std::env::current_exe().unwrap();
    for mode in ["stream", "runner"] {
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg(mode);
        if quick {
            cmd.arg("quick");
        }
        let status = cmd.status().unwrap();
        assert!(status.success(), "{mode} failed");
    }
}
