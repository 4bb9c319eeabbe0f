//! The environment worker against a scripted server on loopback: a session item runs with
//! the sessions token from its secret and is force-stopped; terminated sessions and
//! non-session items are stopped without running; a lost lease leaves the item alone; a
//! panicking handler fails one item, not the worker; N items at once; a fatal poll ends it;
//! extra headers on every call; a failing session read tried again while the lease lasts; a
//! stop refused with 401 taken as a lost lease.

use crate::support::{
    respond, respond_json, respond_list, sse_head, tempdir, Recorded, TestServer,
};
use managed_agents::environments::{
    Disposition, EnvironmentWorker, LeaseEnd, LeaseOptions, PollerOptions, WorkItem,
};
use managed_agents::{Client, Error, RequestOptions};
use serde_json::{json, Value};
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const API_KEY: &str = "sk-ant-test-key-0123456789";
const ENV_KEY: &str = "envkey-test-0123456789";
/// `{"sessions_token":"tok-1"}`, base64url without padding.
const SECRET: &str = "eyJzZXNzaW9uc190b2tlbiI6InRvay0xIn0";

fn item(id: &str, kind: &str) -> String {
    json!({
        "type": "work", "id": id, "environment_id": "env_1", "state": "queued",
        "created_at": "2026-04-01T00:00:00Z", "metadata": {}, "secret": SECRET,
        "data": {"type": kind, "id": format!("sesn_{id}")}
    })
    .to_string()
}

fn session(id: &str, status: &str) -> String {
    let text = std::fs::read_to_string("tests/fixtures/types/Session.json").unwrap();
    let mut v: Value = serde_json::from_str::<Value>(&text).unwrap()["minimal"].clone();
    v["id"] = json!(id);
    v["status"] = json!(status);
    v.to_string()
}

fn path(r: &Recorded) -> &str {
    r.target.split('?').next().unwrap_or("")
}

fn no_content(conn: &mut TcpStream) {
    respond(conn, 204, &[], b"");
}

/// A queue of `items` (id, kind), then empty polls; sessions answer with `status`;
/// heartbeats with `heartbeat(n)` for the n-th heartbeat.
fn queue(
    items: Vec<(&'static str, &'static str)>,
    status: &'static str,
    heartbeat: impl Fn(usize, &mut TcpStream) + Send + Sync + 'static,
) -> TestServer {
    let polls = AtomicUsize::new(0);
    let beats = AtomicUsize::new(0);
    TestServer::start(move |_, r, conn| {
        let p = path(r).to_string();
        if p.ends_with("/work/poll") {
            match items.get(polls.fetch_add(1, Ordering::SeqCst)) {
                Some((id, kind)) => respond_json(conn, &item(id, kind)),
                None => no_content(conn),
            }
        } else if p.ends_with("/heartbeat") {
            heartbeat(beats.fetch_add(1, Ordering::SeqCst), conn)
        } else if let Some(id) = p.strip_prefix("/v1/sessions/") {
            respond_json(conn, &session(id, status))
        } else {
            no_content(conn) // ack, stop
        }
    })
}

fn active(_: usize, conn: &mut TcpStream) {
    respond_json(
        conn,
        &json!({"type": "work_heartbeat", "last_heartbeat": "hb", "lease_extended": true,
                "state": "active", "ttl_seconds": 1})
        .to_string(),
    )
}

fn worker(server: &TestServer) -> EnvironmentWorker {
    let client = Client::builder()
        .api_key(API_KEY)
        .base_url(&server.url)
        .max_retries(0)
        .build()
        .unwrap();
    client
        .environments()
        .work()
        .worker()
        .environment_id("env_1")
        .environment_key(ENV_KEY)
        .poller_options(
            PollerOptions::new()
                .drain(true)
                .backoff(Duration::from_millis(10), Duration::from_millis(40)),
        )
        .lease_options(
            LeaseOptions::new()
                .assumed_ttl(Duration::from_secs(30))
                .interval_bounds(Duration::from_millis(10), Duration::from_millis(40))
                .request_options(RequestOptions::new().max_retries(0)),
        )
}

