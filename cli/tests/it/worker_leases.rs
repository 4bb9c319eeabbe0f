//! The lease rules the `managed-agents worker` process keeps, against the emulator (which
//! records every hand-out of an item): a `--once` worker that lost its item's lease leaves it
//! alone, and fifty items, one worker process killed mid-item and two workers serving the
//! rest: no item is ever served by two workers at once, every tool use answered once. The
//! library's worker is held to the same rules in the library's suite.

use crate::support::events;
use managed_agents::environments::{EnvironmentWorker, PollerOptions, WorkerStats};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Faults, Script, WorkHolder};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ENV_KEY: &str = "env-key-for-lease-tests";

fn setup() -> (Arc<Emulator>, Client) {
    let (emu, client) = crate::support::emulator();
    (Arc::new(emu), client)
}

fn environment(client: &Client) -> String {
    client
        .environments()
        .create(&EnvironmentCreateParams::new("local").config(SelfHostedConfigParams::new()))
        .unwrap()
        .id
}

/// A session of `env` sent a message (which queues its work item).
fn session(client: &Client, env: &str) -> String {
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5"))
        .unwrap();
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env))
        .unwrap()
        .id;
    client
        .sessions()
        .events()
        .send(
            &session,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    session
}

fn workdir(name: &str) -> crate::support::Temp {
    crate::support::temp(&format!("lease-rules-{name}"))
}

/// A worker on `env` that drains the queue, polling briskly.
fn worker(client: &Client, env: &str, dir: &std::path::Path) -> EnvironmentWorker {
    client
        .environments()
        .work()
        .worker()
        .environment_id(env)
        .environment_key(ENV_KEY)
        .workdir(dir)
        .poller_options(
            PollerOptions::new()
                .drain(true)
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20))
                .backoff(Duration::from_millis(10), Duration::from_millis(50)),
        )
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

/// `n` sessions of `env`, each sent a message (each queues a work item).
fn sessions(client: &Client, env: &str, n: usize) -> Vec<String> {
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5"))
        .unwrap();
    (0..n)
        .map(|_| {
            let id = client
                .sessions()
                .create(&SessionCreateParams::new(&agent, env))
                .unwrap()
                .id;
            client
                .sessions()
                .events()
                .send(
                    &id,
                    &EventSendParams::one(UserMessageEventParams::text("go")),
                )
                .unwrap();
            id
        })
        .collect()
}

/// The states of `env`'s work items.
fn item_states(client: &Client, env: &str) -> Vec<String> {
    client
        .environments()
        .work()
        .list(env, &WorkListParams::default().limit(100))
        .unwrap()
        .auto_paging()
        .map(|w| {
            serde_json::to_value(&w.unwrap().state)
                .unwrap()
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// `managed-agents worker --once` whose lease is lost mid-item (a heartbeat answered 412)
/// leaves the item alone: no path — the worker's, the poller's `auto_stop` — stops it.
#[cfg(unix)]
#[test]
fn the_once_worker_never_stops_an_item_whose_lease_it_lost() {
    use std::process::{Command, Stdio};
    let (emu, client) = setup();
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "sleep 20"}))
            .say("done"),
    );
    let env = environment(&client);
    let session = session(&client, &env);
    emu.set_faults(Faults {
        lease_ttl: Some(Duration::from_secs(2)),
        ..Faults::default()
    });
    let dir = workdir("once-lost");
    let child = Command::new(crate::support::BIN)
        .args([
            "worker",
            "--environment",
            env.as_str(),
            "--once",
            "--workdir",
        ])
        .arg(&dir)
        .env("ANTHROPIC_ENVIRONMENT_KEY", ENV_KEY)
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .env_remove("ANTHROPIC_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !events(&client, &session)
        .iter()
        .any(|e| e["type"] == "agent.tool_use")
    {
        assert!(Instant::now() < deadline, "the agent never called bash");
        std::thread::sleep(Duration::from_millis(20));
    }
    emu.set_faults(Faults {
        lease_ttl: Some(Duration::from_secs(2)),
        fail_heartbeats: 1,
        ..Faults::default()
    });
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lease lost"), "{stderr}");
    let holders = emu.work_holders();
    assert_eq!(holders.len(), 1, "{holders:?}");
    assert_eq!(
        holders[0].stopped_at, None,
        "a lost item was stopped: {stderr}"
    );
    assert!(events(&client, &session)
        .iter()
        .all(|e| e["type"] != "user.tool_result"));
    assert_one_holder_at_a_time(&holders);
}

