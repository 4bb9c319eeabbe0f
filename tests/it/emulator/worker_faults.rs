//! The environment worker under the work queue's faults, on the emulator: a heartbeat
//! answered 412 (the lease lost: the run ends and the item is not stopped by us), `stopping`
//! from the server (the run ends, the tool under way is killed, the item stopped), polls
//! answered 529 then recovering, a lease that expires and goes to a second worker (each call
//! answered once), an item claimed and never acknowledged (reclaimed after
//! `reclaim_older_than_ms`), and a session that is already idle (the item ends at once).

use crate::support::emulated::{self, events, of_type, self_hosted_session, setup};
use crate::support::tempdir;
use managed_agents::environments::{
    Disposition, EnvironmentWorker, ItemReport, LeaseEnd, LeaseOptions, PollerOptions,
};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Faults, Script};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A worker on the environment heartbeating every 200 ms, polling briskly.
fn worker(client: &Client, env: &str, workdir: &std::path::Path) -> EnvironmentWorker {
    emulated::worker(client, env, workdir).lease_options(
        LeaseOptions::new()
            .assumed_ttl(Duration::from_secs(5))
            .interval_bounds(Duration::from_millis(50), Duration::from_millis(200)),
    )
}

fn item_state(client: &Client, env: &str) -> String {
    let items = client
        .environments()
        .work()
        .list(env, &WorkListParams::default())
        .unwrap();
    assert_eq!(items.data.len(), 1);
    serde_json::to_value(&items.data[0].state)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// What a worker's reports said: why each lease ended, whether the item was stopped, and
/// how it went.
type Reports = Arc<Mutex<Vec<(Option<LeaseEnd>, bool, String)>>>;

fn keep_reports(w: EnvironmentWorker) -> (EnvironmentWorker, Reports) {
    let reports: Reports = Arc::default();
    let r = reports.clone();
    let w = w.on_report(move |_, report| {
        let report: &ItemReport = report.as_ref().expect("the item was served");
        let how = match &report.disposition {
            Disposition::Failed(e) => format!("failed: {e}"),
            other => format!("{other:?}"),
        };
        r.lock()
            .unwrap()
            .push((report.lease_end.clone(), report.stopped, how));
    });
    (w, reports)
}

#[test]
fn a_heartbeat_answered_412_ends_the_run_posts_nothing_and_leaves_the_item_unstopped() {
    let (emu, client) = setup();
    emu.set_script(Script::new().call_tool("slow", json!({})).say("done"));
    let (env, session) = self_hosted_session(&client);
    let dir = tempdir();
    let (started_tx, started) = mpsc::channel();
    let started_tx = Mutex::new(started_tx);
    let (release_tx, release) = mpsc::channel::<()>();
    let release = Mutex::new(release);
    let (w, reports) = keep_reports(
        worker(&client, &env, dir.path()).tool("slow", move |_call| {
            let _ = started_tx.lock().unwrap().send(());
            // a handler that does not look at its cancel signal, and returns only once the worker
            // is done: its result must not be posted
            let _ = release
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(30));
            Ok::<_, String>("late")
        }),
    );
    let run = std::thread::spawn(move || w.run());
    started.recv_timeout(Duration::from_secs(30)).unwrap();
    emu.set_faults(Faults {
        fail_heartbeats: 1,
        ..Faults::default()
    });
    let stats = run.join().unwrap().unwrap();
    assert_eq!((stats.claimed, stats.lost), (1, 1), "{stats:?}");
    let reports = reports.lock().unwrap().clone();
    assert!(
        matches!(reports[0].0, Some(LeaseEnd::Lost { .. })),
        "{reports:?}"
    );
    assert!(
        !reports[0].1,
        "the worker stopped an item whose lease it lost"
    );
    // the item is still the queue's, and the handler's late result never reaches the session
    assert_eq!(item_state(&client, &env), "active");
    release_tx.send(()).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let log = events(&client, &session);
    assert!(
        of_type(&log, "user.custom_tool_result").is_empty(),
        "{log:?}"
    );
}

