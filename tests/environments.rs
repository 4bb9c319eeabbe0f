//! Self-hosted environments over real HTTP on loopback: the exact wire of the poller and the
//! lease keeper (mockito), and their behaviour against a scripted server (empty polls, 5xx
//! and 529 with backoff, fatal 4xx, drain, a stop from another thread, heartbeats carrying
//! `expected_last_heartbeat`, a 412 lease lost, `stopping`, transient failures past the TTL).

mod support;

use managed_agents::environments::{
    LeaseEnd, LeaseKeeper, LeaseOptions, PollerOptions, WorkItem, NO_HEARTBEAT,
};
use managed_agents::{Client, RequestOptions};
use mockito::{Matcher, Server};
use serde_json::{json, Value};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{respond, respond_json, Recorded, TestServer};

const API_KEY: &str = "sk-ant-test-key-0123456789";
const ENV_KEY: &str = "envkey-test-0123456789";
const MA: &str = "managed-agents-2026-04-01";

fn item(id: &str) -> Value {
    json!({
        "type": "work", "id": id, "environment_id": "env_1", "state": "queued",
        "created_at": "2026-04-01T00:00:00Z", "metadata": {},
        "data": {"type": "session", "id": format!("sesn_{id}")}
    })
}

fn beat(last: &str, state: &str, extended: bool, ttl: i64) -> String {
    json!({"type": "work_heartbeat", "last_heartbeat": last, "lease_extended": extended,
           "state": state, "ttl_seconds": ttl})
    .to_string()
}

/// A client that holds an API key; the environment helpers must never send it.
fn api_client(url: &str) -> Client {
    Client::builder()
        .api_key(API_KEY)
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

fn env_client(url: &str) -> Client {
    Client::builder()
        .environment_key(ENV_KEY)
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

/// Options for tests: short sleeps and backoff, so no test waits seconds.
fn fast() -> PollerOptions {
    PollerOptions::new()
        .environment_key(ENV_KEY)
        .worker_id("worker-7")
        .empty_poll_sleep(Duration::from_millis(5), Duration::from_millis(15))
        .backoff(Duration::from_millis(20), Duration::from_millis(80))
}

fn path(r: &Recorded) -> &str {
    r.target.split('?').next().unwrap_or("")
}

fn query(r: &Recorded, key: &str) -> Option<String> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.replace("%3A", ":").replace("%2D", "-"))
}

fn requests(server: &TestServer) -> Vec<Recorded> {
    server.requests.lock().unwrap().clone()
}

fn no_content(conn: &mut TcpStream) {
    respond(conn, 204, &[], b"");
}

