//! Verify a webhook delivery and read its event, offline.
//!
//! `cargo run --example webhooks` plays both sides with a demonstration secret: it signs a
//! `session.status_idled` delivery as the API does, verifies it, shows that a changed body
//! and a stale timestamp are refused, and prints what a receiver would do. Then a live round
//! trip: the embedded emulator, given a receiver's URL and the secret, sends a session's
//! webhook events over HTTP to a receiver on loopback, which verifies each.
//!
//! With the secret in ANTHROPIC_WEBHOOK_SIGNING_KEY:
//!
//! - `cargo run --example webhooks -- verify BODY_FILE WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE`
//!   verifies a delivery you captured and prints its event;
//! - `cargo run --example webhooks -- sign BODY_FILE WEBHOOK_ID [WEBHOOK_TIMESTAMP]` prints the
//!   headers that sign BODY_FILE (timestamp now by default), to test your own receiver;
//! - `cargo run --example webhooks -- listen PORT` receives deliveries on 127.0.0.1:PORT and
//!   prints each verified event, e.g. from `managed-agents emulator --webhook-url
//!   http://127.0.0.1:PORT/webhooks` with the same secret.
//!
//! None of these needs the network or an API key.

use managed_agents::types::{AgentCreateParams, EnvironmentCreateParams, SessionCreateParams};
use managed_agents::webhooks::{self, Secret, Webhook, WebhookError, WebhookEvent};
use managed_agents::webhooks::{WebhookEventData, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Script, WebhookEndpoint};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => demo().and_then(|()| live()),
        [cmd, port] if cmd == "listen" => listen(port),
        [cmd, body, id, timestamp, signature] if cmd == "verify" => {
            verify(body, id, timestamp, signature)
        }
        [cmd, body, id] if cmd == "sign" => sign(body, id, None),
        [cmd, body, id, timestamp] if cmd == "sign" => sign(body, id, Some(timestamp)),
        _ => Err(USAGE.into()),
    };
    if let Err(e) = result {
        eprintln!("webhooks: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str = "usage: webhooks
       webhooks verify BODY_FILE WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE
       webhooks sign BODY_FILE WEBHOOK_ID [WEBHOOK_TIMESTAMP]
       webhooks listen PORT
(verify, sign and listen read the secret from ANTHROPIC_WEBHOOK_SIGNING_KEY)";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The demonstration secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn demo() -> Result<()> {
    println!("(offline: signing and verifying with a demonstration secret)");
    let secret = SECRET;
    let body = r#"{"id":"wevt_01","created_at":"2026-05-01T12:00:00Z","type":"event","data":{"type":"session.status_idled","id":"sesn_01","organization_id":"org_01","workspace_id":"wrkspc_01"}}"#;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;

    // what the API sends
    let hook = Webhook::new(Secret::new(secret)?);
    let headers = hook.signed_headers("msg_01", now, body);
    for (name, value) in &headers {
        println!("{name}: {value}");
    }

    // what a receiver does with the raw body and the request's headers
    let event = webhooks::unwrap(body, &headers, secret)?;
    handle(&event);

    let tampered = body.replace("sesn_01", "sesn_02");
    match webhooks::unwrap(&tampered, &headers, secret) {
        Err(e @ WebhookError::NoMatchingSignature { .. }) => println!("changed body: {e}"),
        other => return Err(format!("a changed body was not refused: {other:?}").into()),
    }
    let late = hook.now(SystemTime::now() + Duration::from_secs(600));
    match late.verify(body, &headers) {
        Err(e @ WebhookError::TimestampTooOld { .. }) => println!("ten minutes later: {e}"),
        other => return Err(format!("a stale delivery was not refused: {other:?}").into()),
    }
    Ok(())
}

/// The emulator sends a session's webhook events to a receiver on loopback.
fn live() -> Result<()> {
    println!("(offline: the embedded emulator sends webhook events to a receiver on loopback)");
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/webhooks", listener.local_addr()?);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        receive(&listener, SECRET, |event| {
            let _ = tx.send(event);
        })
    });

    let emulator = Emulator::start()?;
    emulator.set_strict(true);
    emulator.set_script(Script::new().say("Done."));
    // the endpoint, as one registered with the API: its URL, its secret, the kinds it wants
    emulator.set_webhook(WebhookEndpoint::new(&url, SECRET)?.event_types([
        "session.created",
        "session.status_run_started",
        "session.status_idled",
    ]));
    let client = Client::builder()
        .api_key("emulator")
        .base_url(emulator.base_url())
        .build()?;
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("webhooks"))?;
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Hooks", "claude-opus-4-5"))?;
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id))?;
    client.run(&session.id).message("Hi").until_idle()?;
    for _ in 0..3 {
        let event = rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "no webhook event came")?;
        handle(&event);
    }
    Ok(())
}

