//! What the emulator sends to a webhook endpoint, received by a server on loopback and
//! verified with `webhooks::unwrap`: a session's lifecycle in order, the objects of every
//! kind, the subscribed kinds only. How deliveries fail and are tried again is in `delivery`,
//! the standalone emulators' flags in `standalone`; the helpers here serve all three.

use super::SECRET;
pub use crate::support::emulated::client;
use crate::support::emulated::{self, cloud_env_and_agent};
use crate::support::{self, Recorded, TestServer};
use managed_agents::runner::{Outcome, StopReason};
use managed_agents::types::*;
use managed_agents::webhooks::{self, WebhookEvent, WebhookEventData};
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Script, WebhookEndpoint};
use std::time::{Duration, Instant};

pub fn setup(
    endpoint: impl FnOnce(WebhookEndpoint) -> WebhookEndpoint,
    url: &str,
) -> (Emulator, Client) {
    let (emu, client) = emulated::setup();
    let e = WebhookEndpoint::new(&format!("{url}/hooks"), SECRET)
        .unwrap()
        .retry_backoff(Duration::from_millis(20));
    emu.set_webhook(endpoint(e));
    (emu, client)
}

/// A receiver that answers each delivery (by its index) with `status`.
pub fn receiver(status: impl Fn(usize) -> u16 + Send + Sync + 'static) -> TestServer {
    TestServer::start(move |i, _, conn| support::respond(conn, status(i), &[], b""))
}

/// The first `n` deliveries, waiting (generously) for them to arrive.
pub fn wait_for(server: &TestServer, n: usize) -> Vec<Recorded> {
    let since = Instant::now();
    while server.count() < n {
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "{n} deliveries expected, {} came: {:?}",
            server.count(),
            kinds(&server.requests.lock().unwrap())
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.requests.lock().unwrap()[..n].to_vec()
}

/// Each delivery verified with the secret, as a receiver does.
pub fn verified(requests: &[Recorded]) -> Vec<WebhookEvent> {
    requests
        .iter()
        .map(|r| {
            assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/hooks"));
            assert_eq!(r.header("content-type"), Some("application/json"));
            let event = webhooks::unwrap(&r.body, &r.headers, SECRET)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)));
            assert_eq!(r.header("webhook-id"), Some(event.id.as_str()));
            event
        })
        .collect()
}

/// That no delivery beyond the first `n` comes, a while after they did.
pub fn no_more(server: &TestServer, n: usize) {
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.count(),
        n,
        "nothing more: {:?}",
        kinds(&server.requests.lock().unwrap())
    );
}

/// Sends `text` to the session and runs it until it is idle.
pub fn run_idle(c: &Client, session: &str, text: &str) -> Outcome {
    c.run(session)
        .message(text)
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap()
}

pub fn kinds(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .map(|r| match webhooks::parse_unverified(&r.body) {
            Ok(e) => format!(
                "{} {}",
                e.data.tag().unwrap_or("?"),
                e.data.id().unwrap_or("?")
            ),
            Err(e) => e.to_string(),
        })
        .collect()
}

