//! What a receiver has at hand: headers in every shape, the secret in the environment, a
//! delivery read off a real HTTP request, and the example run as a user runs it.

use super::{body, headers, hook, signed, NOW, SECRET};
use crate::support::{self, tempdir, TestServer};
use managed_agents::webhooks::{
    self, Secret, Webhook, WebhookError, WebhookEventData, SIGNING_KEY_ENV,
};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

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
    let mut cmd = std::process::Command::new(support::example_exe("webhooks"));
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
    let dir = tempdir();
    let file = dir.path().join("body.json");
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
}
