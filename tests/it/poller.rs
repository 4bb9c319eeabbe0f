//! The work poller over real HTTP on loopback: its exact wire (mockito: the environment key
//! as Bearer and no `x-api-key`, the worker id, `block_ms`, `reclaim_older_than_ms`, the stop
//! body) and its behaviour against a scripted server (empty polls, 529 and 5xx with backoff,
//! fatal 4xx, drain, refused and failed acks, a stop from another thread).

use crate::support::work::*;
use crate::support::{eventually, respond, respond_json, TestServer};
use managed_agents::environments::WorkItem;
use managed_agents::Client;
use mockito::{Matcher, Server};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[test]
fn poll_ack_and_stop_carry_the_environment_key_and_worker_id_and_no_api_key() {
    let mut server = Server::new();
    let poll = server
        .mock("GET", "/v1/environments/env_1/work/poll")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("block_ms".into(), "999".into()),
            Matcher::UrlEncoded("reclaim_older_than_ms".into(), "30000".into()),
        ]))
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("anthropic-worker-id", "worker-7")
        .match_header("x-stainless-helper", "environments-work-poller")
        .match_header("anthropic-beta", MA)
        .match_header("anthropic-version", "2026-10-21")
        .with_header("content-type", "application/json")
        .with_body(item("work_1").to_string())
        .expect(1)
        .create();
    let ack = server
        .mock("POST", "/v1/environments/env_1/work/work_1/ack")
        .match_query(Matcher::Missing)
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("anthropic-beta", MA)
        .with_header("content-type", "application/json")
        .with_body(item("work_1").to_string())
        .expect(1)
        .create();
    let stop = server
        .mock("POST", "/v1/environments/env_1/work/work_1/stop")
        .match_query(Matcher::Missing)
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(json!({"force": true})))
        .with_status(204)
        .expect(1)
        .create();

    let client = api_client(&server.url());
    let mut poller = client
        .environments()
        .work()
        .poller("env_1", fast().reclaim_older_than_ms(30_000))
        .unwrap();
    let got = poller.next().unwrap().unwrap();
    assert_eq!(got.id, "work_1");
    assert_eq!(got.session_id(), Some("sesn_work_1"));
    // acknowledged before it was handed out; not stopped until the caller is done with it
    poll.assert();
    ack.assert();
    assert!(!stop.matched());
    drop(poller);
    stop.assert();
}

#[test]
fn the_environment_key_is_never_shown_and_replaces_other_credentials() {
    let client = Client::builder()
        .environment_key(ENV_KEY)
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains(ENV_KEY));
    let derived = api_client("http://127.0.0.1:1")
        .with_environment_key(ENV_KEY)
        .unwrap();
    let shown = format!("{derived:?}");
    assert!(
        !shown.contains(ENV_KEY) && !shown.contains(API_KEY),
        "{shown}"
    );
    assert!(api_client("http://127.0.0.1:1")
        .with_environment_key(" ")
        .is_err());
    assert!(Client::builder().environment_key("").build().is_err());
}

#[test]
fn a_custom_authorization_header_does_not_ride_along_with_the_environment_key() {
    let server = TestServer::start(|_, _, conn| respond_json(conn, "null"));
    let client = Client::builder()
        .api_key(API_KEY)
        .header("Authorization", "Bearer something-else")
        .header("x-api-key", "another")
        .header("x-trace", "t-1")
        .base_url(&server.url)
        .build()
        .unwrap();
    let mut poller = client
        .environments()
        .work()
        .poller("env_1", fast().drain(true))
        .unwrap();
    assert!(poller.next().is_none());
    let r = server.request(0);
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {ENV_KEY}").as_str())
    );
    assert_eq!(r.header("x-api-key"), None);
    assert_eq!(r.header("x-trace"), Some("t-1"));
    let auth = r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .count();
    assert_eq!(auth, 1);
}

// ---- the poller -----------------------------------------------------------------------------

