//! A scripted HTTP/1.1 server on loopback for tests that need a server to misbehave: answer
//! slowly, trickle a body, close before the status line, or never answer. Each connection
//! serves one request, which the server records; mockito is for exact wire checks, this is
//! for what mockito cannot script.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a handler gets: the request's index (0, 1, ...), the request, and the socket to answer on.
pub type Handler = dyn Fn(usize, &Recorded, &mut TcpStream) + Send + Sync;

pub struct TestServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl TestServer {
    /// Starts a server; each connection serves one request, then closes.
    pub fn start(
        handler: impl Fn(usize, &Recorded, &mut TcpStream) + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut conn) = conn else { continue };
                    let (requests, count, handler) =
                        (requests.clone(), count.clone(), handler.clone());
                    std::thread::spawn(move || {
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                        let Some(req) = read_request(&mut conn) else {
                            return;
                        };
                        let index = count.fetch_add(1, Ordering::SeqCst);
                        requests.lock().unwrap().push(req.clone());
                        handler(index, &req, &mut conn);
                        let _ = conn.flush();
                    });
                }
            });
        }
        TestServer {
            url: format!("http://{addr}"),
            requests,
            stop,
            addr,
        }
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn request(&self, i: usize) -> Recorded {
        self.requests.lock().unwrap()[i].clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn read_request(conn: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

/// Writes a whole response and closes.
pub fn respond(conn: &mut TcpStream, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

pub fn respond_json(conn: &mut TcpStream, body: &str) {
    respond(
        conn,
        200,
        &[("content-type", "application/json")],
        body.as_bytes(),
    );
}

/// The value of a query parameter of a request target, percent-decoded as far as the tests
/// need (`:`, `[`, `]`, `.`).
pub fn query_param(target: &str, key: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        let decode = |s: &str| {
            s.replace("%5B", "[")
                .replace("%5D", "]")
                .replace("%3A", ":")
                .replace("%2E", ".")
        };
        (decode(k) == key).then(|| decode(v))
    })
}

/// Answers an events listing from `log` (events in the order they happened, each with its
/// `processed_at`) as the API does: `order`, `limit`, `created_at[gte]`, `types[]` and an
/// opaque `page` cursor. A listing without any of them (a thread's) is the whole log, oldest
/// first, `limit` at a time.
pub fn respond_list(conn: &mut TcpStream, target: &str, log: &[serde_json::Value]) {
    let limit: usize = query_param(target, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let desc = query_param(target, "order").as_deref() == Some("desc");
    let gte = query_param(target, "created_at[gte]");
    let types: Vec<String> = target
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.strip_prefix("types%5B%5D="))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let offset: usize = query_param(target, "page")
        .and_then(|p| p.strip_prefix('c').and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let mut items: Vec<&serde_json::Value> = log
        .iter()
        .filter(|e| {
            gte.as_deref()
                .is_none_or(|g| e["processed_at"].as_str().unwrap_or("") >= g)
        })
        .filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == t.as_str()))
        .collect();
    if desc {
        items.reverse();
    }
    let page: Vec<&serde_json::Value> = items.iter().skip(offset).take(limit).copied().collect();
    let next = (offset + limit < items.len()).then(|| format!("c{}", offset + limit));
    respond_json(
        conn,
        &serde_json::json!({"data": page, "next_page": next}).to_string(),
    );
}

/// Sends the head of an event-stream response (the connection closes at its end).
pub fn sse_head(conn: &mut TcpStream) {
    let _ = conn.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
    );
}
