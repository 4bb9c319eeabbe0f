//! `record`: its arguments, help and `exec`: a recording proxy on loopback in front of the API
//! (or of `--upstream`), and a program run with `ANTHROPIC_BASE_URL` pointed at it, so the
//! traffic of code in any language, with any SDK, is written into a cassette as the library's
//! own clients write theirs (`managed_agents::cassette::CassetteWriter`: same format, same
//! secrets kept out). Every request is sent upstream as the program sent it (its own key);
//! an event stream or a download is passed through as it arrives, frame by frame.

use crate::exit::{Exit, Failure};
use crate::signals;
use clap::Args;
use managed_agents::cassette::{AnswerBody, CassetteWriter};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The API a program talks to when neither `--upstream` nor `ANTHROPIC_BASE_URL` says.
const DEFAULT_UPSTREAM: &str = "https://api.anthropic.com";

/// The variables whose values are secrets the cassette keeps out wherever they show up.
const SECRET_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_ENVIRONMENT_KEY",
    "ANTHROPIC_WORK_SECRET",
    "ANTHROPIC_WEBHOOK_SIGNING_KEY",
];

/// Headers that belong to one connection (RFC 9110 7.6.1), or that the proxy sets itself:
/// never passed on. `accept-encoding` is dropped so that answers come uncompressed, as the
/// cassette needs them to read and redact their JSON.
const HOP_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "expect",
    "accept-encoding",
];

/// Holds the arguments of `record`.
#[derive(Args, Debug)]
#[command(after_help = "\
The program runs with the environment it would get, and ANTHROPIC_BASE_URL set to a proxy on
127.0.0.1 that sends every request on to the upstream API as the program sent it (its own API
key) and writes each exchange into the cassette, an event stream frame by frame as it passes.
Headers authorization and x-api-key, the program's keys (ANTHROPIC_API_KEY and the other key
variables), and tokens, secrets and vault credential values in bodies never reach the file.
The command exits with the program's exit status (128 + N when signal N ended it). SIGTERM and
SIGHUP are passed on to the program; Ctrl-C at the terminal reaches it directly.
The format is described in docs/cassettes.md.

Examples:
  managed-agents record --out session.cassette.jsonl -- python3 agent.py
  managed-agents record --out run.jsonl --redact /metadata/customer --redact x-tenant -- node run.mjs
  managed-agents record --out emu.jsonl --upstream http://127.0.0.1:8080 -- \\
      managed-agents run --agent agent_011CZx --environment env_011CZx --message 'Hello'
  jq -c 'select(.kind == \"exchange\") | [.id, .operation, .status]' session.cassette.jsonl")]
pub struct RecordArgs {
    /// The cassette to write (created, or emptied).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The API to send the requests on to (its help names the default).
    #[arg(
        long,
        value_name = "URL",
        help = "The API to send the requests on to [default: ANTHROPIC_BASE_URL, else https://api.anthropic.com]"
    )]
    pub upstream: Option<String>,
    /// More to keep out of the cassette: a JSON pointer (`/metadata/customer`, applied to every
    /// body and event) or a header name. Repeatable.
    #[arg(long, value_name = "POINTER|HEADER")]
    pub redact: Vec<String>,
    /// The program to run, and its arguments (after `--`).
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// What every request's thread shares.
struct Proxy {
    cassette: CassetteWriter,
    agent: ureq::Agent,
    upstream: String,
}

/// Runs the program behind the recording proxy; exits with its status.
pub fn exec(args: RecordArgs, quiet: bool) -> Result<Exit, Failure> {
    let upstream = upstream_of(args.upstream.as_deref())?;
    let cassette = CassetteWriter::create(
        &args.out,
        &format!("managed-agents-cli/{} record", env!("CARGO_PKG_VERSION")),
        &upstream,
        &args.redact,
    )?;
    for var in SECRET_VARS {
        if let Ok(value) = std::env::var(var) {
            cassette.add_secret(&value);
        }
    }
    let server = tiny_http::Server::http("127.0.0.1:0")
        .map_err(|e| Failure(Exit::Api, format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| Failure(Exit::Api, "the proxy has no TCP address".into()))?;
    let proxy = Arc::new(Proxy {
        cassette,
        agent: agent_for(&upstream),
        upstream,
    });
    std::thread::Builder::new()
        .name("record-proxy".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let proxy = proxy.clone();
                let spawned = std::thread::Builder::new()
                    .name("record-exchange".into())
                    .spawn(move || forward(&proxy, request));
                if let Err(e) = spawned {
                    log::warn!("cannot start a thread for a request: {e}");
                }
            }
        })
        .map_err(|e| Failure(Exit::Api, format!("cannot start the proxy: {e}")))?;
    let base_url = format!("http://127.0.0.1:{port}");
    if !quiet {
        log::info!("recording to {} through {base_url}", args.out.display());
    }
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Failure::usage("no command to run"))?;
    // the signals are handled from before the program starts: one that comes as it starts is
    // passed on as soon as its pid is known, never left to end this command alone
    let child_pid = Arc::new(std::sync::atomic::AtomicI32::new(0));
    let pending_signal = Arc::new(std::sync::atomic::AtomicI32::new(0));
    {
        let (child_pid, pending_signal) = (child_pid.clone(), pending_signal.clone());
        signals::on_stop(move |stop| {
            if stop.number() == libc::SIGINT && in_terminal_foreground() {
                // Ctrl-C at the terminal: it reached the program too, which handles it its way
                return;
            }
            pending_signal.store(stop.number(), Ordering::SeqCst);
            let pid = child_pid.load(Ordering::SeqCst);
            if pid != 0 {
                match pending_signal.swap(0, Ordering::SeqCst) {
                    0 => {}
                    sig => pass_on(pid, sig),
                }
            }
        });
    }
    let mut child = std::process::Command::new(program)
        .args(rest)
        .env("ANTHROPIC_BASE_URL", &base_url)
        .spawn()
        .map_err(|e| Failure::usage(format!("cannot run {}: {e}", program.to_string_lossy())))?;
    let pid = child.id() as libc::pid_t;
    child_pid.store(pid, Ordering::SeqCst);
    match pending_signal.swap(0, Ordering::SeqCst) {
        0 => {}
        sig => pass_on(pid, sig),
    }
    let status = child
        .wait()
        .map_err(|e| Failure(Exit::Api, format!("waiting for the program: {e}")))?;
    use std::os::unix::process::ExitStatusExt;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    };
    std::process::exit(code)
}

