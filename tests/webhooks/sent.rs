//! What the emulator sends to a webhook endpoint, received by a server on loopback and
//! verified with `webhooks::unwrap`: a session's lifecycle in order, the objects of every
//! kind, retries with the same `webhook-id`, the subscribed kinds only, a receiver that
//! never slows a request, and a sender that stops with the emulator.

use crate::support::{self, Recorded, TestServer};
use crate::SECRET;
use managed_agents::emulator::{Emulator, Script, WebhookEndpoint};
use managed_agents::runner::StopReason;
use managed_agents::types::*;
use managed_agents::webhooks::{self, WebhookError, WebhookEvent, WebhookEventData};
use managed_agents::Client;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

fn setup(
    endpoint: impl FnOnce(WebhookEndpoint) -> WebhookEndpoint,
    url: &str,
) -> (Emulator, Client) {
    let emu = Emulator::start().unwrap();
    let e = WebhookEndpoint::new(&format!("{url}/hooks"), SECRET)
        .unwrap()
        .retry_backoff(Duration::from_millis(20));
    emu.set_webhook(endpoint(e));
    let client = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    (emu, client)
}

/// A receiver that answers each delivery (by its index) with `status`.
fn receiver(status: impl Fn(usize) -> u16 + Send + Sync + 'static) -> TestServer {
    TestServer::start(move |i, _, conn| support::respond(conn, status(i), &[], b""))
}

/// The first `n` deliveries, waiting (generously) for them to arrive.
fn wait_for(server: &TestServer, n: usize) -> Vec<Recorded> {
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
fn verified(requests: &[Recorded]) -> Vec<WebhookEvent> {
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

fn kinds(requests: &[Recorded]) -> Vec<String> {
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

fn env_and_agent(c: &Client) -> (Environment, Agent) {
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let agent = c
        .agents()
        .create(&AgentCreateParams::new("A", "claude-opus-4-5"))
        .unwrap();
    (env, agent)
}

#[test]
fn a_sessions_lifecycle_arrives_in_order_signed() {
    let server = receiver(|_| 204);
    let (emu, c) = setup(|e| e, &server.url);
    emu.set_script(Script::new().say("hello"));
    let (env, agent) = env_and_agent(&c);
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id.as_str()))
        .unwrap();
    let run = |text: &str| {
        c.run(&s.id)
            .message(text)
            .deadline(Duration::from_secs(30))
            .until_idle()
            .unwrap()
    };
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
    drop(emu);
    assert_eq!(
        server.count(),
        9,
        "nothing more: {:?}",
        kinds(&server.requests.lock().unwrap())
    );
}

#[test]
fn objects_of_every_kind_are_created_updated_archived_and_deleted() {
    let server = receiver(|_| 200);
    let (_emu, c) = setup(|e| e, &server.url);
    let (env, agent) = env_and_agent(&c);
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
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.count(),
        16,
        "{:?}",
        kinds(&server.requests.lock().unwrap())
    );
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
    let (env, agent) = env_and_agent(&c);
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
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.count(), 3);
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
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.count(), 3);
}

#[test]
fn a_delivery_signed_with_another_secret_is_refused() {
    let server = receiver(|_| 204);
    let emu = Emulator::start().unwrap();
    let other = "whsec_c2VjcmV0IG9mIGFub3RoZXIgZW5kcG9pbnQ=";
    emu.set_webhook(WebhookEndpoint::new(&format!("{}/hooks", server.url), other).unwrap());
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .build()
        .unwrap();
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
fn only_the_subscribed_kinds_are_sent() {
    let server = receiver(|_| 204);
    let (emu, c) = setup(|e| e.event_types(["session.status_idled"]), &server.url);
    emu.set_script(Script::new().say("hello"));
    let (env, agent) = env_and_agent(&c);
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id.as_str()))
        .unwrap();
    c.run(&s.id)
        .message("hi")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    let events = verified(&wait_for(&server, 1));
    assert!(matches!(&events[0].data, WebhookEventData::SessionStatusIdled(d) if d.id == s.id));
    c.sessions().archive(&s.id).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.count(),
        1,
        "{:?}",
        kinds(&server.requests.lock().unwrap())
    );
    // and none once the endpoint is removed
    emu.remove_webhook();
    emu.set_script(Script::new().say("again"));
    c.run(&s.id)
        .message("hi")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.count(), 1);
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

