//! The lease rules of the environment worker against the emulator, which records every
//! hand-out of an item (its claim, how long its lease ran, and when each session request made
//! with its sessions token arrived): a claim refused with 412 (nothing read or run), one and
//! several transient heartbeat failures (the lease never lapses), failures until the lease
//! expires (lost at expiry, nothing stopped, nothing posted after), `lease_extended: false`
//! (the run ends, the item is stopped), a slow ack; and the one rule above all with many
//! workers, one of them killed mid-item, and heartbeat faults: no item is ever served by two
//! workers at once, and every tool use is answered exactly once.

use crate::support::emulated::{
    self, events, self_hosted_environment, session_with_message, worker,
};
use crate::support::tempdir;
use managed_agents::environments::{EnvironmentWorker, LeaseEnd, WorkerStats};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Faults, Script, WorkHolder};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An emulator in strict mode, shared with the handlers that switch its faults, and a client.
fn setup() -> (Arc<Emulator>, Client) {
    let (emu, client) = emulated::setup();
    (Arc::new(emu), client)
}

/// Why an item's lease ended, and whether the worker stopped it.
type End = (Option<LeaseEnd>, bool);
/// The ends of the items a worker served.
type Ends = Arc<Mutex<Vec<End>>>;

fn keep_ends(w: EnvironmentWorker) -> (EnvironmentWorker, Ends) {
    let ends: Ends = Arc::default();
    let e = ends.clone();
    let w = w.on_report(move |_, report| {
        let r = report.as_ref().expect("the item was served");
        e.lock().unwrap().push((r.lease_end.clone(), r.stopped));
    });
    (w, ends)
}

/// The rule above all, from the emulator's records: a holder makes no session request before
/// its claim, none after its lease ended, and none after a later holder of the item claimed it.
fn assert_one_holder_at_a_time(holders: &[WorkHolder]) {
    for h in holders {
        for (at, method) in &h.session_requests {
            let claimed = h.claimed_at.unwrap_or_else(|| {
                panic!(
                    "{}: a {method} with the token of a hand-out never claimed",
                    h.work_id
                )
            });
            assert!(*at >= claimed, "{}: a {method} before the claim", h.work_id);
            if method == "POST" {
                if let Some(end) = h.lease_ended_at {
                    assert!(
                        *at <= end,
                        "{}: a POST {:?} after the lease ended",
                        h.work_id,
                        *at - end
                    );
                }
            }
        }
        let later = holders
            .iter()
            .filter(|o| o.work_id == h.work_id && o.handed_out_at > h.handed_out_at);
        for other in later {
            let Some(claimed) = other.claimed_at else {
                continue;
            };
            assert!(
                h.session_requests
                    .iter()
                    .all(|(at, m)| m != "POST" || *at < claimed),
                "{}: served by two workers at once",
                h.work_id
            );
        }
    }
}