fn error(conn: &mut TcpStream, status: u16, body: Value) {
    respond(
        conn,
        status,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
}

/// Waits (generously) until `f` holds.
fn eventually(what: &str, f: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---- the wire -------------------------------------------------------------------------------

#[test]
fn poll_ack_and_stop_carry_the_environment_key_and_worker_id_and_no_api_key() {
    let mut server = Server::new();
    let poll = server
        .mock("GET", "/v1/environments/env_1/work/poll")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("beta".into(), "true".into()),
            Matcher::UrlEncoded("block_ms".into(), "999".into()),
            Matcher::UrlEncoded("reclaim_older_than_ms".into(), "30000".into()),
        ]))
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("anthropic-worker-id", "worker-7")
        .match_header("anthropic-beta", MA)
        .match_header("anthropic-version", "2023-06-01")
        .with_header("content-type", "application/json")
        .with_body(item("work_1").to_string())
        .expect(1)
        .create();
    let ack = server
        .mock("POST", "/v1/environments/env_1/work/work_1/ack")
        .match_query(Matcher::Exact("beta=true".into()))
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("anthropic-beta", MA)
        .with_header("content-type", "application/json")
        .with_body(item("work_1").to_string())
        .expect(1)
        .create();
    let stop = server
        .mock("POST", "/v1/environments/env_1/work/work_1/stop")
        .match_query(Matcher::Exact("beta=true".into()))
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(json!({})))
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
fn heartbeat_and_force_stop_on_the_wire() {
    let mut server = Server::new();
    let hb = server
        .mock("POST", "/v1/environments/env_1/work/work_1/heartbeat")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("beta".into(), "true".into()),
            Matcher::UrlEncoded("expected_last_heartbeat".into(), NO_HEARTBEAT.into()),
            Matcher::UrlEncoded("desired_ttl_seconds".into(), "60".into()),
        ]))
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("anthropic-beta", MA)
        .with_header("content-type", "application/json")
        .with_body(beat("2026-04-01T00:00:01Z", "stopping", true, 60))
        .expect(1)
        .create();
    let stop = server
        .mock("POST", "/v1/environments/env_1/work/work_1/stop")
        .match_query(Matcher::Exact("beta=true".into()))
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_body(Matcher::Json(json!({"force": true})))
        .with_status(204)
        .expect(1)
        .create();
    let client = api_client(&server.url())
        .with_environment_key(ENV_KEY)
        .unwrap();
    let lease = LeaseKeeper::start(
        &client,
        "env_1",
        "work_1",
        LeaseOptions::new().desired_ttl_seconds(60),
    )
    .unwrap();
    assert!(lease.stop_signal().wait(Duration::from_secs(30)));
    assert_eq!(lease.ttl(), Some(Duration::from_secs(60)));
    hb.assert();
    let end = lease.stop(true).unwrap();
    assert_eq!(
        end,
        LeaseEnd::StopRequested {
            state: "stopping".into(),
            lease_extended: true
        }
    );
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
fn a_refused_ack_force_stops_the_item_and_polling_goes_on() {
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
    let stop = all.iter().find(|r| path(r).ends_with("/stop")).unwrap();
    assert_eq!(path(stop), "/v1/environments/env_1/work/work_1/stop");
    let body: Value = serde_json::from_slice(&stop.body).unwrap();
    assert_eq!(body, json!({"force": true}));
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

// ---- the lease keeper -----------------------------------------------------------------------

fn lease_options() -> LeaseOptions {
    LeaseOptions::new()
        .initial(Duration::from_secs(30), Duration::from_millis(20))
        .interval_bounds(Duration::from_millis(10), Duration::from_millis(40))
        .request_options(RequestOptions::new().max_retries(0))
}

#[test]
fn heartbeats_carry_the_last_heartbeat_the_server_returned() {
    let server = TestServer::start(|i, r, conn| {
        if path(r).ends_with("/heartbeat") {
            respond_json(
                conn,
                &beat(&format!("2026-04-01T00:00:{i:02}Z"), "active", true, 1),
            )
        } else {
            no_content(conn)
        }
    });
    let lease =
        LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options()).unwrap();
    eventually("four heartbeats", || lease.heartbeats() >= 4);
    assert!(!lease.should_stop());
    assert_eq!(lease.ttl(), Some(Duration::from_secs(1)));
    assert_eq!(lease.stop(true).unwrap(), LeaseEnd::Released);
    let all = requests(&server);
    let beats: Vec<&Recorded> = all
        .iter()
        .filter(|r| path(r).ends_with("/heartbeat"))
        .collect();
    assert!(beats.len() >= 4);
    assert_eq!(
        query(beats[0], "expected_last_heartbeat").as_deref(),
        Some(NO_HEARTBEAT)
    );
    for (n, r) in beats.iter().enumerate().skip(1) {
        // the server numbered its answers by request index; heartbeats are the only requests so far
        assert_eq!(
            query(r, "expected_last_heartbeat"),
            Some(format!("2026-04-01T00:00:{:02}Z", n - 1)),
            "heartbeat {n}"
        );
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {ENV_KEY}").as_str())
        );
        assert_eq!(r.header("x-api-key"), None);
    }
    let last = all.last().unwrap();
    assert_eq!(path(last), "/v1/environments/env_1/work/work_1/stop");
    assert_eq!(
        serde_json::from_slice::<Value>(&last.body).unwrap(),
        json!({"force": true})
    );
}

