//! Webhook verification: known answers, round trips, every refusal, tolerance edges, the
//! header shapes a receiver has at hand, and a delivery received over real HTTP.

mod support;

use managed_agents::webhooks::{
    self, Secret, Webhook, WebhookError, WebhookEventData, SIGNING_KEY_ENV,
};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::TestServer;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_777_636_800;

fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs as u64)
}

/// A verifier whose clock reads `NOW`.
fn hook() -> Webhook {
    Webhook::new(Secret::new(SECRET).unwrap()).now(at(NOW))
}

fn body(kind: &str) -> String {
    format!(
        r#"{{"id":"wevt_1","created_at":"2026-05-01T12:00:00Z","type":"event","data":{{"type":"{kind}","id":"sesn_1","organization_id":"org_1","workspace_id":"wrkspc_1"}}}}"#
    )
}

fn headers(id: &str, timestamp: &str, signature: &str) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.into()),
        ("webhook-signature".into(), signature.into()),
    ]
}

fn signed(body: &str) -> Vec<(String, String)> {
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
fn a_kind_this_version_does_not_know_is_kept_whole() {
    // `external_storage.failed` is an event kind of a newer SDK than the pinned one
    let body = r#"{"id":"wevt_2","created_at":"2026-05-01T12:00:00Z","type":"event","data":{"type":"external_storage.failed","id":"xst_1","organization_id":"org_1","reason":"bucket gone"}}"#;
    let event = hook().unwrap(body, signed(body)).unwrap();
    let WebhookEventData::Unknown(v) = &event.data else {
        panic!("expected Unknown, got {:?}", event.data);
    };
    assert_eq!(v["reason"], "bucket gone");
    assert_eq!(event.data.tag(), Some("external_storage.failed"));
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

// ---- refusals -----------------------------------------------------------------------------

#[test]
fn each_missing_or_empty_header_is_named() {
    let body = body("session.created");
    let full = signed(&body);
    for (i, name) in ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .enumerate()
    {
        let mut without = full.clone();
        without.remove(i);
        assert_eq!(
            hook().verify(&body, &without),
            Err(WebhookError::MissingHeader { name })
        );
        let mut empty = full.clone();
        empty[i].1 = "  ".into();
        assert_eq!(
            hook().verify(&body, &empty),
            Err(WebhookError::MissingHeader { name })
        );
    }
    let none: [(&str, &str); 0] = [];
    assert!(matches!(
        hook().verify(&body, none),
        Err(WebhookError::MissingHeader { name: "webhook-id" })
    ));
}

#[test]
fn a_header_that_is_not_utf8_or_given_twice_differently_is_refused() {
    let body = body("session.created");
    let mut h: Vec<(Vec<u8>, Vec<u8>)> = signed(&body)
        .into_iter()
        .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
        .collect();
    h[0].1 = b"msg_\xff".to_vec();
    let e = hook().verify(&body, &h).unwrap_err();
    assert!(
        matches!(
            e,
            WebhookError::InvalidHeader {
                name: "webhook-id",
                ..
            }
        ),
        "{e:?}"
    );

    let mut twice = signed(&body);
    twice.push(("Webhook-Id".into(), "msg_other".into()));
    let e = hook().verify(&body, &twice).unwrap_err();
    assert!(
        matches!(
            e,
            WebhookError::InvalidHeader {
                name: "webhook-id",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("twice"), "{e}");
    // the same value twice is one header
    let mut same = signed(&body);
    same.push(("WEBHOOK-TIMESTAMP".into(), NOW.to_string()));
    hook().verify(&body, &same).unwrap();
}

#[test]
fn a_timestamp_that_is_not_a_number_is_refused() {
    let body = body("session.created");
    for bad in ["abc", "17776368OO", "inf", "NaN", "-inf", "1e300", "0x10"] {
        let h = headers("msg_1", bad, &hook().sign("msg_1", NOW, &body));
        assert_eq!(
            hook().verify(&body, &h),
            Err(WebhookError::InvalidTimestamp { value: bad.into() }),
            "{bad}"
        );
    }
}

#[test]
fn tolerance_is_five_minutes_either_way_inclusive() {
    let body = body("session.created");
    let check = |ts: i64| {
        let h = headers("msg_1", &ts.to_string(), &hook().sign("msg_1", ts, &body));
        hook().verify(&body, &h)
    };
    assert_eq!(check(NOW - 300), Ok(()));
    assert_eq!(check(NOW + 300), Ok(()));
    assert_eq!(check(NOW), Ok(()));
    assert_eq!(
        check(NOW - 301),
        Err(WebhookError::TimestampTooOld {
            timestamp: NOW - 301,
            now: NOW
        })
    );
    assert_eq!(
        check(NOW + 301),
        Err(WebhookError::TimestampTooNew {
            timestamp: NOW + 301,
            now: NOW
        })
    );
    // a wider window, set by the caller
    let wide = hook().tolerance(Duration::from_secs(3600));
    let h = headers(
        "msg_1",
        &(NOW - 3000).to_string(),
        &wide.sign("msg_1", NOW - 3000, &body),
    );
    assert_eq!(wide.verify(&body, &h), Ok(()));
    // the system clock is the default: a delivery signed long ago is too old today
    let old = Webhook::new(Secret::new(SECRET).unwrap());
    let h = headers("msg_1", "1614265330", &old.sign("msg_1", 1614265330, &body));
    assert!(matches!(
        old.verify(&body, &h),
        Err(WebhookError::TimestampTooOld { .. })
    ));
}

#[test]
fn a_fractional_timestamp_is_judged_as_given_and_signed_in_whole_seconds() {
    // as the official verifier: the header is read as a decimal number and judged as given;
    // the signed content carries its whole seconds
    let body = body("session.created");
    let check = |header: String, signed_at: i64| {
        let sig = hook().sign("msg_1", signed_at, &body);
        hook().verify(&body, headers("msg_1", &header, &sig))
    };
    assert_eq!(check(format!("{}.9", NOW + 299), NOW + 299), Ok(()));
    assert_eq!(check(format!("{}.0", NOW - 300), NOW - 300), Ok(()));
    assert!(matches!(
        check(format!("{}.4", NOW + 300), NOW + 300),
        Err(WebhookError::TimestampTooNew { .. })
    ));
    assert!(matches!(
        check(format!("{}.5", NOW - 301), NOW - 301),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    // signed over the header text instead of its whole seconds: no match
    assert_eq!(
        check(format!("{}.9", NOW), NOW + 1),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
}

#[test]
fn a_changed_body_id_or_timestamp_or_another_secret_matches_no_signature() {
    let body = body("session.created");
    let h = signed(&body);
    let changed = body.replace("sesn_1", "sesn_2");
    assert_eq!(
        hook().verify(&changed, &h),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    let mut other_id = h.clone();
    other_id[0].1 = "msg_2".into();
    assert_eq!(
        hook().verify(&body, &other_id),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    let mut other_ts = h.clone();
    other_ts[1].1 = (NOW - 1).to_string();
    assert_eq!(
        hook().verify(&body, &other_ts),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    let stranger = Webhook::new(Secret::new("whsec_c2VjcmV0IG9mIGFub3RoZXIgZW5kcG9pbnQ=").unwrap())
        .now(at(NOW));
    assert_eq!(
        stranger.verify(&body, &h),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    // a truncated signature does not pass as a prefix
    let mut short = h.clone();
    short[2].1 = short[2].1[..20].to_string();
    assert_eq!(
        hook().verify(&body, &short),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
}

#[test]
fn any_one_v1_signature_of_several_suffices_and_other_versions_are_ignored() {
    let body = body("session.created");
    let good = hook().sign("msg_1", NOW, &body);
    let stale = Webhook::new(Secret::from_bytes(b"rotated-out".to_vec()).unwrap())
        .sign("msg_1", NOW, &body);
    let bare = &good[3..];
    for (sigs, ok) in [
        (format!("{stale} {good}"), true),
        (format!("{good} {stale}"), true),
        (format!("v1,!!notbase64 v1a,{bare} {good}"), true),
        (format!("  {stale}   {good}  "), true),
        (format!("garbage v1 ,{bare} {good}"), true),
        (format!("v2,{bare} v1a,{bare}"), false),
        (format!("{stale} v1,{}", &bare[..bare.len() - 4]), false),
    ] {
        let r = hook().verify(&body, headers("msg_1", &NOW.to_string(), &sigs));
        assert_eq!(r.is_ok(), ok, "{sigs}: {r:?}");
    }
    // only other versions: nothing was checked, and the message says so
    let e = hook()
        .verify(
            &body,
            headers("msg_1", &NOW.to_string(), &format!("v2,{bare}")),
        )
        .unwrap_err();
    assert_eq!(e, WebhookError::NoMatchingSignature { checked: 0 });
    assert!(e.to_string().contains("no `v1,` signature"), "{e}");
    // the header given twice: the signatures of both count
    let mut h = headers("msg_1", &NOW.to_string(), &stale);
    h.push(("webhook-signature".into(), good.clone()));
    assert_eq!(hook().verify(&body, &h), Ok(()));
}

#[test]
fn a_bad_secret_is_refused_without_showing_it() {
    for bad in ["whsec_", "", "whsec_not base64!", "whsec_abc$def"] {
        let e = Secret::new(bad).unwrap_err();
        assert!(
            matches!(e, WebhookError::InvalidSecret { .. }),
            "{bad:?}: {e:?}"
        );
        let e = webhooks::unwrap("{}", signed("{}"), bad).unwrap_err();
        assert!(
            matches!(e, WebhookError::InvalidSecret { .. }),
            "{bad:?}: {e:?}"
        );
        let shown = format!("{e} {e:?} {}", managed_agents::Error::from(e.clone()));
        assert!(bad.len() < 8 || !shown.contains(&bad[6..]), "{shown}");
    }
    assert!(Secret::from_bytes(Vec::new()).is_err());
    let secret = Secret::new(SECRET).unwrap();
    assert_eq!(
        format!("{secret:?} {:?}", hook()).matches("MfKQ").count(),
        0
    );
}

#[test]
fn a_verified_body_that_is_not_an_event_is_refused_after_the_signature() {
    for body in [
        "not json",
        r#"{"id":"wevt_1","type":"event"}"#,
        r#"{"id":"wevt_1","created_at":"x","type":"other","data":{"type":"x"}}"#,
    ] {
        let e = hook().unwrap(body, signed(body)).unwrap_err();
        let WebhookError::InvalidPayload { excerpt, .. } = &e else {
            panic!("{body}: {e:?}");
        };
        assert!(body.starts_with(excerpt.trim_end_matches('…')), "{excerpt}");
        assert!(matches!(
            managed_agents::Error::from(e),
            managed_agents::Error::Decode { .. }
        ));
        // verify alone does not read the body
        hook().verify(body, signed(body)).unwrap();
    }
    // bytes that are not UTF-8 sign and verify as bytes
    let raw = b"\xff\xfe binary";
    let h = headers("msg_1", &NOW.to_string(), &hook().sign("msg_1", NOW, raw));
    hook().verify(raw, &h).unwrap();
    assert!(matches!(
        hook().unwrap(raw, &h),
        Err(WebhookError::InvalidPayload { .. })
    ));
}

#[test]
fn errors_convert_into_the_crate_error_naming_what_was_wrong() {
    let e: managed_agents::Error = WebhookError::TimestampTooOld {
        timestamp: 1,
        now: 400,
    }
    .into();
    assert_eq!(
        e.to_string(),
        "invalid webhook-timestamp: webhook refused: timestamp 1 is too old (399s before now, 400)"
    );
    let e: managed_agents::Error = WebhookError::NoMatchingSignature { checked: 2 }.into();
    assert!(
        matches!(&e, managed_agents::Error::InvalidInput { param, .. } if param == "webhook-signature")
    );
}

#[test]
fn the_secret_comes_from_the_environment_when_none_is_given() {
    // the only test in this file that touches the variable
    let body = body("deployment_run.succeeded");
    std::env::remove_var(SIGNING_KEY_ENV);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let h = headers(
        "msg_1",
        &now.to_string(),
        &webhooks::sign(SECRET, "msg_1", now, &body).unwrap(),
    );
    assert_eq!(
        webhooks::unwrap_with_env(&body, &h).unwrap_err(),
        WebhookError::MissingSecret
    );
    assert!(WebhookError::MissingSecret
        .to_string()
        .contains(SIGNING_KEY_ENV));
    std::env::set_var(SIGNING_KEY_ENV, "");
    assert_eq!(
        Webhook::from_env().unwrap_err(),
        WebhookError::MissingSecret
    );
    std::env::set_var(SIGNING_KEY_ENV, SECRET);
    let event = webhooks::unwrap_with_env(&body, &h).unwrap();
    assert!(matches!(
        event.data,
        WebhookEventData::DeploymentRunSucceeded(_)
    ));
    std::env::set_var(
        SIGNING_KEY_ENV,
        "whsec_c2VjcmV0IG9mIGFub3RoZXIgZW5kcG9pbnQ=",
    );
    assert!(matches!(
        webhooks::unwrap_with_env(&body, &h),
        Err(WebhookError::NoMatchingSignature { .. })
    ));
    std::env::remove_var(SIGNING_KEY_ENV);
}

// ---- header shapes ------------------------------------------------------------------------

#[test]
fn headers_come_in_every_shape_and_any_case() {
    let body = body("session.created");
    let sig = hook().sign("msg_1", NOW, &body);
    let ts = NOW.to_string();
    // an array of &str pairs, mixed case, among other headers
    let arr = [
        ("Content-Type", "application/json"),
        ("WEBHOOK-ID", "msg_1"),
        ("Webhook-Timestamp", ts.as_str()),
        ("wEbHoOk-SiGnAtUrE", sig.as_str()),
    ];
    hook().verify(&body, arr).unwrap();
    hook().verify(&body, &arr).unwrap();
    hook().verify(&body, &arr[..]).unwrap();
    // a map, owned pairs, byte pairs
    let map: HashMap<String, String> = signed(&body).into_iter().collect();
    hook().verify(&body, &map).unwrap();
    hook().verify(&body, map.clone()).unwrap();
    let bytes: Vec<(&[u8], &[u8])> = arr
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    hook().verify(&body, bytes).unwrap();
    // http::HeaderMap, as web frameworks hand it over
    let mut hm = http::HeaderMap::new();
    hm.insert("webhook-id", http::HeaderValue::from_static("msg_1"));
    hm.insert("webhook-timestamp", ts.parse().unwrap());
    hm.append(
        "webhook-signature",
        http::HeaderValue::from_static("v1,AAAA"),
    );
    hm.append("webhook-signature", sig.parse().unwrap());
    hook().verify(&body, &hm).unwrap();
    let event = hook().unwrap(body.as_bytes(), &hm).unwrap();
    assert!(matches!(event.data, WebhookEventData::SessionCreated(_)));
}

// ---- over HTTP ----------------------------------------------------------------------------

#[test]
fn a_delivery_received_over_http_verifies_from_the_raw_request() {
    // a receiver on loopback records the request as it came off the socket
    let server = TestServer::start(|_, _, conn| support::respond(conn, 204, &[], b""));
    let body = body("session.status_idled");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let hook = Webhook::new(Secret::new(SECRET).unwrap());
    let mut req =
        ureq::post(format!("{}/hooks", server.url)).header("content-type", "application/json");
    for (name, value) in hook.signed_headers("msg_http", now, &body) {
        req = req.header(name, value);
    }
    let resp = req.send(body.as_bytes()).unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let got = server.request(0);
    let event = webhooks::unwrap(&got.body, &got.headers, SECRET).unwrap();
    assert!(matches!(event.data, WebhookEventData::SessionStatusIdled(ref d) if d.id == "sesn_1"));
    let mut changed = got.body.clone();
    changed.push(b' ');
    assert!(matches!(
        webhooks::unwrap(&changed, &got.headers, SECRET),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    ));
}

// ---- the example --------------------------------------------------------------------------

fn example() -> std::process::Command {
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let bin = examples.join(format!("webhooks{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is not built (cargo test builds the examples)",
        bin.display()
    );
    let mut cmd = std::process::Command::new(bin);
    cmd.env_remove("ANTHROPIC_API_KEY");
    cmd
}

#[test]
fn the_example_runs_offline_and_signs_and_verifies_a_file() {
    let out = example().env_remove(SIGNING_KEY_ENV).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for want in [
        "verified wevt_01: session sesn_01 is idle",
        "changed body: webhook refused: no matching signature",
        "ten minutes later: webhook refused: timestamp",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }

    // sign a file, then verify it with the printed headers; a changed file is refused
    let dir = std::env::temp_dir().join(format!("webhooks-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.json");
    std::fs::write(
        &file,
        body("session.thread_idled").replace(
            "\"id\":\"sesn_1\"",
            "\"id\":\"sesn_1\",\"session_thread_id\":\"sthr_1\"",
        ),
    )
    .unwrap();
    let out = example()
        .env(SIGNING_KEY_ENV, SECRET)
        .arg("sign")
        .arg(&file)
        .arg("msg_ex")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let h: HashMap<&str, &str> = printed.lines().filter_map(|l| l.split_once(": ")).collect();
    let verify = |key: &str| {
        example()
            .env(SIGNING_KEY_ENV, key)
            .arg("verify")
            .arg(&file)
            .args([
                h["webhook-id"],
                h["webhook-timestamp"],
                h["webhook-signature"],
            ])
            .output()
            .unwrap()
    };
    let out = verify(SECRET);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("verified wevt_1: session.thread_idled sesn_1"));
    let out = verify("whsec_c2VjcmV0IG9mIGFub3RoZXIgZW5kcG9pbnQ=");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no matching signature"));
    let _ = std::fs::remove_dir_all(&dir);
}