/// Receives deliveries on 127.0.0.1:PORT until stopped, printing each verified event.
fn listen(port: &str) -> Result<()> {
    let secret = std::env::var(webhooks::SIGNING_KEY_ENV)
        .map_err(|_| format!("set {} to the secret", webhooks::SIGNING_KEY_ENV))?;
    webhooks::Secret::new(&secret)?;
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))?;
    println!("receiving webhooks at http://{}/", listener.local_addr()?);
    receive(&listener, &secret, |event| handle(&event));
    Ok(())
}

/// A receiver: verifies each request's raw body with its headers and answers 204, or 400
/// when the delivery is refused.
fn receive(listener: &TcpListener, secret: &str, mut on_event: impl FnMut(WebhookEvent)) {
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let Ok((headers, body)) = read_request(&mut conn) else {
            continue;
        };
        let status = match webhooks::unwrap(&body, &headers, secret) {
            Ok(event) => {
                on_event(event);
                "204 No Content"
            }
            Err(e) => {
                eprintln!("refused a delivery: {e}");
                "400 Bad Request"
            }
        };
        let _ = write!(conn, "HTTP/1.1 {status}\r\nconnection: close\r\n\r\n");
    }
}

/// A request's headers, as (name, value) pairs.
type Headers = Vec<(String, String)>;

/// One HTTP/1.1 request's headers and body (its `content-length`, up to 1 MiB).
fn read_request(conn: &mut TcpStream) -> Result<(Headers, Vec<u8>)> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        match line.trim_end().split_once(':') {
            Some((name, value)) => headers.push((name.to_string(), value.trim().to_string())),
            None => break,
        }
    }
    let length: u64 = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = Vec::new();
    reader.take(length.min(1 << 20)).read_to_end(&mut body)?;
    Ok((headers, body))
}

fn verify(body: &str, id: &str, timestamp: &str, signature: &str) -> Result<()> {
    let body = std::fs::read(body).map_err(|e| format!("reading {body}: {e}"))?;
    let headers = [
        (ID_HEADER, id),
        (TIMESTAMP_HEADER, timestamp),
        (SIGNATURE_HEADER, signature),
    ];
    let event = webhooks::unwrap_with_env(&body, headers)?;
    handle(&event);
    Ok(())
}

fn sign(body: &str, id: &str, timestamp: Option<&String>) -> Result<()> {
    let body = std::fs::read(body).map_err(|e| format!("reading {body}: {e}"))?;
    let timestamp = match timestamp {
        Some(t) => t
            .parse()
            .map_err(|_| format!("{t:?} is not whole seconds"))?,
        None => SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64,
    };
    for (name, value) in Webhook::from_env()?.signed_headers(id, timestamp, &body) {
        println!("{name}: {value}");
    }
    Ok(())
}

/// A receiver's dispatch: the payload is thin, so fetch the object it names for details.
fn handle(event: &WebhookEvent) {
    match &event.data {
        WebhookEventData::SessionStatusIdled(d) => {
            println!(
                "verified {}: session {} is idle; list its events next",
                event.id, d.id
            )
        }
        WebhookEventData::SessionStatusTerminated(d) => {
            println!("verified {}: session {} terminated", event.id, d.id)
        }
        WebhookEventData::SessionStatusRunStarted(d) => {
            println!("verified {}: session {} is running", event.id, d.id)
        }
        other => println!(
            "verified {}: {} {}",
            event.id,
            other.tag().unwrap_or("(no type)"),
            other.id().unwrap_or("(no id)")
        ),
    }
}