#[test]
fn empty_polls_then_an_item_acknowledged_before_it_is_handed_out() {
    let server = TestServer::start(|i, r, conn| match (i, path(r)) {
        (0, _) => no_content(conn),
        (1, _) => respond_json(conn, "null"),
        (2, _) => respond_json(conn, &item("work_1").to_string()),
        (_, p) if p.ends_with("/ack") => respond_json(conn, &item("work_1").to_string()),
        _ => respond(conn, 500, &[], b"unexpected"),
    });
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().auto_stop(false))
        .unwrap();
    let got = poller.next().unwrap().unwrap();
    assert_eq!(got.id, "work_1");
    let seen: Vec<(String, String)> = requests(&server)
        .iter()
        .map(|r| (r.method.clone(), path(r).to_string()))
        .collect();
    let poll = (
        "GET".to_string(),
        "/v1/environments/env_1/work/poll".to_string(),
    );
    assert_eq!(
        seen,
        vec![
            poll.clone(),
            poll.clone(),
            poll,
            (
                "POST".to_string(),
                "/v1/environments/env_1/work/work_1/ack".to_string()
            )
        ]
    );
    for r in requests(&server) {
        assert_eq!(r.header("anthropic-worker-id").is_some(), r.method == "GET");
    }
}

#[test]
fn overloaded_and_failing_polls_back_off_then_recover() {
    let server = TestServer::start(|i, r, conn| match i {
        0 => error(
            conn,
            529,
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
        1 => error(
            conn,
            503,
            json!({"type": "error", "error": {"type": "api_error", "message": "down"}}),
        ),
        2 => {} // closes without an answer
        3 => respond(
            conn,
            200,
            &[("content-type", "application/json")],
            b"{not json",
        ),
        4 => respond_json(conn, &item("work_1").to_string()),
        _ if path(r).ends_with("/ack") => no_content(conn),
        _ => respond(conn, 500, &[], b"unexpected"),
    });
    let started = Instant::now();
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().auto_stop(false))
        .unwrap();
    let got = poller.next().unwrap().unwrap();
    assert_eq!(got.id, "work_1");
    assert_eq!(server.count(), 6, "five polls and the ack");
    // four failures in a row waited at least min(cap, base * 2^n) each: 40 + 80 + 80 + 80 ms
    assert!(started.elapsed() >= Duration::from_millis(280));
}

#[test]
fn a_fatal_4xx_is_returned_at_once_and_ends_the_iteration() {
    for status in [401u16, 403, 404] {
        let server = TestServer::start(move |_, _, conn| {
            error(
                conn,
                status,
                json!({"type": "error", "error": {"type": "x", "message": "no"}}),
            )
        });
        let mut poller = api_client(&server.url)
            .environments()
            .work()
            .poller("env_1", fast())
            .unwrap();
        let err = poller.next().unwrap().unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert!(poller.next().is_none());
        assert_eq!(server.count(), 1, "status {status} was not retried");
    }
}

#[test]
fn drain_returns_when_the_queue_is_empty() {
    let server = TestServer::start(|i, r, conn| match (i, path(r)) {
        (0, _) => respond_json(conn, &item("work_1").to_string()),
        (_, p) if p.ends_with("/ack") => respond_json(conn, &item("work_1").to_string()),
        (_, p) if p.ends_with("/poll") => no_content(conn),
        _ => respond(conn, 500, &[], b"unexpected"),
    });
    let items: Vec<WorkItem> = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().drain(true).auto_stop(false).block_ms(None))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(items.len(), 1);
    let all = requests(&server);
    assert_eq!(all.len(), 3, "poll, ack, the empty poll; no stop");
    assert!(all.iter().all(|r| !path(r).ends_with("/stop")));
    assert_eq!(query(&all[0], "block_ms"), None);
}

#[test]
fn a_refused_ack_neither_hands_the_item_out_nor_stops_it() {
    let server = TestServer::start(|_, r, conn| {
        let p = path(r);
        if p.ends_with("/work_1/ack") {
            error(
                conn,
                404,
                json!({"type": "error", "error": {"type": "not_found_error", "message": "gone"}}),
            )
        } else if p.ends_with("/ack") || p.ends_with("/stop") {
            no_content(conn)
        } else {
            let n = POLLS.fetch_add(1, Ordering::SeqCst);
            respond_json(
                conn,
                &item(if n == 0 { "work_1" } else { "work_2" }).to_string(),
            )
        }
    });
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().auto_stop(false))
        .unwrap();
    assert_eq!(poller.next().unwrap().unwrap().id, "work_2");
    let all = requests(&server);
    assert!(
        all.iter().all(|r| !path(r).ends_with("/stop")),
        "an item whose ack failed is not ours to stop"
    );
}

