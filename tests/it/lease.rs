//! The lease keeper over real HTTP on loopback: its exact wire (mockito: the heartbeat's
//! query and the force-stop's body, the environment key as Bearer) and its behaviour against a
//! scripted server (`expected_last_heartbeat` carried from `NO_HEARTBEAT` on, a 412 lost with
//! no stop, `stopping`, a refused heartbeat, transient failures past the TTL, release).

use crate::support::work::*;
use crate::support::{eventually, respond_json, Recorded, TestServer};
use managed_agents::environments::{LeaseEnd, LeaseKeeper, LeaseOptions, NO_HEARTBEAT};
use managed_agents::RequestOptions;
use mockito::{Matcher, Server};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn heartbeat_and_force_stop_on_the_wire() {
    let mut server = Server::new();
    let hb = server
        .mock("POST", "/v1/environments/env_1/work/work_1/heartbeat")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("expected_last_heartbeat".into(), NO_HEARTBEAT.into()),
            Matcher::UrlEncoded("desired_ttl_seconds".into(), "60".into()),
        ]))
        .match_header("authorization", format!("Bearer {ENV_KEY}").as_str())
        .match_header("x-api-key", Matcher::Missing)
        .match_header("anthropic-beta", MA)
        .match_header("x-stainless-helper", "environments-worker")
        .with_header("content-type", "application/json")
        .with_body(beat("2026-04-01T00:00:01Z", "stopping", true, 60))
        .expect(1)
        .create();
    let stop = server
        .mock("POST", "/v1/environments/env_1/work/work_1/stop")
        .match_query(Matcher::Missing)
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

fn lease_options() -> LeaseOptions {
    LeaseOptions::new()
        .assumed_ttl(Duration::from_secs(30))
        .retry_backoff(Duration::from_millis(40))
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
fn a_refused_heartbeat_401_or_403_loses_the_lease_and_the_item_is_not_stopped() {
    for status in [401u16, 403] {
        let server = TestServer::start(move |i, r, conn| {
            if i > 0 && path(r).ends_with("/heartbeat") {
                error(
                    conn,
                    status,
                    json!({"type": "error", "error": {"type": "permission_error", "message": "no"}}),
                )
            } else if path(r).ends_with("/heartbeat") {
                respond_json(conn, &beat("hb-0", "active", true, 1))
            } else {
                no_content(conn)
            }
        });
        let lease =
            LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options())
                .unwrap();
        assert!(lease.wait_claim().is_ok());
        assert!(lease.stop_signal().wait(Duration::from_secs(30)));
        assert!(lease.is_lost(), "{status}");
        assert!(matches!(
            lease.stop(true).unwrap(),
            LeaseEnd::Rejected { .. }
        ));
        assert_eq!(server.count(), 2, "{status}: two heartbeats, no stop");
    }
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

/// TTL 4 s: a heartbeat every 2 s. The second one fails once (503, the client not retrying
/// it); the keeper tries again within a second, so two successful heartbeats are never a
/// whole TTL apart and the lease never lapses (it used to wait a whole interval, 4 s).
#[test]
fn one_failed_heartbeat_is_tried_again_before_the_lease_lapses() {
    let ok_at: Arc<std::sync::Mutex<Vec<Instant>>> = Arc::default();
    let seen = ok_at.clone();
    let server = TestServer::start(move |i, r, conn| {
        if !path(r).ends_with("/heartbeat") {
            no_content(conn)
        } else if i == 1 {
            error(
                conn,
                503,
                json!({"type": "error", "error": {"type": "api_error", "message": "down"}}),
            )
        } else {
            seen.lock().unwrap().push(Instant::now());
            respond_json(conn, &beat(&format!("hb-{i}"), "active", true, 4))
        }
    });
    let lease = LeaseKeeper::start(
        &env_client(&server.url),
        "env_1",
        "work_1",
        LeaseOptions::new(),
    )
    .unwrap();
    eventually("three successful heartbeats", || {
        ok_at.lock().unwrap().len() >= 3 || lease.should_stop()
    });
    assert!(!lease.should_stop(), "{:?}", lease.end());
    let times = ok_at.lock().unwrap().clone();
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap < Duration::from_secs(4),
            "the lease lapsed: {gap:?} between two successful heartbeats"
        );
    }
    assert_eq!(lease.release(), LeaseEnd::Released);
}

/// A heartbeat answered 200 with a body that is not JSON (a proxy's page) is a connection
/// error, tried again; a 200 `lease_extended: false` ends the run without losing the lease.
#[test]
fn a_heartbeat_answered_with_a_page_is_tried_again() {
    let server = TestServer::start(|i, r, conn| {
        if !path(r).ends_with("/heartbeat") {
            no_content(conn)
        } else if i == 0 {
            respond_json(conn, &beat("hb-0", "active", true, 1))
        } else if i == 1 {
            crate::support::respond(
                conn,
                200,
                &[("content-type", "text/html")],
                b"<html>proxy</html>",
            )
        } else {
            respond_json(conn, &beat("hb-2", "active", false, 1))
        }
    });
    let lease =
        LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options()).unwrap();
    assert!(lease.wait_claim().is_ok());
    assert!(lease.stop_signal().wait(Duration::from_secs(30)));
    assert_eq!(
        lease.end(),
        Some(LeaseEnd::StopRequested {
            state: "active".into(),
            lease_extended: false
        })
    );
    let all = requests(&server);
    assert_eq!(
        query(&all[2], "expected_last_heartbeat").as_deref(),
        Some("hb-0"),
        "the try after the page expects the last heartbeat that was answered"
    );
    assert!(!lease.is_lost());
}

/// Release waits for a heartbeat in flight (its answer may say the lease was lost), at most
/// 5 s: a 412 that arrives 1 s after the release still keeps the item from being stopped.
#[test]
fn release_waits_for_the_heartbeat_in_flight_and_its_412_stops_nothing() {
    let server = TestServer::start(|i, r, conn| {
        if !path(r).ends_with("/heartbeat") {
            no_content(conn)
        } else if i == 0 {
            respond_json(conn, &beat("hb-0", "active", true, 5))
        } else {
            std::thread::sleep(Duration::from_secs(1));
            error(
                conn,
                412,
                json!({"type": "error", "error": {"type": "precondition_failed", "message": "stale"}}),
            )
        }
    });
    let lease =
        LeaseKeeper::start(&env_client(&server.url), "env_1", "work_1", lease_options()).unwrap();
    assert!(lease.wait_claim().is_ok());
    eventually("the second heartbeat under way", || server.count() >= 2);
    let end = lease.stop(true).unwrap();
    assert!(matches!(end, LeaseEnd::Lost { .. }), "{end:?}");
    assert!(requests(&server)
        .iter()
        .all(|r| !path(r).ends_with("/stop")));
}
