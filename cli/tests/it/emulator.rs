//! `managed-agents emulator` with `--webhook-url` and `--webhook-secret` (or the secret from
//! the environment): it sends signed events to the endpoint, refuses a bad one, and its help
//! says how.

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