#[test]
fn a_failed_ack_backs_off_and_leaves_the_item_to_be_reclaimed() {
    let server = TestServer::start(|_, r, conn| {
        let p = path(r);
        if p.ends_with("/work_1/ack") {
            error(
                conn,
                503,
                json!({"type": "error", "error": {"type": "api_error", "message": "down"}}),
            )
        } else if p.ends_with("/ack") || p.ends_with("/stop") {
            no_content(conn)
        } else {
            let n = ACK_POLLS.fetch_add(1, Ordering::SeqCst);
            respond_json(
                conn,
                &item(if n == 0 { "work_1" } else { "work_2" }).to_string(),
            )
        }
    });
    static ACK_POLLS: AtomicUsize = AtomicUsize::new(0);
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().auto_stop(false))
        .unwrap();
    assert_eq!(poller.next().unwrap().unwrap().id, "work_2");
    let all = requests(&server);
    assert!(
        all.iter().all(|r| !path(r).ends_with("/stop")),
        "a transient ack failure stops nothing"
    );
    assert_eq!(all.len(), 4, "poll, failed ack, poll, ack");
}

#[test]
fn a_stop_from_another_thread_ends_the_iteration() {
    let server = TestServer::start(|_, _, conn| {
        std::thread::sleep(Duration::from_millis(100)); // a long poll that finds nothing
        no_content(conn)
    });
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller(
            "env_1",
            fast().empty_poll_sleep(Duration::from_secs(600), Duration::from_secs(600)),
        )
        .unwrap();
    let signal = poller.stop_signal();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let next = poller.next();
        let _ = tx.send(next.is_none());
    });
    eventually("the first poll", || server.count() >= 1);
    signal.set();
    // the 600 s sleep after the empty poll is cut short
    assert!(rx.recv_timeout(Duration::from_secs(60)).unwrap());
}

#[test]
fn bad_arguments_are_refused_before_any_request() {
    let client = api_client("http://127.0.0.1:1");
    let work = client.environments().work();
    assert!(work.poller("", fast()).is_err());
    assert!(work.poller("env_1", fast().block_ms(Some(0))).is_err());
    assert!(work.poller("env_1", fast().block_ms(Some(1000))).is_err());
    assert!(work.poller("env_1", fast().block_ms(Some(999))).is_ok());
}

/// `{"sessions_token": "tok-item-1"}` in base64url, as a poll's `secret`.
const SECRET: &str = "eyJzZXNzaW9uc190b2tlbiI6InRvay1pdGVtLTEifQ";

fn stops(server: &TestServer) -> Vec<(Option<String>, Value)> {
    requests(server)
        .iter()
        .filter(|r| path(r).ends_with("/stop"))
        .map(|r| {
            (
                r.header("authorization").map(String::from),
                serde_json::from_slice(&r.body).unwrap(),
            )
        })
        .collect()
}

/// A queue of one item with a secret, then empty polls; stops answered by `stop`.
fn one_item(
    stop: impl Fn(usize, &crate::support::Recorded, &mut std::net::TcpStream) + Send + Sync + 'static,
) -> TestServer {
    let stop_count = AtomicUsize::new(0);
    let polls = AtomicUsize::new(0);
    TestServer::start(move |_, r, conn| {
        let p = path(r);
        if p.ends_with("/stop") {
            stop(stop_count.fetch_add(1, Ordering::SeqCst), r, conn)
        } else if p.ends_with("/ack") {
            respond_json(conn, &item("work_1").to_string())
        } else if polls.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut it = item("work_1");
            it["secret"] = json!(SECRET);
            respond_json(conn, &it.to_string())
        } else {
            no_content(conn)
        }
    })
}