fn requests(server: &TestServer) -> Vec<Recorded> {
    server.requests.lock().unwrap().clone()
}

fn bearer(r: &Recorded) -> Option<&str> {
    r.header("authorization")?.strip_prefix("Bearer ")
}

#[test]
fn a_session_item_runs_with_its_sessions_token_and_is_force_stopped() {
    let server = queue(vec![("work_1", "session")], "idle", active);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let recorded = server.requests.clone();
    let stats = worker(&server)
        .workdir("/tmp/wd")
        .on_session(move |ctx| {
            record.lock().unwrap().push((
                ctx.session().id.clone(),
                ctx.item().id.clone(),
                ctx.workdir().to_path_buf(),
            ));
            // the lease is kept while the handler runs: wait (bounded) for its first heartbeat
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until
                && !recorded
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|r| path(r) == "/v1/environments/env_1/work/work_1/heartbeat")
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(())
        })
        .run()
        .unwrap();
    assert_eq!((stats.claimed, stats.ran, stats.failed), (1, 1, 0));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("sesn_work_1".into(), "work_1".into(), "/tmp/wd".into())]
    );
    let all = requests(&server);
    assert!(all.iter().all(|r| r.header("x-api-key").is_none()));
    for r in &all {
        let p = path(r);
        let want = if p.ends_with("/poll") || p.ends_with("/ack") {
            ENV_KEY
        } else {
            "tok-1"
        };
        assert_eq!(bearer(r), Some(want), "{} {}", r.method, r.target);
    }
    assert!(all
        .iter()
        .any(|r| path(r) == "/v1/environments/env_1/work/work_1/heartbeat"));
    assert!(all.iter().any(|r| path(r) == "/v1/sessions/sesn_work_1"));
    let stop = all.iter().find(|r| path(r).ends_with("/stop")).unwrap();
    assert_eq!(path(stop), "/v1/environments/env_1/work/work_1/stop");
    assert_eq!(
        serde_json::from_slice::<Value>(&stop.body).unwrap(),
        json!({"force": true})
    );
}