#[test]
fn a_sessions_lifecycle_arrives_in_order_signed() {
    let server = receiver(|_| 204);
    let (emu, c) = setup(|e| e, &server.url);
    emu.set_script(Script::new().say("hello"));
    let (env, agent) = cloud_env_and_agent(&c);
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id.as_str()))
        .unwrap();
    let run = |text: &str| run_idle(&c, &s.id, text);
    assert_eq!(run("hi").text(), "hello");
    // the idle event's time is the stream's
    let listed = c
        .sessions()
        .events()
        .list(&s.id, &Default::default())
        .unwrap();
    let idle = listed
        .data
        .iter()
        .find(|e| e.tag() == Some("session.status_idle"))
        .expect("an idle event");
    let idle_at = idle.processed_at().map(str::to_string);
    emu.set_script(Script::new().terminate());
    assert_eq!(run("bye").stop_reason, Some(StopReason::Terminated));
    c.sessions().archive(&s.id).unwrap();
    c.sessions().delete(&s.id).unwrap();

    let events = verified(&wait_for(&server, 9));
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.data.tag().unwrap_or("?"), e.data.id().unwrap_or("?")))
        .collect();
    let sid = s.id.as_str();
    assert_eq!(
        got,
        [
            ("environment.created", env.id.as_str()),
            ("agent.created", agent.id.as_str()),
            ("session.created", sid),
            ("session.status_run_started", sid),
            ("session.status_idled", sid),
            ("session.status_run_started", sid),
            ("session.status_terminated", sid),
            ("session.archived", sid),
            ("session.deleted", sid),
        ]
    );
    // the thin envelope: its own id, the time of the change, the same organization throughout
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "every event has its own id");
    assert!(events
        .windows(2)
        .all(|w| w[0].created_at <= w[1].created_at));
    assert_eq!(events[2].created_at, s.created_at);
    // the idle event's time is the stream's
    assert_eq!(Some(&events[4].created_at), idle_at.as_ref());
    match (&events[3].data, &events[4].data) {
        (WebhookEventData::SessionStatusRunStarted(a), WebhookEventData::SessionStatusIdled(b)) => {
            assert!(!a.organization_id.is_empty() && !a.workspace_id.is_empty());
            assert_eq!(
                (&a.organization_id, &a.workspace_id),
                (&b.organization_id, &b.workspace_id)
            );
        }
        other => panic!("{other:?}"),
    }
    no_more(&server, 9);
    drop(emu);
}

#[test]
fn objects_of_every_kind_are_created_updated_archived_and_deleted() {
    let server = receiver(|_| 200);
    let (_emu, c) = setup(|e| e, &server.url);
    let (env, agent) = cloud_env_and_agent(&c);
    c.environments()
        .update(&env.id, &EnvironmentUpdateParams::new().name("e2"))
        .unwrap();
    c.agents()
        .update(&agent.id, &AgentUpdateParams::new().system("v2"))
        .unwrap();
    c.agents().archive(&agent.id).unwrap();
    let vault = c.vaults().create(&VaultCreateParams::new("tools")).unwrap();
    let cred = c
        .vaults()
        .credentials()
        .create(
            &vault.id,
            &CredentialCreateParams::new(StaticBearerCreateParams::new(
                "https://mcp.example.com/sse",
                "secret",
            )),
        )
        .unwrap();
    c.vaults()
        .credentials()
        .archive(&vault.id, &cred.id)
        .unwrap();
    c.vaults()
        .credentials()
        .delete(&vault.id, &cred.id)
        .unwrap();
    c.vaults().archive(&vault.id).unwrap();
    c.vaults().delete(&vault.id).unwrap();
    let store = c
        .memory_stores()
        .create(&MemoryStoreCreateParams::new("notes"))
        .unwrap();
    c.memory_stores().archive(&store.id).unwrap();
    c.memory_stores().delete(&store.id).unwrap();
    c.environments().archive(&env.id).unwrap();
    c.environments().delete(&env.id).unwrap();
    // a request that fails changes nothing, and sends nothing
    assert!(c.environments().archive(&env.id).is_err());

    let events = verified(&wait_for(&server, 16));
    let got: Vec<&str> = events.iter().map(|e| e.data.tag().unwrap_or("?")).collect();
    assert_eq!(
        got,
        [
            "environment.created",
            "agent.created",
            "environment.updated",
            "agent.updated",
            "agent.archived",
            "vault.created",
            "vault_credential.created",
            "vault_credential.archived",
            "vault_credential.deleted",
            "vault.archived",
            "vault.deleted",
            "memory_store.created",
            "memory_store.archived",
            "memory_store.deleted",
            "environment.archived",
            "environment.deleted",
        ]
    );
    no_more(&server, 16);
    for e in &events {
        if let WebhookEventData::VaultCredentialCreated(d) = &e.data {
            assert_eq!(
                (d.id.as_str(), d.vault_id.as_str()),
                (cred.id.as_str(), vault.id.as_str())
            );
        }
    }
}