#[test]
fn auto_stop_forces_with_the_items_token_and_falls_back_to_a_plain_stop_on_401() {
    let server = one_item(|_, r, conn| {
        if r.header("authorization") == Some("Bearer tok-item-1") {
            error(
                conn,
                401,
                json!({"type": "error", "error": {"type": "authentication_error", "message": "no"}}),
            )
        } else {
            no_content(conn)
        }
    });
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().drain(true))
        .unwrap();
    assert_eq!(poller.next().unwrap().unwrap().id, "work_1");
    assert!(poller.next().is_none());
    assert_eq!(
        stops(&server),
        vec![
            (Some("Bearer tok-item-1".into()), json!({"force": true})),
            (Some(format!("Bearer {ENV_KEY}")), json!({})),
        ]
    );
}

#[test]
fn auto_stop_never_stops_an_item_whose_lease_was_lost() {
    let server = one_item(|_, _, conn| no_content(conn));
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().drain(true))
        .unwrap();
    let item = poller.next().unwrap().unwrap();
    // the caller lost the lease (a heartbeat answered 412): the item is not ours any more
    item.clone().mark_lease_lost();
    assert!(item.lease_lost());
    assert!(poller.next().is_none());
    drop(poller);
    assert_eq!(stops(&server), vec![]);
}

#[test]
fn a_stop_is_tried_again_after_a_failure_or_a_page_and_409_means_stopped() {
    let server = one_item(|n, _, conn| match n {
        0 => error(
            conn,
            503,
            json!({"type": "error", "error": {"type": "api_error", "message": "down"}}),
        ),
        1 => crate::support::respond(conn, 200, &[("content-type", "text/html")], b"<html>"),
        _ => error(
            conn,
            409,
            json!({"type": "error", "error": {"type": "conflict_error", "message": "stopped"}}),
        ),
    });
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().drain(true))
        .unwrap();
    poller.next().unwrap().unwrap();
    poller.close();
    let all = stops(&server);
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().all(|(_, body)| *body == json!({"force": true})));
}

#[test]
fn an_ack_answered_with_a_page_is_tried_again() {
    let acks = AtomicUsize::new(0);
    let server = TestServer::start(move |_, r, conn| {
        let p = path(r);
        if p.ends_with("/ack") {
            if acks.fetch_add(1, Ordering::SeqCst) == 0 {
                crate::support::respond(conn, 200, &[("content-type", "text/html")], b"<html>")
            } else {
                respond_json(conn, &item("work_1").to_string())
            }
        } else {
            respond_json(conn, &item("work_1").to_string())
        }
    });
    let client = Client::builder()
        .api_key(API_KEY)
        .base_url(&server.url)
        .max_retries(1)
        .build()
        .unwrap();
    let mut poller = client
        .environments()
        .work()
        .poller("env_1", fast().auto_stop(false))
        .unwrap();
    assert_eq!(poller.next().unwrap().unwrap().id, "work_1");
    let all = requests(&server);
    assert_eq!(
        all.iter().filter(|r| path(r).ends_with("/ack")).count(),
        2,
        "the page was not taken for an ack"
    );
    assert_eq!(all.len(), 3, "one poll, two acks");
}

/// An ack gets 30 s, not the client's 10 minutes: an ack the server sits on for 45 s is given
/// up, the item is neither handed out nor stopped, and the next item comes.
#[test]
fn an_ack_that_hangs_is_given_up_after_30_seconds() {
    let polls = AtomicUsize::new(0);
    let server = TestServer::start(move |_, r, conn| {
        let p = path(r);
        if p.ends_with("/work_1/ack") {
            std::thread::sleep(Duration::from_secs(45));
            respond_json(conn, &item("work_1").to_string())
        } else if p.ends_with("/ack") {
            respond_json(conn, &item("work_2").to_string())
        } else if polls.fetch_add(1, Ordering::SeqCst) == 0 {
            respond_json(conn, &item("work_1").to_string())
        } else {
            respond_json(conn, &item("work_2").to_string())
        }
    });
    let mut poller = api_client(&server.url)
        .environments()
        .work()
        .poller("env_1", fast().auto_stop(false))
        .unwrap();
    assert_eq!(poller.next().unwrap().unwrap().id, "work_2");
    assert!(requests(&server)
        .iter()
        .all(|r| !path(r).ends_with("/stop")));
}