// ---- the standalone emulators ----------------------------------------------------------

/// Starts a standalone emulator and reads its base URL off its first line.
fn standalone(mut cmd: std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting the emulator");
    let mut first = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let _ = out.read_line(&mut first);
    // keep reading, so that its later lines have somewhere to go
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    match first.trim().strip_prefix("emulator listening on ") {
        Some(url) => (child, url.to_string()),
        None => {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "first line {first:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_managed-agents"));
    cmd.arg("emulator")
        .env_remove("ANTHROPIC_WEBHOOK_SIGNING_KEY");
    cmd
}

fn example() -> std::process::Command {
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let mut cmd = std::process::Command::new(
        examples.join(format!("emulator{}", std::env::consts::EXE_SUFFIX)),
    );
    cmd.env_remove("ANTHROPIC_WEBHOOK_SIGNING_KEY");
    cmd
}

#[test]
fn the_standalone_emulators_send_to_the_endpoint_of_their_flags() {
    for (name, mut cmd) in [("cli", cli()), ("example", example())] {
        let server = receiver(|_| 204);
        let hooks = format!("{}/hooks", server.url);
        if name == "cli" {
            cmd.args(["--webhook-url", &hooks, "--webhook-secret", SECRET]);
        } else {
            // the secret from the environment
            cmd.args(["--webhook-url", &hooks])
                .env("ANTHROPIC_WEBHOOK_SIGNING_KEY", SECRET);
        }
        let (mut child, url) = standalone(cmd);
        let c = Client::builder()
            .api_key("k")
            .base_url(url)
            .build()
            .unwrap();
        let env = c
            .environments()
            .create(&EnvironmentCreateParams::cloud("e"));
        let got = env.map(|env| (env, verified(&wait_for(&server, 1))));
        let _ = child.kill();
        let _ = child.wait();
        let (env, events) = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            matches!(&events[0].data, WebhookEventData::EnvironmentCreated(d) if d.id == env.id),
            "{name}: {events:?}"
        );
    }
}

#[test]
fn the_standalone_emulators_refuse_a_bad_endpoint_and_say_how_in_their_help() {
    for (name, mut help) in [("cli", cli()), ("example", example())] {
        let out = help.arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for flag in [
            "--webhook-url",
            "--webhook-secret",
            "ANTHROPIC_WEBHOOK_SIGNING_KEY",
        ] {
            assert!(
                text.contains(flag),
                "{name} --help says nothing of {flag}:\n{text}"
            );
        }
    }
    let refused = [
        (
            cli(),
            vec![
                "--webhook-url",
                "http://127.0.0.1:9/h",
                "--webhook-secret",
                "not*base64",
            ],
            "webhook secret",
        ),
        (
            cli(),
            vec!["--webhook-url", "http://127.0.0.1:9/h"],
            "ANTHROPIC_WEBHOOK_SIGNING_KEY",
        ),
        (
            cli(),
            vec!["--webhook-url", "ftp://x/h", "--webhook-secret", SECRET],
            "webhook URL",
        ),
        (
            example(),
            vec!["--webhook-url", "http://127.0.0.1:9/h"],
            "ANTHROPIC_WEBHOOK_SIGNING_KEY",
        ),
        (example(), vec!["--webhook-secret", SECRET], "--webhook-url"),
        (
            example(),
            vec!["--webhook-url", "ftp://x/h", "--webhook-secret", SECRET],
            "webhook URL",
        ),
    ];
    for (mut cmd, args, says) in refused {
        let out = cmd.args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {} {err}",
            out.status
        );
    }
}
