//! Verify a webhook delivery and read its event, offline.
//!
//! `cargo run --example webhooks` plays both sides with a demonstration secret: it signs a
//! `session.status_idled` delivery as the API does, verifies it, shows that a changed body
//! and a stale timestamp are refused, and prints what a receiver would do.
//!
//! With the secret in ANTHROPIC_WEBHOOK_SIGNING_KEY:
//!
//! - `cargo run --example webhooks -- verify BODY_FILE WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE`
//!   verifies a delivery you captured and prints its event;
//! - `cargo run --example webhooks -- sign BODY_FILE WEBHOOK_ID [WEBHOOK_TIMESTAMP]` prints the
//!   headers that sign BODY_FILE (timestamp now by default), to test your own receiver.
//!
//! None of these needs the network or an API key.

use managed_agents::webhooks::{self, Secret, Webhook, WebhookError, WebhookEvent};
use managed_agents::webhooks::{WebhookEventData, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => demo(),
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
(verify and sign read the secret from ANTHROPIC_WEBHOOK_SIGNING_KEY)";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn demo() -> Result<()> {
    println!("(offline: signing and verifying with a demonstration secret)");
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
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
        other => println!(
            "verified {}: {} {}",
            event.id,
            other.tag().unwrap_or("(no type)"),
            other.id().unwrap_or("(no id)")
        ),
    }
}
