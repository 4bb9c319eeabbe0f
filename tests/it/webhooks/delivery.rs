//! How the emulator's deliveries fail and are tried again: the same `webhook-id` after a 500
//! or a dropped connection, a bounded number of tries, redirects as failures, another
//! secret refused, a receiver that never slows a request, a sender that stops with the
//! emulator.

use super::sent::{client, no_more, receiver, setup, verified, wait_for};
use super::SECRET;
use crate::support::{self, TestServer};
use managed_agents::types::*;
use managed_agents::webhooks::{self, WebhookError};
use managed_agents_emulator::{Emulator, WebhookEndpoint};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[test]
fn a_failed_delivery_is_tried_again_with_the_same_id() {
    // 500, 500, then 200
    let server = receiver(|i| if i < 2 { 500 } else { 200 });
    let (_emu, c) = setup(|e| e, &server.url);
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let tries = wait_for(&server, 3);
    let events = verified(&tries);
    assert!(events.iter().all(|e| e.data.id() == Some(env.id.as_str())));
    let ids: Vec<Option<&str>> = tries.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids, [ids[0]; 3], "every try has the same webhook-id");
    assert!(tries.iter().all(|r| r.body == tries[0].body));
    // delivered: not tried again
    no_more(&server, 3);
}

#[test]
fn a_receiver_that_drops_the_connection_gets_the_event_again() {
    // the first try is read and the connection closed without an answer
    let server = TestServer::start(|i, _, conn| {
        if i > 0 {
            support::respond(conn, 200, &[], b"");
        }
    });
    let (_emu, c) = setup(|e| e, &server.url);
    c.environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let tries = wait_for(&server, 2);
    verified(&tries);
    assert_eq!(tries[0].header("webhook-id"), tries[1].header("webhook-id"));
}

#[test]
fn tries_are_bounded_and_redirects_are_failures() {
    let server = TestServer::start(|_, _, conn| {
        support::respond(conn, 307, &[("location", "/elsewhere")], b"")
    });
    let (_emu, c) = setup(|e| e.max_attempts(3), &server.url);
    c.environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let tries = wait_for(&server, 3);
    assert!(
        tries.iter().all(|r| r.target == "/hooks"),
        "a redirect is not followed"
    );
    // 20 + 40 ms between the tries; nothing after the third
    no_more(&server, 3);
}

#[test]
fn a_delivery_signed_with_another_secret_is_refused() {
    let server = receiver(|_| 204);
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let other = "whsec_c2VjcmV0IG9mIGFub3RoZXIgZW5kcG9pbnQ=";
    emu.set_webhook(WebhookEndpoint::new(&format!("{}/hooks", server.url), other).unwrap());
    let c = client(emu.base_url());
    c.environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let got = &wait_for(&server, 1)[0];
    assert!(matches!(
        webhooks::unwrap(&got.body, &got.headers, SECRET),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    ));
    assert!(webhooks::unwrap(&got.body, &got.headers, other).is_ok());
}
#[test]
fn a_receiver_that_does_not_answer_slows_no_request() {
    // the receiver holds every delivery until the gate opens
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let server = {
        let gate = gate.clone();
        TestServer::start(move |_, _, conn| {
            let (open, cv) = &*gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            support::respond(conn, 204, &[], b"");
        })
    };
    let (_emu, c) = setup(|e| e.timeout(Duration::from_secs(120)), &server.url);
    let envs: Vec<Environment> = (0..10)
        .map(|i| {
            c.environments()
                .create(&EnvironmentCreateParams::cloud(format!("e{i}")))
                .unwrap()
        })
        .collect();
    // every request was answered while the first delivery waits; one at a time, in order
    assert_eq!(wait_for(&server, 1).len(), 1);
    assert_eq!(server.count(), 1);
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    let events = verified(&wait_for(&server, 10));
    let ids: Vec<&str> = events.iter().filter_map(|e| e.data.id()).collect();
    let want: Vec<&str> = envs.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, want);
}

#[test]
fn the_sender_stops_with_the_emulator() {
    // a receiver that always fails: the sender would try for a long time
    let server = receiver(|_| 503);
    let (emu, c) = setup(
        |e| {
            e.max_attempts(1000)
                .retry_backoff(Duration::from_millis(50))
        },
        &server.url,
    );
    c.environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    wait_for(&server, 2);
    drop(emu);
    let after = server.count();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.count() <= after + 1,
        "{} tries after the stop",
        server.count() - after
    );
}