#[test]
fn terminated_sessions_and_other_kinds_of_item_are_claimed_then_stopped_without_running() {
    let server = queue(
        vec![("work_1", "session"), ("work_2", "healthcheck")],
        "terminated",
        active,
    );
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    let stats = worker(&server)
        .on_session(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .run()
        .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!((stats.claimed, stats.skipped), (2, 2));
    let all = requests(&server);
    for id in ["work_1", "work_2"] {
        let stop = format!("/v1/environments/env_1/work/{id}/stop");
        assert!(all.iter().any(|r| path(r) == stop), "{id} stopped");
    }
    // as the official worker, every item is claimed (its first heartbeat) before it is stopped
    for id in ["work_1", "work_2"] {
        let beat = all
            .iter()
            .position(|r| path(r).contains(&format!("{id}/heartbeat")));
        let stop = all
            .iter()
            .position(|r| path(r).contains(&format!("{id}/stop")));
        assert!(beat.unwrap() < stop.unwrap(), "{id}: claimed, then stopped");
    }
}

#[test]
fn a_lost_lease_ends_the_run_and_the_item_is_not_stopped() {
    let server = queue(vec![("work_1", "session")], "idle", |n, conn| {
        if n == 0 {
            active(n, conn)
        } else {
            respond(
                conn,
                412,
                &[("content-type", "application/json")],
                br#"{"type":"error","error":{"type":"precondition_failed","message":"stale"}}"#,
            )
        }
    });
    let signalled = Arc::new(AtomicUsize::new(0));
    let flag = signalled.clone();
    let stats = worker(&server)
        .on_session(move |ctx| {
            if ctx.stop_signal().wait(Duration::from_secs(30)) && ctx.should_stop() {
                flag.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        })
        .run()
        .unwrap();
    assert_eq!(signalled.load(Ordering::SeqCst), 1);
    assert_eq!(stats.lost, 1);
    assert!(requests(&server)
        .iter()
        .all(|r| !path(r).ends_with("/stop")));
}

#[test]
fn a_panicking_handler_fails_its_item_and_the_worker_goes_on() {
    let server = queue(
        vec![("work_1", "session"), ("work_2", "session")],
        "idle",
        active,
    );
    let stats = worker(&server)
        .on_session(|ctx| {
            if ctx.item().id == "work_1" {
                panic!("tool exploded");
            }
            Ok(())
        })
        .run()
        .unwrap();
    assert_eq!((stats.claimed, stats.ran, stats.failed), (2, 1, 1));
    let all = requests(&server);
    for id in ["work_1", "work_2"] {
        let stop = format!("/v1/environments/env_1/work/{id}/stop");
        assert!(all.iter().any(|r| path(r) == stop), "{id} stopped");
    }
}

#[test]
fn items_run_concurrently_up_to_the_limit() {
    let server = queue(
        vec![
            ("w1", "session"),
            ("w2", "session"),
            ("w3", "session"),
            ("w4", "session"),
        ],
        "idle",
        active,
    );
    let active_now = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (a, m) = (active_now.clone(), most.clone());
    let stats = worker(&server)
        .concurrency(2)
        .on_session(move |_| {
            let now = a.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            // wait (generously) for a second item to be under way
            let end = Instant::now() + Duration::from_secs(10);
            while m.load(Ordering::SeqCst) < 2 && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(5));
            }
            a.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
        .run()
        .unwrap();
    assert_eq!((stats.claimed, stats.ran), (4, 4));
    assert_eq!(most.load(Ordering::SeqCst), 2);
}

#[test]
fn a_fatal_poll_failure_ends_the_run_with_it() {
    let server = TestServer::start(|_, _, conn| {
        respond(
            conn,
            401,
            &[("content-type", "application/json")],
            br#"{"type":"error","error":{"type":"authentication_error","message":"bad key"}}"#,
        )
    });
    let err = worker(&server).on_session(|_| Ok(())).run().unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(server.count(), 1);
}

#[test]
fn the_stop_signal_ends_an_idle_run() {
    let server = queue(vec![], "idle", active);
    let w = worker(&server)
        .poller_options(
            PollerOptions::new()
                .empty_poll_sleep(Duration::from_secs(600), Duration::from_secs(600)),
        )
        .on_session(|_| Ok(()));
    let stop = w.stop_signal();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(w.run().map(|s| s.claimed));
    });
    let end = Instant::now() + Duration::from_secs(30);
    while server.count() == 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.set();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap(),
        0
    );
}

#[test]
fn an_item_handed_over_in_the_environment_is_served() {
    let server = queue(vec![], "idle", active);
    std::env::set_var("ANTHROPIC_WORK_ID", "work_9");
    std::env::set_var("ANTHROPIC_ENVIRONMENT_ID", "env_1");
    std::env::set_var("ANTHROPIC_SESSION_ID", "sesn_9");
    std::env::set_var("ANTHROPIC_WORK_SECRET", SECRET);
    let item = WorkItem::from_env();
    // the rest of the suite, and the processes it starts, run without them
    for name in [
        "ANTHROPIC_WORK_ID",
        "ANTHROPIC_ENVIRONMENT_ID",
        "ANTHROPIC_SESSION_ID",
        "ANTHROPIC_WORK_SECRET",
    ] {
        std::env::remove_var(name);
    }
    let item = item.unwrap();
    assert_eq!(item.session_id(), Some("sesn_9"));
    let client = Client::builder()
        .api_key(API_KEY)
        .base_url(&server.url)
        .build()
        .unwrap();
    // no environment key: the secret's sessions token carries the item on its own
    let report = EnvironmentWorker::new(&client)
        .on_session(|ctx| {
            assert_eq!(ctx.session().id, "sesn_9");
            Ok(())
        })
        .handle_item(&item)
        .unwrap();
    assert!(matches!(report.disposition, Disposition::Ran));
    assert_eq!(report.lease_end, Some(LeaseEnd::Released));
    assert!(report.stopped);
    assert!(requests(&server).iter().all(|r| bearer(r) == Some("tok-1")));
}