#[test]
fn a_412_loses_the_lease_and_the_item_is_not_stopped() {
    let server = TestServer::start(|i, _, conn| match i {
        0 => respond_json(conn, &beat("hb-0", "active", true, 1)),
        _ => error(
            conn,
            412,
            json!({"type": "error", "error": {"type": "precondition_failed", "message": "stale",
                   "details": {"current_state": {"state": "active", "last_heartbeat": "hb-other", "ttl_seconds": 30}}}}),
        ),
    });
    let lease =
        LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options()).unwrap();
    assert!(lease.stop_signal().wait(Duration::from_secs(30)));
    assert!(lease.is_lost() && lease.should_stop());
    let end = lease.stop(true).unwrap();
    match &end {
        LeaseEnd::Lost { current_state } => {
            assert_eq!(
                current_state.as_ref().unwrap()["last_heartbeat"],
                "hb-other"
            )
        }
        other => panic!("{other:?}"),
    }
    let all = requests(&server);
    assert_eq!(all.len(), 2);
    assert_eq!(
        query(&all[1], "expected_last_heartbeat").as_deref(),
        Some("hb-0")
    );
    assert!(
        all.iter().all(|r| !path(r).ends_with("/stop")),
        "a lost item is not stopped"
    );
}

#[test]
fn stopping_stopped_or_an_unextended_lease_ends_the_run() {
    for (state, extended) in [("stopping", true), ("stopped", true), ("active", false)] {
        let server = TestServer::start(move |i, r, conn| {
            if !path(r).ends_with("/heartbeat") {
                no_content(conn)
            } else if i == 0 {
                respond_json(conn, &beat("hb-0", "active", true, 1))
            } else {
                respond_json(conn, &beat("hb-1", state, extended, 1))
            }
        });
        let lease =
            LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options())
                .unwrap();
        assert!(lease.stop_signal().wait(Duration::from_secs(30)), "{state}");
        assert!(lease.should_stop() && !lease.is_lost());
        assert_eq!(
            lease.stop(true).unwrap(),
            LeaseEnd::StopRequested {
                state: state.into(),
                lease_extended: extended
            }
        );
        let all = requests(&server);
        assert_eq!(
            all.iter()
                .filter(|r| path(r).ends_with("/heartbeat"))
                .count(),
            2
        );
        assert!(
            path(all.last().unwrap()).ends_with("/stop"),
            "{state}: the item is stopped"
        );
    }
}

#[test]
fn transient_failures_longer_than_the_ttl_lose_the_lease() {
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = failures.clone();
    let server = TestServer::start(move |i, _, conn| match i {
        0 => respond_json(conn, &beat("hb-0", "active", true, 1)),
        _ => {
            seen.fetch_add(1, Ordering::SeqCst);
            error(
                conn,
                503,
                json!({"type": "error", "error": {"type": "api_error", "message": "down"}}),
            )
        }
    });
    let started = Instant::now();
    let lease =
        LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options()).unwrap();
    assert!(lease.stop_signal().wait(Duration::from_secs(60)));
    assert_eq!(lease.end(), Some(LeaseEnd::AssumedLost));
    assert!(lease.is_lost());
    // the lease was kept through failures for a whole TTL (1 s) before it was given up
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(failures.load(Ordering::SeqCst) >= 2);
    lease.stop(true).unwrap();
    assert!(requests(&server)
        .iter()
        .all(|r| !path(r).ends_with("/stop")));
}

#[test]
fn a_refused_heartbeat_ends_the_run_and_the_item_is_still_stopped() {
    let server = TestServer::start(|_, r, conn| {
        if path(r).ends_with("/heartbeat") {
            error(
                conn,
                403,
                json!({"type": "error", "error": {"type": "permission_error", "message": "no"}}),
            )
        } else {
            no_content(conn)
        }
    });
    let lease =
        LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options()).unwrap();
    assert!(lease.stop_signal().wait(Duration::from_secs(30)));
    assert!(!lease.is_lost());
    assert!(matches!(
        lease.stop(true).unwrap(),
        LeaseEnd::Rejected { .. }
    ));
    assert_eq!(server.count(), 2, "one heartbeat, then the stop");
}

#[test]
fn release_ends_the_heartbeats_without_stopping_the_item() {
    let server = TestServer::start(|_, _, conn| respond_json(conn, &beat("hb", "active", true, 1)));
    let lease =
        LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options()).unwrap();
    eventually("a heartbeat", || lease.heartbeats() >= 1);
    assert_eq!(lease.release(), LeaseEnd::Released);
    let after = server.count();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.count(), after, "no heartbeat after release");
    assert!(requests(&server)
        .iter()
        .all(|r| !path(r).ends_with("/stop")));
}