/// Sends signal `sig` to the program run, `pid`.
fn pass_on(pid: libc::pid_t, sig: i32) {
    // SAFETY: kill takes plain integers; the pid is our child's, not yet reaped (this command
    // waits for it, and exits when it is)
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Whether this process's group is its terminal's foreground group, which a Ctrl-C at the
/// terminal goes to whole (the program run is in it too).
fn in_terminal_foreground() -> bool {
    // SAFETY: both take plain integers and touch no memory of ours
    let (foreground, ours) = unsafe { (libc::tcgetpgrp(libc::STDIN_FILENO), libc::getpgrp()) };
    foreground != -1 && foreground == ours
}

/// The upstream API's URL: the flag's, else `ANTHROPIC_BASE_URL`'s, else the real API's.
fn upstream_of(flag: Option<&str>) -> Result<String, Failure> {
    let url = flag
        .map(str::to_string)
        .or_else(|| {
            std::env::var("ANTHROPIC_BASE_URL")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_UPSTREAM.to_string());
    let url = url.trim_end_matches('/').to_string();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(Failure::usage(format!(
            "--upstream: {url:?} is not an http(s) URL"
        )));
    }
    Ok(url)
}

/// The agent requests are sent upstream with: answers of every status handed back as they
/// are, no redirect followed, no timeout but the connection's (the program keeps its own),
/// the environment's proxy for a host that is not loopback.
fn agent_for(upstream: &str) -> ureq::Agent {
    let host = upstream.split("://").nth(1).unwrap_or("");
    let host = host.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let config = ureq::Agent::config_builder();
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let config = config.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .build(),
    );
    config
        .proxy(if loopback {
            None
        } else {
            ureq::Proxy::try_from_env()
        })
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// Decodes `%XX` escapes and `+` (a space) in a query's name or value.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a request target into its path and its query's pairs.
fn split_target(target: &str) -> (&str, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    (path, pairs)
}

/// An answer the proxy makes itself: a JSON error of the API's shape.
fn own_error(request: tiny_http::Request, status: u16, message: &str) {
    let body = serde_json::json!({
        "type": "error",
        "error": {"type": "api_error", "message": format!("managed-agents record: {message}")},
    })
    .to_string();
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(h) = tiny_http::Header::from_bytes(&b"content-type"[..], &b"application/json"[..]) {
        response.add_header(h);
    }
    if let Err(e) = request.respond(response) {
        log::debug!("answering the program failed: {e}");
    }
}

/// Sends one request of the program upstream, hands the answer back and records both.
fn forward(proxy: &Proxy, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_string();
    let target = request.url().to_string();
    let (path, query) = split_target(&target);
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // a form (a file upload) is passed on as it is read, never held whole; any other body is
    // read first, to be recorded as JSON with its secrets taken out
    let form = header("content-type").is_some_and(|ct| {
        ct.get(..10)
            .is_some_and(|p| p.eq_ignore_ascii_case("multipart/"))
    });
    let length = header("content-length").and_then(|n| n.trim().parse::<u64>().ok());
    let mut body = Vec::new();
    if !form {
        if let Err(e) = request.as_reader().read_to_end(&mut body) {
            own_error(request, 400, &format!("reading the request's body: {e}"));
            return;
        }
    }
    // recorded as they go upstream: without the headers of the connection to the proxy
    let sent: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k == "content-length" || !HOP_HEADERS.contains(&k.as_str()))
        .cloned()
        .collect();
    let pending = if form {
        proxy
            .cassette
            .request_form(&method, path, &query, &sent, length)
    } else {
        proxy.cassette.request(&method, path, &query, &sent, &body)
    };
    let mut upstream = ureq::http::Request::builder()
        .method(method.as_str())
        .uri(format!("{}{}", proxy.upstream, target));
    for (k, v) in &headers {
        if !HOP_HEADERS.contains(&k.as_str()) {
            upstream = upstream.header(k.as_str(), v.as_str());
        }
    }
    let answer = if form {
        if let Some(n) = length {
            upstream = upstream.header("content-length", n.to_string());
        }
        send_upstream(
            &proxy.agent,
            upstream,
            ureq::SendBody::from_reader(request.as_reader()),
        )
    } else if body.is_empty() {
        send_upstream(&proxy.agent, upstream, ureq::SendBody::none())
    } else {
        upstream = upstream.header("content-length", body.len().to_string());
        let body = ureq::SendBody::from_owned_reader(std::io::Cursor::new(body));
        send_upstream(&proxy.agent, upstream, body)
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let message = format!("{method} {path}: {e}");
            proxy.cassette.failed(pending, &message);
            own_error(request, 502, &format!("the upstream API: {message}"));
            return;
        }
    };
    let status = answer.status().as_u16();
    let answer_headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let content_type = answer_headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let passed: Vec<&(String, String)> = answer_headers
        .iter()
        .filter(|(k, _)| !HOP_HEADERS.contains(&k.as_str()))
        .collect();
    let events = content_type.starts_with("text/event-stream");
    let whole = !events && (content_type.contains("json") || content_type.is_empty());
    if whole {
        let bytes = match answer
            .into_body()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
        {
            Ok(b) => b,
            Err(e) => {
                let message = format!("{method} {path}: reading the answer: {e}");
                proxy.cassette.failed(pending, &message);
                own_error(request, 502, &format!("the upstream API: {message}"));
                return;
            }
        };
        proxy
            .cassette
            .answered(pending, status, &answer_headers, AnswerBody::Whole(&bytes));
        let mut response = tiny_http::Response::from_data(bytes).with_status_code(status);
        for (k, v) in passed {
            if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                response.add_header(h);
            }
        }
        if let Err(e) = request.respond(response) {
            log::debug!("answering the program failed: {e}");
        }
        return;
    }
    let kind = if events {
        AnswerBody::Events
    } else {
        AnswerBody::Bytes
    };
    let recorded = proxy
        .cassette
        .answered(pending, status, &answer_headers, kind);
    let reader = proxy
        .cassette
        .tap(&recorded, answer.into_body().into_reader());
    let head_only = method == "HEAD";
    let mut writer = request.into_writer();
    if let Err(e) = stream(&mut writer, status, &passed, reader, head_only) {
        log::debug!("streaming the answer to the program ended: {e}");
    }
}