#[test]
fn a_worker_without_a_key_is_refused() {
    let client = Client::builder()
        .api_key(API_KEY)
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let w = EnvironmentWorker::new(&client)
        .environment_id("env_1")
        .on_session(|_| Ok(()));
    assert!(matches!(w.run(), Err(Error::InvalidInput { .. })));
}

/// A queue of one session item whose session plays a script: `history` at first, then what
/// `react` adds for each event posted; heartbeats answered by `heartbeat`.
fn session_queue(
    history: Vec<Value>,
    react: impl Fn(&Value) -> Vec<Value> + Send + Sync + 'static,
    heartbeat: impl Fn(usize, &mut TcpStream) + Send + Sync + 'static,
) -> (TestServer, Arc<Mutex<Vec<Value>>>) {
    let log = Arc::new(Mutex::new(Vec::<Value>::new()));
    let stamp = |h: &mut Vec<Value>, mut ev: Value| {
        let n = h.len() + 1;
        ev["id"] = json!(format!("sevt_{n:04}"));
        ev["processed_at"] = json!(format!("2026-01-01T00:00:{:02}.{:03}Z", n / 1000, n % 1000));
        h.push(ev);
    };
    {
        let mut h = log.lock().unwrap();
        for ev in history {
            stamp(&mut h, ev);
        }
    }
    let shared = log.clone();
    let polls = AtomicUsize::new(0);
    let beats = AtomicUsize::new(0);
    let server = TestServer::start(move |_, r, conn| {
        let p = path(r).to_string();
        if p.ends_with("/work/poll") {
            if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                respond_json(conn, &item("work_1", "session"))
            } else {
                no_content(conn)
            }
        } else if p.ends_with("/heartbeat") {
            heartbeat(beats.fetch_add(1, Ordering::SeqCst), conn)
        } else if p == "/v1/sessions/sesn_work_1/events/stream" {
            sse_head(conn);
            let mut next = shared.lock().unwrap().len();
            for _ in 0..400 {
                std::thread::sleep(Duration::from_millis(25));
                let fresh: Vec<Value> = shared.lock().unwrap()[next..].to_vec();
                next += fresh.len();
                for ev in fresh {
                    if conn
                        .write_all(format!("data: {ev}\n\n").as_bytes())
                        .is_err()
                    {
                        return;
                    }
                }
                if conn.write_all(b": hb\n\n").is_err() {
                    return;
                }
            }
        } else if p == "/v1/sessions/sesn_work_1/events" && r.method == "POST" {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            let mut h = shared.lock().unwrap();
            for ev in body["events"].as_array().unwrap() {
                stamp(&mut h, ev.clone());
                for next in react(ev) {
                    stamp(&mut h, next);
                }
            }
            respond_json(conn, r#"{"data": []}"#);
        } else if p == "/v1/sessions/sesn_work_1/events" {
            let h = shared.lock().unwrap().clone();
            respond_list(conn, &r.target, &h);
        } else if p == "/v1/sessions/sesn_work_1" {
            respond_json(conn, &session("sesn_work_1", "running"))
        } else {
            no_content(conn) // ack, stop
        }
    });
    (server, log)
}