#[test]
fn stopping_from_the_server_ends_the_run_kills_the_tool_and_the_item_is_stopped() {
    let (emu, client) = setup();
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "sleep 20; echo late > late.txt"}))
            .say("done"),
    );
    let (env, session) = self_hosted_session(&client);
    let dir = tempdir();
    let (w, reports) = keep_reports(worker(&client, &env, dir.path()));
    let run = std::thread::spawn(move || w.run());
    // once the bash call is out, someone asks for a graceful stop of the item
    let deadline = Instant::now() + Duration::from_secs(30);
    while of_type(&events(&client, &session), "agent.tool_use").is_empty() {
        assert!(Instant::now() < deadline, "the agent never called bash");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let work = client.environments().work();
    let id = work.list(&env, &WorkListParams::default()).unwrap().data[0]
        .id
        .clone();
    work.stop(&env, &id, &WorkStopParams::new()).unwrap();
    let stats = run.join().unwrap().unwrap();
    assert_eq!((stats.claimed, stats.lost), (1, 0), "{stats:?}");
    let reports = reports.lock().unwrap().clone();
    match &reports[0].0 {
        Some(LeaseEnd::StopRequested { state, .. }) => assert_eq!(state, "stopping"),
        other => panic!("expected the server's stop, got {other:?} ({reports:?})"),
    }
    assert!(reports[0].1, "{reports:?}");
    assert_eq!(item_state(&client, &env), "stopped");
    // the command was killed with the run: it never wrote, and no result was posted for it
    std::thread::sleep(Duration::from_secs(1));
    let log = events(&client, &session);
    assert!(of_type(&log, "user.tool_result").is_empty(), "{log:?}");
    let written: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.ends_with("late.txt"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn polls_answered_529_then_recovering_the_worker_runs_the_item() {
    let (emu, client) = setup();
    emu.set_script(
        Script::new()
            .agent_tool(
                "write",
                json!({"file_path": "a.txt", "content": "after 529s\n"}),
            )
            .say("done"),
    );
    emu.set_faults(Faults {
        fail_polls: 3,
        ..Faults::default()
    });
    let (env, session) = self_hosted_session(&client);
    let dir = tempdir();
    let stats = worker(&client, &env, dir.path()).run().unwrap();
    assert_eq!(
        (stats.claimed, stats.ran, stats.failed),
        (1, 1, 0),
        "{stats:?}"
    );
    let log = events(&client, &session);
    let results = of_type(&log, "user.tool_result");
    assert_eq!(results.len(), 1, "{log:?}");
    assert_ne!(results[0]["is_error"], true, "{results:?}");
    assert_eq!(item_state(&client, &env), "stopped");
}

#[test]
fn a_lease_that_expires_goes_to_a_second_worker_and_each_call_is_answered_once() {
    let (emu, client) = setup();
    emu.set_script(Script::new().call_tool("slow", json!({})).say("done"));
    // leases of 300 ms while the first worker claims its item: heartbeats a second apart
    // let it lapse
    emu.set_faults(Faults {
        lease_ttl: Some(Duration::from_millis(300)),
        ..Faults::default()
    });
    let (env, session) = self_hosted_session(&client);
    let dir = tempdir();
    let calls = Arc::new(AtomicUsize::new(0));
    let (started_tx, started) = mpsc::channel();
    let started_tx = Arc::new(Mutex::new(started_tx));
    let (release_tx, release) = mpsc::channel::<()>();
    let release = Arc::new(Mutex::new(release));
    let tool = {
        let calls = calls.clone();
        move |_call: &managed_agents::runner::ToolCall| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                let _ = started_tx.lock().unwrap().send(());
                // the first worker's call returns only once both workers are done
                let _ = release
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(60));
                Ok::<_, String>("from the first worker")
            } else {
                Ok("from the second worker")
            }
        }
    };
    let quick = PollerOptions::new()
        .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20))
        .backoff(Duration::from_millis(10), Duration::from_millis(50));
    let (first, first_reports) = keep_reports(
        worker(&client, &env, &dir.path().join("first"))
            .worker_id("first")
            .tool("slow", tool.clone())
            .lease_options(LeaseOptions::new()),
    );
    let first = std::thread::spawn(move || first.run());
    started.recv_timeout(Duration::from_secs(30)).unwrap();
    // later leases are the server's usual; the first one stays short
    emu.set_faults(Faults::default());
    let (second, second_reports) = keep_reports(
        worker(&client, &env, &dir.path().join("second"))
            .worker_id("second")
            .poller_options(quick)
            .tool("slow", tool),
    );
    let stop_second = second.stop_signal();
    let second = {
        let reports = second_reports.clone();
        std::thread::spawn(move || {
            let stop = stop_second.clone();
            let watcher = std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                while reports.lock().unwrap().is_empty() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                stop.set();
            });
            let stats = second.run();
            let _ = watcher.join();
            stats
        })
    };
    let first_stats = first.join().unwrap().unwrap();
    let second_stats = second.join().unwrap().unwrap();
    assert_eq!(first_stats.lost, 1, "{first_stats:?}");
    assert_eq!(second_stats.ran, 1, "{second_stats:?}");
    let first_reports = first_reports.lock().unwrap().clone();
    assert!(
        !first_reports[0].1,
        "the first worker stopped an item it lost"
    );
    assert!(second_reports.lock().unwrap()[0].1);
    // the first worker's late result never arrives: one result, the second worker's
    release_tx.send(()).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let log = events(&client, &session);
    let results = of_type(&log, "user.custom_tool_result");
    assert_eq!(results.len(), 1, "{log:?}");
    assert!(
        results[0]["content"]
            .to_string()
            .contains("from the second worker"),
        "{results:?}"
    );
    assert_eq!(
        of_type(&log, "session.status_idle").last().unwrap()["stop_reason"]["type"],
        "end_turn"
    );
    assert_eq!(item_state(&client, &env), "stopped");
}