/// Sends a request upstream with `body`, and returns the answer's head (its body unread).
fn send_upstream(
    agent: &ureq::Agent,
    request: ureq::http::request::Builder,
    body: ureq::SendBody<'_>,
) -> Result<ureq::http::Response<ureq::Body>, String> {
    let request = request.body(body).map_err(|e| e.to_string())?;
    agent.run(request).map_err(|e| e.to_string())
}

/// Writes an answer read as it comes: its head, then each piece of its body as one chunk,
/// flushed as soon as it is read, so an event reaches the program when it arrives.
fn stream(
    writer: &mut dyn Write,
    status: u16,
    headers: &[&(String, String)],
    mut body: Box<dyn Read + Send>,
    head_only: bool,
) -> std::io::Result<()> {
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    writer.write_all(head.as_bytes())?;
    writer.flush()?;
    if head_only {
        return Ok(());
    }
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = body.read(&mut buf)?;
        if n == 0 {
            writer.write_all(b"0\r\n\r\n")?;
            return writer.flush();
        }
        writer.write_all(format!("{n:x}\r\n").as_bytes())?;
        writer.write_all(&buf[..n])?;
        writer.write_all(b"\r\n")?;
        writer.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_splits_into_path_and_decoded_pairs() {
        let (path, query) = split_target("/v1/agents?limit=20&name=a%20b+c&flag&x=%zz");
        assert_eq!(path, "/v1/agents");
        assert_eq!(
            query,
            vec![
                ("limit".to_string(), "20".to_string()),
                ("name".to_string(), "a b c".to_string()),
                ("flag".to_string(), String::new()),
                ("x".to_string(), "%zz".to_string()),
            ]
        );
        assert_eq!(decode("%4"), "%4");
    }

    #[test]
    fn the_upstream_is_an_http_url_without_its_last_slash() {
        assert_eq!(
            upstream_of(Some("http://127.0.0.1:9/")).ok(),
            Some("http://127.0.0.1:9".to_string())
        );
        assert!(upstream_of(Some("ftp://x")).is_err());
    }
}
