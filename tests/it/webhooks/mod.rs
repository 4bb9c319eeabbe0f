//! Webhook verification: known answers, round trips into typed events (here), every refusal
//! and the tolerance edges (`refusals`), and what a receiver has at hand: header shapes, the
//! environment, a delivery over real HTTP, the example (`receivers`); and what the emulator
//! sends to a webhook endpoint (`sent`), how it tries again (`delivery`), and the standalone
//! emulators' flags (`standalone`).

mod delivery;
mod receivers;
mod refusals;
mod sent;
mod standalone;

use managed_agents::webhooks::{self, Secret, Webhook, WebhookEventData};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const NOW: i64 = 1_777_636_800;

pub fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs as u64)
}

/// A verifier whose clock reads `NOW`.
pub fn hook() -> Webhook {
    Webhook::new(Secret::new(SECRET).unwrap()).now(at(NOW))
}

pub fn body(kind: &str) -> String {
    format!(
        r#"{{"id":"wevt_1","created_at":"2026-05-01T12:00:00Z","type":"event","data":{{"type":"{kind}","id":"sesn_1","organization_id":"org_1","workspace_id":"wrkspc_1"}}}}"#
    )
}

pub fn headers(id: &str, timestamp: &str, signature: &str) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.into()),
        ("webhook-signature".into(), signature.into()),
    ]
}

pub fn signed(body: &str) -> Vec<(String, String)> {
    let sig = hook().sign("msg_1", NOW, body);
    headers("msg_1", &NOW.to_string(), &sig)
}

// ---- known answers ------------------------------------------------------------------------

#[test]
fn the_standard_webhooks_example_signs_and_verifies() {
    // the example of the Standard Webhooks specification and its reference libraries
    let (id, ts, body) = (
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        r#"{"test": 2432232314}"#,
    );
    let sig = webhooks::sign(SECRET, id, ts, body).unwrap();
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    let hook = Webhook::new(Secret::new(SECRET).unwrap()).now(at(ts));
    hook.verify(body, headers(id, &ts.to_string(), &sig))
        .unwrap();
}

#[test]
fn a_signature_made_by_python_hmac_verifies() {
    // computed with Python's hmac/hashlib/base64 from the raw key bytes below
    let key = b"managed-agents webhook test key";
    let body = r#"{"id":"wevt_ü","created_at":"2026-05-01T12:00:00Z","type":"event","data":{"type":"session.thread_created","id":"sesn_1","organization_id":"org_1","session_thread_id":"sth_1","workspace_id":"wrkspc_1"}}"#;
    let sig = "v1,e8dywR1ywZlhESrVujy3y4VxUceTdVx8SBtt+SZFQ1s=";
    let secret = Secret::from_bytes(key.to_vec()).unwrap();
    assert_eq!(
        secret.to_whsec(),
        "whsec_bWFuYWdlZC1hZ2VudHMgd2ViaG9vayB0ZXN0IGtleQ=="
    );
    let hook = Webhook::new(secret.clone()).now(at(NOW));
    assert_eq!(hook.sign("msg_2Lx9", NOW, body), sig);
    let event = hook
        .unwrap(body.as_bytes(), headers("msg_2Lx9", &NOW.to_string(), sig))
        .unwrap();
    assert_eq!(event.id, "wevt_ü");
    match &event.data {
        WebhookEventData::SessionThreadCreated(d) => {
            assert_eq!(
                (d.id.as_str(), d.session_thread_id.as_str()),
                ("sesn_1", "sth_1")
            )
        }
        other => panic!("expected session.thread_created, got {other:?}"),
    }
    // the same key in its text form, with and without prefix and padding
    for text in [
        "whsec_bWFuYWdlZC1hZ2VudHMgd2ViaG9vayB0ZXN0IGtleQ==",
        "bWFuYWdlZC1hZ2VudHMgd2ViaG9vayB0ZXN0IGtleQ==",
        "whsec_bWFuYWdlZC1hZ2VudHMgd2ViaG9vayB0ZXN0IGtleQ",
        "  whsec_bWFuYWdlZC1hZ2VudHMgd2ViaG9vayB0ZXN0IGtleQ==\n",
    ] {
        assert_eq!(Secret::new(text).unwrap(), secret, "{text:?}");
    }
}

// ---- round trips and typed events ---------------------------------------------------------

#[test]
fn a_signed_delivery_unwraps_into_its_typed_event() {
    let body = body("session.status_terminated");
    let event = hook().unwrap(&body, signed(&body)).unwrap();
    assert_eq!(
        (event.id.as_str(), event.created_at.as_str()),
        ("wevt_1", "2026-05-01T12:00:00Z")
    );
    match &event.data {
        WebhookEventData::SessionStatusTerminated(d) => {
            assert_eq!(
                (
                    d.id.as_str(),
                    d.organization_id.as_str(),
                    d.workspace_id.as_str()
                ),
                ("sesn_1", "org_1", "wrkspc_1")
            )
        }
        other => panic!("expected session.status_terminated, got {other:?}"),
    }
    assert_eq!(event.data.tag(), Some("session.status_terminated"));
}

#[test]
fn the_free_functions_read_the_whsec_text() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = body("agent.created");
    let sig = webhooks::sign(SECRET, "msg_9", now, &body).unwrap();
    let h = headers("msg_9", &now.to_string(), &sig);
    webhooks::verify(&body, &h, SECRET).unwrap();
    let event = webhooks::unwrap(&body, &h, SECRET).unwrap();
    assert!(matches!(event.data, WebhookEventData::AgentCreated(_)));
}

#[test]
fn the_external_storage_kinds_of_anthropic_2_17_are_known() {
    for kind in ["external_storage.failed", "external_storage.recovered"] {
        let body = format!(
            r#"{{"id":"wevt_3","created_at":"2026-05-01T12:00:00Z","type":"event","data":{{"type":"{kind}","id":"xst_1","organization_id":"org_1"}}}}"#
        );
        let event = hook().unwrap(&body, signed(&body)).unwrap();
        assert!(
            matches!(
                event.data,
                WebhookEventData::ExternalStorageFailed(_)
                    | WebhookEventData::ExternalStorageRecovered(_)
            ),
            "{kind}: {:?}",
            event.data
        );
    }
}

#[test]
fn a_kind_this_version_does_not_know_is_kept_whole() {
    // `external_storage.exploded` is an event kind of no SDK yet
    let body = r#"{"id":"wevt_2","created_at":"2026-05-01T12:00:00Z","type":"event","data":{"type":"external_storage.exploded","id":"xst_1","organization_id":"org_1","reason":"bucket gone"}}"#;
    let event = hook().unwrap(body, signed(body)).unwrap();
    let WebhookEventData::Unknown(v) = &event.data else {
        panic!("expected Unknown, got {:?}", event.data);
    };
    assert_eq!(v["reason"], "bucket gone");
    assert_eq!(event.data.tag(), Some("external_storage.exploded"));
    let back: serde_json::Value = serde_json::to_value(&event).unwrap();
    assert_eq!(
        back,
        serde_json::from_str::<serde_json::Value>(body).unwrap()
    );
}

#[test]
fn parse_unverified_reads_without_headers() {
    let event = webhooks::parse_unverified(body("vault.created")).unwrap();
    assert!(matches!(event.data, WebhookEventData::VaultCreated(_)));
}