/// Waits until the item of `env` is `state`.
fn wait_for_state(client: &Client, env: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let items = client
            .environments()
            .work()
            .list(env, &WorkListParams::default())
            .unwrap();
        let now = serde_json::to_value(&items.data[0].state).unwrap();
        if now == state {
            return;
        }
        assert!(Instant::now() < deadline, "the item stayed {now}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every tool use of the session answered exactly once; returns how many there were.
fn answered_once(client: &Client, session: &str) -> usize {
    let log = events(client, session);
    let uses: Vec<&Value> = log
        .iter()
        .filter(|e| e["type"] == "agent.tool_use" || e["type"] == "agent.custom_tool_use")
        .map(|e| &e["id"])
        .collect();
    for id in &uses {
        let answers = log
            .iter()
            .filter(|e| {
                (e["type"] == "user.tool_result" && &e["tool_use_id"] == *id)
                    || (e["type"] == "user.custom_tool_result" && &e["custom_tool_use_id"] == *id)
            })
            .count();
        assert_eq!(answers, 1, "{session}: {id} answered {answers} times");
    }
    uses.len()
}

#[test]
fn a_claim_refused_with_412_reads_and_runs_nothing_and_stops_nothing() {
    let (emu, client) = setup();
    emu.set_script(Script::new().call_tool("probe", json!({})).say("done"));
    let env = self_hosted_environment(&client);
    let session = session_with_message(&client, &env);
    emu.set_faults(Faults {
        fail_heartbeats: 1,
        ..Faults::default()
    });
    let dir = tempdir();
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    let (w, ends) = keep_ends(worker(&client, &env, dir.path()).on_session(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    let stats = w.run().unwrap();
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "the handler ran on a lost claim"
    );
    assert_eq!(
        (stats.claimed, stats.ran, stats.lost),
        (1, 0, 1),
        "{stats:?}"
    );
    let ends = ends.lock().unwrap().clone();
    assert!(
        matches!(ends[0], (Some(LeaseEnd::Lost { .. }), false)),
        "{ends:?}"
    );
    let holders = emu.work_holders();
    assert_eq!(holders.len(), 1);
    assert!(holders[0].claimed_at.is_none());
    assert!(
        holders[0].session_requests.is_empty(),
        "the session was read before the claim: {:?}",
        holders[0].session_requests
    );
    assert!(holders[0].stopped_at.is_none());
    assert!(events(&client, &session)
        .iter()
        .all(|e| e["type"] != "user.custom_tool_result"));
}

/// Runs one item whose handler, once the item is claimed, switches on `faults` and holds the
/// lease until `hold` has passed or the lease ends, then switches them off (a later hand-out
/// of the item, after a lost lease, returns at once); returns the stats, the lease ends, and
/// the emulator's holders.
fn hold_through(
    ttl: Duration,
    faults: Faults,
    hold: Duration,
) -> (WorkerStats, Vec<End>, Vec<WorkHolder>) {
    let (emu, client) = setup();
    emu.set_script(Script::new().say("done"));
    let env = self_hosted_environment(&client);
    session_with_message(&client, &env);
    emu.set_faults(Faults {
        lease_ttl: Some(ttl),
        ..Faults::default()
    });
    let dir = tempdir();
    let scripted = emu.clone();
    let runs = AtomicUsize::new(0);
    let (w, ends) = keep_ends(worker(&client, &env, dir.path()).on_session(move |ctx| {
        if runs.fetch_add(1, Ordering::SeqCst) > 0 {
            return Ok(());
        }
        scripted.set_faults(Faults {
            lease_ttl: Some(ttl),
            ..faults.clone()
        });
        // the session is read and written while the lease is held: one of each a second
        let end = Instant::now() + hold;
        while Instant::now() < end && !ctx.stop_signal().wait(Duration::from_secs(1)) {
            // a handler that looks at its lease before each call, as a runner does
            if ctx.should_stop() {
                break;
            }
            ctx.client().sessions().retrieve(&ctx.session().id)?;
            if ctx.should_stop() {
                break;
            }
            ctx.client()
                .sessions()
                .update(&ctx.session().id, &SessionUpdateParams::default())?;
        }
        scripted.set_faults(Faults {
            lease_ttl: Some(ttl),
            ..Faults::default()
        });
        Ok(())
    }));
    let stats = w.run().unwrap();
    let ends = ends.lock().unwrap().clone();
    (stats, ends, emu.work_holders())
}

/// The holder's lease never lapsed while it was held: from its claim to the stop, no
/// heartbeat came after the lease had run out.
fn assert_never_lapsed(holders: &[WorkHolder]) {
    assert_eq!(holders.len(), 1, "{holders:?}");
    let h = &holders[0];
    assert!(h.claimed_at.is_some());
    assert_eq!(
        h.lapsed_at, None,
        "the lease lapsed while the worker held it"
    );
    assert!(h.stopped_at.is_some(), "the holder stopped the item: {h:?}");
    assert_one_holder_at_a_time(holders);
}

#[test]
fn one_failed_heartbeat_is_retried_at_once_and_the_lease_never_lapses() {
    // TTL 6 s: a heartbeat every 3 s; the failed one is tried again within a second
    let (stats, ends, holders) = hold_through(
        Duration::from_secs(6),
        Faults {
            heartbeat_errors: 1,
            ..Faults::default()
        },
        Duration::from_secs(9),
    );
    assert_eq!((stats.ran, stats.lost), (1, 0), "{stats:?} {ends:?}");
    assert!(
        matches!(ends[0], (Some(LeaseEnd::Released), true)),
        "{ends:?}"
    );
    assert_never_lapsed(&holders);
}

#[test]
fn several_failed_heartbeats_are_retried_with_backoff_within_the_lease() {
    // TTL 8 s: a heartbeat every 4 s; two failures cost at most 1 + 2 s
    let (stats, ends, holders) = hold_through(
        Duration::from_secs(8),
        Faults {
            heartbeat_errors: 2,
            ..Faults::default()
        },
        Duration::from_secs(10),
    );
    assert_eq!((stats.ran, stats.lost), (1, 0), "{stats:?} {ends:?}");
    assert_never_lapsed(&holders);
}

#[test]
fn heartbeats_failing_until_expiry_lose_the_lease_at_expiry_and_stop_nothing() {
    let (stats, ends, holders) = hold_through(
        Duration::from_secs(3),
        Faults {
            heartbeat_errors: usize::MAX,
            ..Faults::default()
        },
        Duration::from_secs(60),
    );
    assert_eq!(stats.lost, 1, "{stats:?}");
    assert!(
        matches!(ends[0], (Some(LeaseEnd::AssumedLost), false)),
        "{ends:?}"
    );
    let h = &holders[0];
    assert!(h.stopped_at.is_none(), "a lost item was stopped");
    assert!(h.lease_ended_at.is_some());
    // the handler wrote to the session once a second while the lease held, and never after
    assert!(h.session_requests.iter().any(|(_, m)| m == "POST"));
    // the item went back to the queue and the next hand-out served it
    assert_eq!(holders.len(), 2, "{holders:?}");
    assert!(holders[1].stopped_at.is_some());
    assert_one_holder_at_a_time(&holders);
}

#[test]
fn a_heartbeat_that_does_not_extend_the_lease_ends_the_run_and_the_item_is_stopped() {
    let (stats, ends, holders) = hold_through(
        Duration::from_secs(4),
        Faults {
            unextended_heartbeats: 1,
            ..Faults::default()
        },
        Duration::from_secs(60),
    );
    assert_eq!((stats.claimed, stats.lost), (1, 0), "{stats:?}");
    match &ends[0] {
        (
            Some(LeaseEnd::StopRequested {
                lease_extended: false,
                ..
            }),
            true,
        ) => {}
        other => panic!("{other:?}"),
    }
    assert!(holders[0].stopped_at.is_some());
}

#[test]
fn a_slow_ack_is_waited_for_and_the_item_served_once() {
    let (emu, client) = setup();
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "echo hi"}))
            .say("done"),
    );
    let env = self_hosted_environment(&client);
    let session = session_with_message(&client, &env);
    emu.set_faults(Faults {
        slow_ack: Some(Duration::from_secs(2)),
        ..Faults::default()
    });
    let dir = tempdir();
    let stats = worker(&client, &env, dir.path()).run().unwrap();
    assert_eq!((stats.claimed, stats.ran), (1, 1), "{stats:?}");
    assert_eq!(answered_once(&client, &session), 1);
    let holders = emu.work_holders();
    assert_eq!(holders.len(), 1, "the item was handed out again");
    assert_one_holder_at_a_time(&holders);
    wait_for_state(&client, &env, "stopped");
}
