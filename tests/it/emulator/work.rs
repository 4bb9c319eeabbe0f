//! The work queue of a self-hosted environment over real HTTP, with the crate's client and the
//! library's Poller, LeaseKeeper and EnvironmentWorker: items queued by sessions and by a
//! message after idle, the long poll, ack, heartbeats with compare-and-set and 412, stop,
//! reclaim of a lapsed lease, polls answered 529, and a scripted session run end to end by
//! the worker with the local agent toolset.

use crate::support::emulated::{local_agent, self_hosted_environment, setup, ENV_KEY};
use crate::support::tempdir;
use managed_agents::environments::{
    sessions_token, LeaseEnd, LeaseKeeper, LeaseOptions, PollerOptions, NO_HEARTBEAT,
};
use managed_agents::toolset::{AgentToolContext, AgentToolset};
use managed_agents::types::*;
use managed_agents::{Client, Deadline};
use managed_agents_emulator::{Emulator, Faults, Script};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A self-hosted environment and an agent.
fn self_hosted(client: &Client) -> (String, Agent) {
    (self_hosted_environment(client), local_agent(client))
}

fn new_session(client: &Client, env: &str, agent: &Agent) -> Session {
    client
        .sessions()
        .create(&SessionCreateParams::new(agent, env))
        .unwrap()
}