#[test]
fn a_deployment_sends_its_pauses() {
    let server = receiver(|_| 200);
    let (_emu, c) = setup(
        |e| {
            e.event_types([
                "deployment.paused",
                "deployment.unpaused",
                "deployment.updated",
            ])
        },
        &server.url,
    );
    let (env, agent) = cloud_env_and_agent(&c);
    let params = DeploymentCreateParams::new(
        "nightly",
        agent.id.as_str(),
        env.id.as_str(),
        vec![UserMessageEventParams::text("report").into()],
    );
    let d = c.deployments().create(&params).unwrap();
    c.deployments().pause(&d.id).unwrap();
    c.deployments().unpause(&d.id).unwrap();
    c.deployments()
        .update(&d.id, &DeploymentUpdateParams::new().name("nightly-2"))
        .unwrap();
    let events = verified(&wait_for(&server, 3));
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.data.tag().unwrap_or("?"), e.data.id().unwrap_or("?")))
        .collect();
    assert_eq!(
        got,
        [
            ("deployment.paused", d.id.as_str()),
            ("deployment.unpaused", d.id.as_str()),
            ("deployment.updated", d.id.as_str()),
        ]
    );
}
#[test]
fn only_the_subscribed_kinds_are_sent() {
    let server = receiver(|_| 204);
    let (emu, c) = setup(|e| e.event_types(["session.status_idled"]), &server.url);
    emu.set_script(Script::new().say("hello"));
    let (env, agent) = cloud_env_and_agent(&c);
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id.as_str()))
        .unwrap();
    run_idle(&c, &s.id, "hi");
    let events = verified(&wait_for(&server, 1));
    assert!(matches!(&events[0].data, WebhookEventData::SessionStatusIdled(d) if d.id == s.id));
    c.sessions().archive(&s.id).unwrap();
    no_more(&server, 1);
    // and none once the endpoint is removed
    emu.remove_webhook();
    emu.set_script(Script::new().say("again"));
    run_idle(&c, &s.id, "hi");
    no_more(&server, 1);
}

#[test]
fn a_child_threads_events_name_the_session_once_each() {
    let server = receiver(|_| 204);
    let (emu, c) = setup(
        |e| {
            e.event_types([
                "session.thread_created",
                "session.thread_idled",
                "session.status_idled",
            ])
        },
        &server.url,
    );
    let (env, researcher) = cloud_env_and_agent(&c);
    let lead = c
        .agents()
        .create(
            &AgentCreateParams::new("Lead", "claude-opus-4-5").multiagent(
                MultiagentCoordinatorParams::new(vec![researcher.id.as_str().into()]),
            ),
        )
        .unwrap();
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(&lead, env.id.as_str()))
        .unwrap();
    emu.set_script(
        Script::new()
            .delegate("A", "Find it.", Script::new().say("Found."))
            .say("Done."),
    );
    run_idle(&c, &s.id, "go");
    let threads = c
        .sessions()
        .threads()
        .list(&s.id, &ThreadListParams::default())
        .unwrap();
    let (primary, child) = (&threads.data[0].id, &threads.data[1].id);
    let events = verified(&wait_for(&server, 4));
    no_more(&server, 4);
    let got: Vec<(&str, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            let thread = match &e.data {
                WebhookEventData::SessionThreadCreated(d) => Some(d.session_thread_id.as_str()),
                WebhookEventData::SessionThreadIdled(d) => Some(d.session_thread_id.as_str()),
                _ => None,
            };
            (
                e.data.tag().unwrap_or("?"),
                e.data.id().unwrap_or("?"),
                thread,
            )
        })
        .collect();
    let sid = s.id.as_str();
    assert_eq!(
        got,
        [
            ("session.thread_created", sid, Some(child.as_str())),
            ("session.thread_idled", sid, Some(child.as_str())),
            ("session.thread_idled", sid, Some(primary.as_str())),
            ("session.status_idled", sid, None),
        ]
    );
}

/// Every kind of event the emulator sends reads as a known kind of the library's
/// `WebhookEvent`, and a kind that needs more than `type` and `id` does not read without it.
#[test]
fn every_kind_the_emulator_sends_is_a_known_kind_of_the_spec() {
    let known = |e: &serde_json::Value| {
        serde_json::from_value::<WebhookEvent>(e.clone())
            .is_ok_and(|e| !matches!(e.data, WebhookEventData::Unknown(_)))
    };
    let samples = managed_agents_emulator::__webhook_samples();
    assert_eq!(samples.len(), 35);
    for (event, bare) in samples {
        assert!(known(&event), "{event}");
        if let Some(bare) = bare {
            assert!(!known(&bare), "{bare}");
        }
    }
}