/// Fifty items, heartbeats failing now and then, leases of 3 s: a worker process is killed
/// (SIGKILL) in the middle of its items, then two workers on the environment serve the rest and
/// reclaim the dead one's items. No item is ever served by two workers at once, and every
/// tool use is answered exactly once.
#[cfg(unix)]
#[test]
fn fifty_items_two_workers_and_one_killed_never_serve_an_item_twice_at_once() {
    use std::process::{Command, Stdio};
    let (emu, client) = setup();
    emu.set_thinking(Duration::from_millis(20));
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "sleep 0.5; echo one"}))
            .agent_tool("bash", json!({"command": "echo two"}))
            .say("done"),
    );
    let env = environment(&client);
    emu.set_faults(Faults {
        lease_ttl: Some(Duration::from_secs(3)),
        heartbeat_error_every: 4,
        ..Faults::default()
    });
    let all = sessions(&client, &env, 50);
    let dir = workdir("fifty");
    // a worker process takes items, and is killed while their tools run
    let mut doomed = Command::new(crate::support::BIN)
        .args([
            "worker",
            "--environment",
            env.as_str(),
            "--concurrency",
            "3",
        ])
        .arg("--workdir")
        .arg(dir.join("doomed"))
        .env("ANTHROPIC_ENVIRONMENT_KEY", ENV_KEY)
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .env_remove("ANTHROPIC_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !emu
        .work_holders()
        .iter()
        .any(|h| h.session_requests.iter().any(|(_, m)| m == "POST"))
    {
        assert!(
            Instant::now() < deadline,
            "the worker process served nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    doomed.kill().unwrap(); // SIGKILL
    let _ = doomed.wait();
    let killed_at = Instant::now();
    // two workers on the environment serve the rest
    let workers: Vec<EnvironmentWorker> = (0..2)
        .map(|i| {
            worker(&client, &env, &dir.join(format!("w{i}")))
                .poller_options(
                    PollerOptions::new()
                        .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(30))
                        .backoff(Duration::from_millis(10), Duration::from_millis(50)),
                )
                .concurrency(4)
        })
        .collect();
    let stops: Vec<_> = workers.iter().map(EnvironmentWorker::stop_signal).collect();
    let runs: Vec<_> = workers
        .into_iter()
        .map(|w| std::thread::spawn(move || w.run()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let states = item_states(&client, &env);
        if states.len() == 50 && states.iter().all(|s| s == "stopped") {
            break;
        }
        assert!(Instant::now() < deadline, "items left: {states:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    for s in &stops {
        s.set();
    }
    let stats: Vec<WorkerStats> = runs
        .into_iter()
        .map(|r| r.join().unwrap().unwrap())
        .collect();
    assert!(
        stats.iter().all(|s| s.claimed > 0),
        "both workers served: {stats:?}"
    );
    for session in &all {
        assert_eq!(answered_once(&client, session), 2, "{session}");
    }
    let holders = emu.work_holders();
    assert_one_holder_at_a_time(&holders);
    // the dead worker's items went to the others once their leases ran out
    let reclaimed = holders
        .iter()
        .filter(|h| h.handed_out_at < killed_at && h.stopped_at.is_none())
        .count();
    assert!(reclaimed > 0, "no item of the killed worker was reclaimed");
}