fn state(w: &SelfHostedWork) -> String {
    serde_json::to_value(&w.state)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

fn poll(client: &Client, env: &str) -> Option<SelfHostedWork> {
    client
        .environments()
        .work()
        .poll(env, &WorkPollParams::default().block_ms(999))
        .unwrap()
}

fn keyed(emu: &Emulator) -> Client {
    Client::builder()
        .environment_key(ENV_KEY)
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

#[test]
fn a_self_hosted_session_queues_an_item_that_a_long_poll_claims_and_ack_starts() {
    let (emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    let work = client.environments().work();
    // a poll on an empty queue waits: the session created meanwhile is what it returns
    let waiting = {
        let (client, env) = (keyed(&emu), env.clone());
        std::thread::spawn(move || poll(&client, &env))
    };
    std::thread::sleep(Duration::from_millis(100));
    let session = new_session(&client, &env, &agent);
    let item = waiting
        .join()
        .unwrap()
        .expect("the long poll returned the new item");
    assert_eq!(item.data.id, session.id);
    assert_eq!(state(&item), "starting");
    // the secret is base64url JSON with a sessions token, which session calls accept
    let token = sessions_token(item.secret.as_deref()).expect("a sessions token");
    let as_item = Client::builder()
        .environment_key(token)
        .base_url(emu.base_url())
        .build()
        .unwrap();
    assert_eq!(
        as_item.sessions().retrieve(&session.id).unwrap().id,
        session.id
    );
    let stats = work.stats(&env).unwrap();
    assert_eq!((stats.depth, stats.pending), (0, 1));
    // nothing else is queued: an empty poll answers null
    assert!(work
        .poll(&env, &WorkPollParams::default().block_ms(50))
        .unwrap()
        .is_none());

    let acked = work.ack(&env, &item.id).unwrap();
    assert_eq!(state(&acked), "active");
    assert!(acked.acknowledged_at.is_some());
    let again = work.retrieve(&env, &item.id).unwrap();
    assert_eq!((state(&again), again.secret), ("active".to_string(), None));
    assert_eq!(work.stats(&env).unwrap().pending, 0);

    let mut patch = BTreeMap::new();
    patch.insert("host".to_string(), Some("box-1".to_string()));
    let updated = work
        .update(&env, &item.id, &WorkUpdateParams::new(patch))
        .unwrap();
    assert_eq!(
        updated.metadata.get("host").map(String::as_str),
        Some("box-1")
    );
    let listed = work.list(&env, &WorkListParams::default()).unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(
        listed.data[0].metadata.get("host").map(String::as_str),
        Some("box-1")
    );
    // a cloud environment's sessions queue nothing
    let cloud = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("c"))
        .unwrap();
    new_session(&client, &cloud.id, &agent);
    assert_eq!(work.stats(&cloud.id).unwrap().depth, 0);
}

#[test]
fn heartbeats_compare_and_set_a_mismatch_is_412_and_stop_ends_the_lease() {
    let (_emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    new_session(&client, &env, &agent);
    let work = client.environments().work();
    let item = poll(&client, &env).unwrap();
    work.ack(&env, &item.id).unwrap();
    let beat = |expected: &str| {
        work.heartbeat(
            &env,
            &item.id,
            &WorkHeartbeatParams::default()
                .expected_last_heartbeat(expected)
                .desired_ttl_seconds(30),
        )
    };
    let first = beat(NO_HEARTBEAT).unwrap();
    assert!(first.lease_extended);
    assert_eq!(first.ttl_seconds, 30);
    assert_eq!(serde_json::to_value(&first.state).unwrap(), "active");
    assert!(!first.last_heartbeat.is_empty());
    // the first heartbeat's value again is fine once; a stale or made-up one is not
    let err = beat(NO_HEARTBEAT).unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");
    let err = beat("2020-01-01T00:00:00Z").unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");
    let second = beat(&first.last_heartbeat).unwrap();
    assert!(second.lease_extended);

    // a graceful stop: the next heartbeat says stopping; a forced one stops it
    work.stop(&env, &item.id, &WorkStopParams::new()).unwrap();
    let stopping = work.retrieve(&env, &item.id).unwrap();
    assert_eq!(state(&stopping), "stopping");
    let third = beat(&second.last_heartbeat).unwrap();
    assert_eq!(serde_json::to_value(&third.state).unwrap(), "stopping");
    work.stop(&env, &item.id, &WorkStopParams::new().force(true))
        .unwrap();
    let stopped = work.retrieve(&env, &item.id).unwrap();
    assert_eq!(state(&stopped), "stopped");
    assert!(stopped.stopped_at.is_some());
    let after = beat(&second.last_heartbeat);
    assert!(!after.unwrap().lease_extended);
    let again = work
        .stop(&env, &item.id, &WorkStopParams::new().force(true))
        .unwrap_err();
    assert_eq!(again.status(), Some(409));
}

#[test]
fn the_lease_keeper_sees_412_as_lost_with_the_servers_state() {
    let (emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    new_session(&client, &env, &agent);
    let item = poll(&client, &env).unwrap();
    client.environments().work().ack(&env, &item.id).unwrap();
    emu.set_faults(Faults {
        fail_heartbeats: 1,
        ..Faults::default()
    });
    let lease = LeaseKeeper::start(&keyed(&emu), &env, &item.id, LeaseOptions::new()).unwrap();
    assert!(lease.stop_signal().wait(Duration::from_secs(30)));
    match lease.end() {
        Some(LeaseEnd::Lost {
            current_state: Some(s),
        }) => assert_eq!(s["state"], "active"),
        other => panic!("expected a lost lease with the server's state, got {other:?}"),
    }
}

#[test]
fn a_lapsed_lease_goes_to_a_second_poller_and_the_first_holder_gets_412() {
    let (emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    let session = new_session(&client, &env, &agent);
    emu.set_faults(Faults {
        lease_ttl: Some(Duration::from_millis(300)),
        ..Faults::default()
    });
    let work = client.environments().work();
    let first = poll(&client, &env).unwrap();
    work.ack(&env, &first.id).unwrap();
    let beat = work
        .heartbeat(
            &env,
            &first.id,
            &WorkHeartbeatParams::default().expected_last_heartbeat(NO_HEARTBEAT),
        )
        .unwrap();
    assert_eq!(beat.ttl_seconds, 1);
    // the first holder goes silent; the second worker's poller claims (and acks) the item
    let keyed = keyed(&emu);
    let mut poller = keyed
        .environments()
        .work()
        .poller(
            &env,
            PollerOptions::new()
                .environment_key(ENV_KEY)
                .auto_stop(false)
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .unwrap();
    let started = Instant::now();
    let second = poller.next().unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        (second.id.as_str(), second.session_id()),
        (first.id.as_str(), Some(session.id.as_str()))
    );
    assert_eq!(state(&work.retrieve(&env, &first.id).unwrap()), "active");
    // the first holder's next heartbeat fails the compare-and-set
    let lost = work
        .heartbeat(
            &env,
            &first.id,
            &WorkHeartbeatParams::default().expected_last_heartbeat(beat.last_heartbeat),
        )
        .unwrap_err();
    assert_eq!(lost.status(), Some(412));
}

#[test]
fn a_message_after_idle_queues_new_work_but_not_while_an_item_is_open() {
    let (_emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    let session = new_session(&client, &env, &agent);
    let work = client.environments().work();
    let send = || {
        client
            .sessions()
            .events()
            .send(
                &session.id,
                &EventSendParams::one(UserMessageEventParams::text("hi")),
            )
            .unwrap()
    };
    send(); // the session's item is still queued: no second one
    assert_eq!(work.stats(&env).unwrap().depth, 1);
    let item = poll(&client, &env).unwrap();
    work.ack(&env, &item.id).unwrap();
    work.stop(&env, &item.id, &WorkStopParams::new().force(true))
        .unwrap();
    assert_eq!(work.stats(&env).unwrap().depth, 0);
    send();
    let next = poll(&client, &env).expect("a new item for the message");
    assert_ne!(next.id, item.id);
    assert_eq!(next.data.id, session.id);
}

#[test]
fn a_graceful_stop_is_stopping_then_stopped_and_a_message_then_queues_work() {
    let (_emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    let session = new_session(&client, &env, &agent);
    let work = client.environments().work();
    let item = poll(&client, &env).unwrap();
    work.ack(&env, &item.id).unwrap();
    work.stop(&env, &item.id, &WorkStopParams::new()).unwrap();
    let stopping = work.retrieve(&env, &item.id).unwrap();
    assert_eq!(state(&stopping), "stopping");
    let deadline = Instant::now() + Duration::from_secs(30);
    while state(&work.retrieve(&env, &item.id).unwrap()) != "stopped" {
        assert!(Instant::now() < deadline, "the graceful stop never ended");
        std::thread::sleep(Duration::from_millis(100));
    }
    client
        .sessions()
        .events()
        .send(
            &session.id,
            &EventSendParams::one(UserMessageEventParams::text("again")),
        )
        .unwrap();
    assert_ne!(poll(&client, &env).unwrap().id, item.id);
}

#[test]
fn an_unacknowledged_item_is_reclaimed_after_reclaim_older_than_ms_and_bad_bounds_are_400() {
    let (_emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    new_session(&client, &env, &agent);
    let work = client.environments().work();
    let first = poll(&client, &env).unwrap();
    // not acknowledged: with the default (5 s) nobody else gets it at once
    assert!(work
        .poll(&env, &WorkPollParams::default().block_ms(10))
        .unwrap()
        .is_none());
    let params = WorkPollParams::default()
        .block_ms(999)
        .reclaim_older_than_ms(50);
    let deadline = Instant::now() + Duration::from_secs(30);
    let again = loop {
        if let Some(w) = work.poll(&env, &params).unwrap() {
            break w;
        }
        assert!(Instant::now() < deadline, "never reclaimed");
    };
    assert_eq!(again.id, first.id);
    assert_ne!(again.secret, first.secret);
    for bad in [0, 1000] {
        let e = work
            .poll(&env, &WorkPollParams::default().block_ms(bad))
            .unwrap_err();
        assert_eq!(e.status(), Some(400), "block_ms {bad}");
    }
}

#[test]
fn polls_answered_529_are_retried_by_the_poller() {
    let (emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    let session = new_session(&client, &env, &agent);
    emu.set_faults(Faults {
        fail_polls: 2,
        ..Faults::default()
    });
    let direct = client
        .environments()
        .work()
        .poll_with(
            &env,
            &WorkPollParams::default(),
            &managed_agents::RequestOptions::new().max_retries(0),
        )
        .unwrap_err();
    assert_eq!(direct.status(), Some(529));
    let mut poller = keyed(&emu)
        .environments()
        .work()
        .poller(
            &env,
            PollerOptions::new()
                .environment_key(ENV_KEY)
                .backoff(Duration::from_millis(10), Duration::from_millis(50)),
        )
        .unwrap();
    let item = poller.next().unwrap().unwrap();
    assert_eq!(item.session_id(), Some(session.id.as_str()));
}

/// Answers every unanswered `agent.tool_use` of the session with the toolset until the
/// session is idle with `end_turn`; the events seen.
fn serve(client: &Client, session: &str, tools: &AgentToolset) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "the session did not finish");
        let page = client
            .sessions()
            .events()
            .list(session, &SessionsEventListParams::default().limit(1000))
            .unwrap();
        let events: Vec<Value> = page
            .data
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        let answered: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "user.tool_result")
            .map(|e| &e["tool_use_id"])
            .collect();
        let mut posted = false;
        for e in events.iter().filter(|e| e["type"] == "agent.tool_use") {
            if answered.contains(&&e["id"]) {
                continue;
            }
            let name = e["name"].as_str().unwrap();
            let input = e["input"].as_object().unwrap();
            let result = tools.call(name, input, Deadline::after(Duration::from_secs(30)));
            client
                .sessions()
                .events()
                .send(
                    session,
                    &EventSendParams::one(result.into_event(e["id"].as_str().unwrap())),
                )
                .unwrap();
            posted = true;
        }
        let done = events.last().is_some_and(|e| {
            e["type"] == "session.status_idle" && e["stop_reason"]["type"] == "end_turn"
        });
        if done && !posted {
            return events;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_environment_worker_runs_a_scripted_session_that_writes_then_reads() {
    let (emu, client) = setup();
    let (env, agent) = self_hosted(&client);
    emu.set_script(
        Script::new()
            .agent_tool(
                "write",
                json!({"file_path": "notes/hello.txt", "content": "hello from the agent\n"}),
            )
            .agent_tool("read", json!({"file_path": "notes/hello.txt"}))
            .say("done"),
    );
    let workdir = tempdir();
    let session = new_session(&client, &env, &agent);
    client
        .sessions()
        .events()
        .send(
            &session.id,
            &EventSendParams::one(UserMessageEventParams::text("write and read")),
        )
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new((
        Vec::new(),
        workdir.path().to_path_buf(),
    )));
    let worker = client
        .environments()
        .work()
        .worker()
        .environment_id(env.clone())
        .environment_key(ENV_KEY)
        .workdir(workdir.path())
        .on_session({
            let seen = seen.clone();
            move |ctx| {
                let tools = AgentToolset::new(AgentToolContext::new(ctx.workdir()))
                    .map_err(|e| managed_agents::Error::connection(e.to_string()))?;
                let events = serve(ctx.client(), &ctx.session().id, &tools);
                *seen.lock().unwrap() = (events, ctx.workdir().to_path_buf());
                ctx.worker_stop_signal().set();
                Ok(())
            }
        });
    let stats = worker.run().unwrap();
    assert_eq!((stats.claimed, stats.ran), (1, 1));
    let (events, item_dir) = seen.lock().unwrap().clone();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    let uses = kinds.iter().filter(|k| **k == "agent.tool_use").count();
    let results: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "user.tool_result")
        .collect();
    assert_eq!((uses, results.len()), (2, 2), "{kinds:?}");
    assert!(results.iter().all(|r| r["is_error"] != true), "{results:?}");
    assert!(
        results[1]["content"]
            .to_string()
            .contains("hello from the agent"),
        "{results:?}"
    );
    assert_eq!(kinds.last(), Some(&"session.status_idle"));
    let on_disk = std::fs::read_to_string(item_dir.join("notes/hello.txt")).unwrap();
    assert_eq!(on_disk, "hello from the agent\n");
    // the worker stopped the item
    let items = client
        .environments()
        .work()
        .list(&env, &WorkListParams::default())
        .unwrap();
    assert_eq!(items.data.len(), 1);
    assert_eq!(state(&items.data[0]), "stopped");
    assert_eq!(items.data[0].data.id, session.id);
}