#[test]
fn the_item_of_a_session_already_idle_ends_at_once() {
    let (emu, client) = setup();
    // nothing for the worker to run: the agent answers and ends its turn
    emu.set_script(Script::new().say("nothing to run"));
    let (env, session) = self_hosted_session(&client);
    let deadline = Instant::now() + Duration::from_secs(30);
    while of_type(&events(&client, &session), "session.status_idle").is_empty() {
        assert!(Instant::now() < deadline, "the session never went idle");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dir = tempdir();
    let w = worker(&client, &env, dir.path());
    let stop = w.stop_signal();
    let run = std::thread::spawn(move || w.run());
    // a generous bound: the item must end by itself, long before the worker is told to stop
    let deadline = Instant::now() + Duration::from_secs(30);
    let ended = loop {
        if item_state(&client, &env) == "stopped" {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.set();
    let stats = run.join().unwrap().unwrap();
    assert!(
        ended,
        "the item of an idle session was held until the worker stopped"
    );
    assert_eq!((stats.claimed, stats.ran), (1, 1), "{stats:?}");
}

#[test]
fn a_stop_asked_for_by_the_stop_heartbeats_fault_ends_the_run_and_the_item_is_stopped() {
    let (emu, client) = setup();
    emu.set_script(Script::new().call_tool("wait", json!({})).say("done"));
    let (env, session) = self_hosted_session(&client);
    let dir = tempdir();
    let (started_tx, started) = mpsc::channel();
    let started_tx = Mutex::new(started_tx);
    let (w, reports) = keep_reports(worker(&client, &env, dir.path()).tool("wait", move |call| {
        let _ = started_tx.lock().unwrap().send(());
        // a handler that gives up when the run is cancelled
        call.cancel.wait(Duration::from_secs(30));
        Ok::<_, String>("finished")
    }));
    let run = std::thread::spawn(move || w.run());
    started.recv_timeout(Duration::from_secs(30)).unwrap();
    emu.set_faults(Faults::from_json(&json!({"stop_heartbeats": 1})).unwrap());
    let stats = run.join().unwrap().unwrap();
    assert_eq!((stats.claimed, stats.lost), (1, 0), "{stats:?}");
    let reports = reports.lock().unwrap().clone();
    assert_eq!(
        reports[0].0,
        Some(LeaseEnd::StopRequested {
            state: "stopping".into(),
            lease_extended: false
        }),
        "{reports:?}"
    );
    assert!(reports[0].1);
    assert_eq!(item_state(&client, &env), "stopped");
    let log = events(&client, &session);
    assert!(
        of_type(&log, "user.custom_tool_result").is_empty(),
        "{log:?}"
    );
}

#[test]
fn an_item_claimed_but_never_acknowledged_is_reclaimed_by_a_worker_after_reclaim_older_than_ms() {
    let (emu, client) = setup();
    emu.set_script(
        Script::new()
            .agent_tool(
                "write",
                json!({"file_path": "a.txt", "content": "reclaimed\\n"}),
            )
            .say("done"),
    );
    let (env, session) = self_hosted_session(&client);
    // a worker that died between its poll and its ack
    let lost = client
        .environments()
        .work()
        .poll(&env, &WorkPollParams::default().block_ms(999))
        .unwrap()
        .expect("the session's item");
    let dir = tempdir();
    // older than the worker's reclaim_older_than_ms by the time it polls
    std::thread::sleep(Duration::from_millis(300));
    let stats = worker(&client, &env, dir.path())
        .poller_options(
            PollerOptions::new()
                .drain(true)
                .reclaim_older_than_ms(200)
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .run()
        .unwrap();
    assert_eq!((stats.claimed, stats.ran), (1, 1), "{stats:?}");
    let log = events(&client, &session);
    assert_eq!(of_type(&log, "user.tool_result").len(), 1, "{log:?}");
    let items = client
        .environments()
        .work()
        .list(&env, &WorkListParams::default())
        .unwrap();
    assert_eq!(items.data.len(), 1);
    assert_eq!(items.data[0].id, lost.id);
    assert_eq!(item_state(&client, &env), "stopped");
}