#[test]
fn the_default_handler_runs_built_in_and_custom_tools_in_the_items_work_directory() {
    let history = vec![
        json!({"type": "agent.tool_use", "name": "write", "input": {"file_path": "out.txt", "content": "from the agent"}}),
        json!({"type": "session.status_idle", "stop_reason": {"type": "requires_action", "event_ids": ["sevt_0001"]}}),
    ];
    let (server, log) = session_queue(
        history,
        |ev| match ev["type"].as_str() {
            // each call listed by the idle that waits for it, as the API does (the ids follow
            // the log: the result posted is 3, the bash call 4; the result 6, the custom call 7)
            Some("user.tool_result") if ev["tool_use_id"] == "sevt_0001" => vec![
                json!({"type": "agent.tool_use", "name": "bash", "input": {"command": "cat out.txt"}}),
                json!({"type": "session.status_idle", "stop_reason": {"type": "requires_action", "event_ids": ["sevt_0004"]}}),
            ],
            Some("user.tool_result") => vec![
                json!({"type": "agent.custom_tool_use", "name": "lookup", "input": {"q": "x"}}),
                json!({"type": "session.status_idle", "stop_reason": {"type": "requires_action", "event_ids": ["sevt_0007"]}}),
            ],
            Some("user.custom_tool_result") => {
                vec![json!({"type": "session.status_idle", "stop_reason": {"type": "end_turn"}})]
            }
            _ => vec![],
        },
        active,
    );
    let dir = tempdir();
    let stats = worker(&server)
        .workdir(dir.path())
        .tool("lookup", |call| {
            Ok::<_, String>(format!("found {}", call["q"]))
        })
        .run()
        .unwrap();
    assert_eq!((stats.claimed, stats.ran, stats.failed), (1, 1, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("work_1").join("out.txt")).unwrap(),
        "from the agent"
    );
    let h = log.lock().unwrap().clone();
    let results: Vec<&Value> = h
        .iter()
        .filter(|e| e["type"] == "user.tool_result")
        .collect();
    assert_eq!(results.len(), 2, "{h:#?}");
    assert!(results[1]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("from the agent"));
    let custom: Vec<&Value> = h
        .iter()
        .filter(|e| e["type"] == "user.custom_tool_result")
        .collect();
    assert_eq!(custom.len(), 1);
    assert_eq!(custom[0]["content"][0]["text"], "found \"x\"");
    let reqs = requests(&server);
    assert!(reqs.iter().any(|r| path(r).ends_with("/work/work_1/stop")));
    // the session's calls carry the item's sessions token
    assert!(reqs
        .iter()
        .filter(|r| path(r).starts_with("/v1/sessions/"))
        .all(|r| bearer(r) == Some("tok-1")));
}

#[test]
fn the_default_handler_ends_when_the_server_says_stopping() {
    // the session never idles: only the lease's stop signal ends its run
    let (server, _log) = session_queue(
        vec![],
        |_| vec![],
        |n, conn| {
            let state = if n < 2 { "active" } else { "stopping" };
            respond_json(
                conn,
                &json!({"type": "work_heartbeat", "last_heartbeat": "hb", "lease_extended": true,
                    "state": state, "ttl_seconds": 1})
                .to_string(),
            )
        },
    );
    let dir = tempdir();
    let stats = worker(&server).workdir(dir.path()).run().unwrap();
    assert_eq!((stats.claimed, stats.ran, stats.failed), (1, 1, 0));
    assert!(dir.path().join("work_1").is_dir());
    assert!(requests(&server)
        .iter()
        .any(|r| path(r).ends_with("/work/work_1/stop")));
}

