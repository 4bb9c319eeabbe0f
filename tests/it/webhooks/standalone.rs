//! The standalone emulator (the `emulator` example) with `--webhook-url` and
//! `--webhook-secret`, and the `webhooks` example receiving what it sends. The same flags of
//! `managed-agents emulator` are tested in the CLI's suite.

use super::sent::{client, receiver, verified, wait_for};
use super::SECRET;
use crate::support::example_exe;
use managed_agents::types::*;
use managed_agents::webhooks::WebhookEventData;
use std::time::Duration;

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

fn example() -> std::process::Command {
    let mut cmd = std::process::Command::new(example_exe("emulator"));
    cmd.env_remove("ANTHROPIC_WEBHOOK_SIGNING_KEY");
    cmd
}

#[test]
fn the_standalone_emulators_send_to_the_endpoint_of_their_flags() {
    for name in ["flag", "environment"] {
        let mut cmd = example();
        let server = receiver(|_| 204);
        let hooks = format!("{}/hooks", server.url);
        if name == "flag" {
            cmd.args(["--webhook-url", &hooks, "--webhook-secret", SECRET]);
        } else {
            // the secret from the environment
            cmd.args(["--webhook-url", &hooks])
                .env("ANTHROPIC_WEBHOOK_SIGNING_KEY", SECRET);
        }
        let (mut child, url) = standalone(cmd);
        let c = client(&url);
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
    {
        let name = "example";
        let out = example().arg("--help").output().unwrap();
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
            example(),
            vec![
                "--webhook-url",
                "http://127.0.0.1:9/h",
                "--webhook-secret",
                "not*base64",
            ],
            "webhook secret",
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

#[test]
fn the_webhooks_example_receives_what_the_standalone_emulator_sends() {
    use std::io::BufRead;
    let mut listen = std::process::Command::new(example_exe("webhooks"))
        .args(["listen", "0"])
        .env("ANTHROPIC_WEBHOOK_SIGNING_KEY", SECRET)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starting the webhooks example");
    // its lines, read on a thread so that a missing one fails the test instead of hanging it
    let (tx, lines) = std::sync::mpsc::channel();
    let out = std::io::BufReader::new(listen.stdout.take().unwrap());
    std::thread::spawn(move || {
        out.lines()
            .map_while(|l| l.ok())
            .try_for_each(|l| tx.send(l))
    });
    let next = || lines.recv_timeout(Duration::from_secs(30));
    let first = next().unwrap_or_default();
    let receiver = first
        .strip_prefix("receiving webhooks at ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_string();
    let (mut emu, url) = standalone({
        let mut cmd = example();
        cmd.args(["--webhook-url", &format!("{receiver}hooks")])
            .args(["--webhook-secret", SECRET]);
        cmd
    });
    let c = client(&url);
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .map(|env| (env, next()));
    let _ = (emu.kill(), listen.kill());
    let _ = (emu.wait(), listen.wait());
    let (env, line) = env.unwrap();
    let line = line.expect("a line from the receiver");
    assert!(line.starts_with("verified event_"), "{line}");
    assert!(
        line.ends_with(&format!("environment.created {}", env.id)),
        "{line}"
    );
}
