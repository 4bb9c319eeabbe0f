//! `managed-agents emulator` with `--webhook-url` and `--webhook-secret` (or the secret from
//! the environment): it sends signed events to the endpoint, refuses a bad one, and its help
//! says how. With `--cassette FILE --speed X`: it replays the recorded session, and refuses a
//! bad cassette naming its line.

use crate::support::BIN;
use crate::support::{self, TestServer};
use managed_agents::types::*;
use managed_agents::webhooks::{self, WebhookEventData};
use managed_agents::Client;
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("emulator")
        .env_remove("ANTHROPIC_WEBHOOK_SIGNING_KEY");
    cmd
}

/// Starts the emulator and reads its base URL off its first line.
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

#[test]
fn the_emulator_command_sends_to_the_endpoint_of_its_flags() {
    for from_environment in [false, true] {
        let server = TestServer::start(|_, _, conn| support::respond(conn, 204, &[], b""));
        let hooks = format!("{}/hooks", server.url);
        let mut cmd = cli();
        cmd.args(["--webhook-url", &hooks]);
        if from_environment {
            cmd.env("ANTHROPIC_WEBHOOK_SIGNING_KEY", SECRET);
        } else {
            cmd.args(["--webhook-secret", SECRET]);
        }
        let (mut child, url) = standalone(cmd);
        let client = Client::builder()
            .api_key("k")
            .base_url(&url)
            .build()
            .unwrap();
        let env = client
            .environments()
            .create(&EnvironmentCreateParams::cloud("e"));
        let since = Instant::now();
        while server.count() < 1 && since.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        let env = env.unwrap();
        let delivered = server.requests.lock().unwrap().clone();
        assert!(!delivered.is_empty(), "nothing delivered");
        let headers: Vec<(String, String)> = delivered[0]
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let event = webhooks::unwrap(&delivered[0].body, &headers, SECRET).unwrap();
        assert!(
            matches!(&event.data, WebhookEventData::EnvironmentCreated(d) if d.id == env.id),
            "{event:?}"
        );
    }
}

#[test]
fn the_emulator_command_refuses_a_bad_endpoint_and_says_how_in_its_help() {
    let out = cli().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--webhook-url",
        "--webhook-secret",
        "ANTHROPIC_WEBHOOK_SIGNING_KEY",
    ] {
        assert!(
            text.contains(flag),
            "--help says nothing of {flag}:\n{text}"
        );
    }
    let refused = [
        (
            vec![
                "--webhook-url",
                "http://127.0.0.1:9/h",
                "--webhook-secret",
                "not*base64",
            ],
            "webhook secret",
        ),
        (
            vec!["--webhook-url", "http://127.0.0.1:9/h"],
            "ANTHROPIC_WEBHOOK_SIGNING_KEY",
        ),
        (
            vec!["--webhook-url", "ftp://x/h", "--webhook-secret", SECRET],
            "webhook URL",
        ),
    ];
    for (args, says) in refused {
        let out = cli().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {} {err}",
            out.status
        );
    }
}

/// A cassette of one recorded `agents.retrieve`, of an agent made by the library's emulator.
fn cassette() -> (String, String) {
    let emu = managed_agents_emulator::Emulator::start().unwrap();
    let client = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Recorded", "claude-opus-4-5"))
        .unwrap();
    let header = serde_json::json!({"kind": "header", "format": "managed-agents-cassette",
        "version": 1, "client": "t", "base_url": emu.base_url()});
    let exchange = serde_json::json!({"kind": "exchange", "id": 1,
        "operation": "agents.retrieve", "method": "GET", "path_template": "/v1/agents/{agent_id}",
        "path": format!("/v1/agents/{}", agent.id), "query": [], "request_body": null,
        "status": 200, "response_headers": {"content-type": "application/json"},
        "body": agent, "at_ms": 1.0, "elapsed_ms": 0.5});
    (format!("{header}\n{exchange}\n"), agent.id)
}

#[test]
fn the_emulator_command_replays_a_cassette_and_names_the_line_of_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.cassette.jsonl");
    let (text, id) = cassette();
    std::fs::write(&file, &text).unwrap();
    let mut cmd = cli();
    cmd.args(["--cassette", file.to_str().unwrap(), "--speed", "0"]);
    let (mut child, url) = standalone(cmd);
    let client = Client::builder()
        .api_key("k")
        .base_url(&url)
        .build()
        .unwrap();
    let agent = client.agents().retrieve(&id, &Default::default());
    // a request the cassette does not have
    let other = client
        .agents()
        .retrieve("agent_011BBBBBBBBBB2", &Default::default());
    let _ = child.kill();
    let _ = child.wait();
    let agent = agent.unwrap();
    assert_eq!(agent.name, "Recorded");
    let other = other.unwrap_err();
    assert_eq!(other.status(), Some(400), "{other}");
    assert!(
        other.to_string().contains("the closest is exchange 1"),
        "{other}"
    );

    // a cassette cut off in its second line
    std::fs::write(&file, &text[..text.len() - 20]).unwrap();
    let out = cli()
        .args(["--cassette", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cassette line 2"), "{err}");
    // --speed needs a cassette
    let out = cli().args(["--speed", "2"]).output().unwrap();
    assert!(!out.status.success());
}