#[test]
fn extra_headers_ride_on_every_call_of_the_worker() {
    let (server, _log) = session_queue(
        vec![],
        |_| vec![],
        |n, conn| {
            let state = if n < 2 { "active" } else { "stopping" };
            respond_json(
                conn,
                &json!({"type": "work_heartbeat", "last_heartbeat": "hb", "lease_extended": true,
                    "state": state, "ttl_seconds": 1})
                .to_string(),
            )
        },
    );
    let dir = tempdir();
    let stats = worker(&server)
        .workdir(dir.path())
        .extra_header("x-trace-id", "trace-7")
        .extra_header("authorization", "Bearer not-this-one")
        .run()
        .unwrap();
    assert_eq!(stats.claimed, 1, "{stats:?}");
    let all = requests(&server);
    for needed in [
        "/work/poll",
        "/ack",
        "/heartbeat",
        "/stop",
        "/v1/sessions/sesn_work_1",
    ] {
        assert!(
            all.iter().any(|r| path(r).ends_with(needed)),
            "no {needed} request"
        );
    }
    assert!(all.iter().any(|r| path(r).starts_with("/v1/skills/")));
    for r in &all {
        assert_eq!(
            r.header("x-trace-id"),
            Some("trace-7"),
            "{} {}",
            r.method,
            r.target
        );
        assert_ne!(bearer(r), Some("not-this-one"), "{}", r.target);
    }
}

#[test]
fn a_failing_session_read_is_tried_again_while_the_lease_lasts() {
    let reads = Arc::new(AtomicUsize::new(0));
    let seen = reads.clone();
    let server = TestServer::start(move |_, r, conn| {
        let p = path(r).to_string();
        if p.ends_with("/work/poll") {
            if seen.load(Ordering::SeqCst) == 0 {
                respond_json(conn, &item("work_1", "session"))
            } else {
                no_content(conn)
            }
        } else if p.ends_with("/heartbeat") {
            active(0, conn)
        } else if p == "/v1/sessions/sesn_work_1" {
            if seen.fetch_add(1, Ordering::SeqCst) < 2 {
                respond(
                    conn,
                    503,
                    &[("content-type", "application/json")],
                    br#"{"type":"error","error":{"type":"api_error","message":"down"}}"#,
                )
            } else {
                respond_json(conn, &session("sesn_work_1", "idle"))
            }
        } else {
            no_content(conn)
        }
    });
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    let stats = worker(&server)
        .on_session(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .run()
        .unwrap();
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        3,
        "two failed reads, then one"
    );
}

#[test]
fn a_stop_refused_with_401_means_the_lease_was_lost() {
    let server = TestServer::start(|_, r, conn| {
        let p = path(r).to_string();
        if p.ends_with("/work/poll") {
            if POLLED.fetch_add(1, Ordering::SeqCst) == 0 {
                respond_json(conn, &item("work_1", "session"))
            } else {
                no_content(conn)
            }
        } else if p.ends_with("/heartbeat") {
            active(0, conn)
        } else if p.ends_with("/stop") {
            respond(
                conn,
                401,
                &[("content-type", "application/json")],
                br#"{"type":"error","error":{"type":"authentication_error","message":"expired"}}"#,
            )
        } else if p == "/v1/sessions/sesn_work_1" {
            respond_json(conn, &session("sesn_work_1", "idle"))
        } else {
            no_content(conn)
        }
    });
    static POLLED: AtomicUsize = AtomicUsize::new(0);
    let reports = Arc::new(Mutex::new(Vec::new()));
    let keep = reports.clone();
    let stats = worker(&server)
        .on_session(|_| Ok(()))
        .on_report(move |item, report| {
            let r = report.as_ref().unwrap();
            keep.lock()
                .unwrap()
                .push((item.lease_lost(), r.lease_end.clone(), r.stopped));
        })
        .run()
        .unwrap();
    assert_eq!(stats.lost, 1, "{stats:?}");
    let reports = reports.lock().unwrap().clone();
    assert!(
        matches!(&reports[0], (true, Some(LeaseEnd::Rejected { .. }), false)),
        "{reports:?}"
    );
    let stops = requests(&server)
        .iter()
        .filter(|r| path(r).ends_with("/stop"))
        .count();
    assert_eq!(stops, 1, "a 401 is not tried again");
}
