//! The command line as a shell user meets it: help everywhere, suggestions, completions,
//! durations, logging without the key, quiet broken pipes, exit codes, escaped server text,
//! `--follow` without duplicates.

use crate::support::TestServer;
use crate::support::{cli, run, setup, text, BIN};
use managed_agents::types::*;
use managed_agents_emulator::{Emulator, Faults, Script, Step};
use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every request answered after `d` (set field by field: the type may gain fields).
#[allow(clippy::field_reassign_with_default)]
fn slow(d: Duration) -> Faults {
    let mut f = Faults::default();
    f.slow = Some(d);
    f
}

/// Every command path (`agents`, `agents list`, `sessions threads events`, ...) from the help.
fn commands(path: &[String]) -> Vec<Vec<String>> {
    let mut args = path.to_vec();
    args.push("--help".into());
    let o = Command::new(BIN).args(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
    let help = text(&o.stdout);
    assert!(help.contains("Usage: managed-agents"), "{args:?}: {help}");
    assert!(help.contains("Example"), "{args:?} has no example: {help}");
    let mut found = vec![path.to_vec()];
    let Some(section) = help.split("Commands:\n").nth(1) else {
        return found;
    };
    for line in section.lines().take_while(|l| l.starts_with("  ")) {
        let name = line.split_whitespace().next().unwrap().to_string();
        if name == "help" {
            continue;
        }
        let mut sub = path.to_vec();
        sub.push(name);
        found.extend(commands(&sub));
    }
    found
}

#[test]
fn help_on_every_command_lists_what_exists_once_with_examples() {
    let all = commands(&[]);
    assert!(all.len() > 60, "{} commands", all.len());
    let names: HashSet<String> = all.iter().map(|c| c.join(" ")).collect();
    assert_eq!(names.len(), all.len(), "a command is listed twice");
    for want in [
        "run",
        "batch",
        "agents versions",
        "sessions threads events",
        "sessions resources add",
        "vaults credentials create",
        "memory-stores memories list",
        "skills versions create",
        "deployments pause",
        "deployment-runs get",
        "emulator",
        "completions",
    ] {
        assert!(names.contains(want), "{want} missing");
    }
    assert!(!names.contains("agents delete"), "agents have no delete");
    // the groups and the long-running commands show examples
    for group in [
        "run", "batch", "agents", "sessions", "files", "skills", "emulator",
    ] {
        let o = Command::new(BIN).args([group, "--help"]).output().unwrap();
        assert!(text(&o.stdout).contains("Example"), "{group}");
    }
    let o = Command::new(BIN).args(["help", "batch"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("--parallel"));
    let o = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(
        text(&o.stdout).trim(),
        format!("managed-agents {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn typos_get_suggestions_and_extra_arguments_are_refused() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let o = cli(&emu, &["agnets", "list"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("agents"), "{}", text(&o.stderr));
    let o = cli(&emu, &["agents", "get", "agent_1", "extra"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("extra"));
    // after `--`, a value that looks like a flag is a value
    let o = cli(&emu, &["agents", "get", "--", "--agent_1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("404"), "{}", text(&o.stderr));
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let o = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = text(&o.stdout);
        assert!(
            script.contains("managed-agents") && script.contains("memory-stores"),
            "{shell}"
        );
    }
}

#[test]
fn absurd_durations_are_one_line_errors() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    for d in ["99999999999999999999h", "soon", "0s", "100000h"] {
        let o = cli(
            &emu,
            &[
                "run",
                "--agent",
                "a",
                "--environment",
                "e",
                "--message",
                "m",
                "--deadline",
                d,
            ],
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{d}: {err}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{d}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn verbose_logs_show_requests_and_never_the_key() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().say("hi"));
    let o = Command::new(BIN)
        .args([
            "-vv",
            "run",
            "--agent",
            &agent,
            "--environment",
            &env,
            "--message",
            "go",
        ])
        .env("ANTHROPIC_API_KEY", "sk-ant-very-secret")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("POST /v1/sessions"), "{err}");
    assert!(!err.contains("very-secret"), "{err}");
}

#[test]
fn a_closed_pipe_ends_quietly_even_when_following() {
    let (emu, c, _agent, _env) = setup(false);
    for i in 0..200 {
        c.agents()
            .create(&AgentCreateParams::new(format!("A{i}"), "claude-opus-4-5"))
            .unwrap();
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{BIN}' agents list | head -1 > /dev/null; echo ${{PIPESTATUS[0]}}"
        ))
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .output()
        .unwrap();
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "141");

    // `--follow | head -1`: ends once the reader is gone, even with nothing more to print
    let (emu2, c2, agent, env) = setup(false);
    emu2.set_script(Script::new().say("hi"));
    let s = c2
        .sessions()
        .create(&SessionCreateParams::new(agent.as_str(), env.as_str()))
        .unwrap();
    c2.run(&s.id).message("go").until_idle().unwrap();
    let mut child = Command::new(BIN)
        .args(["sessions", "events", &s.id, "--follow"])
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", emu2.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("user.message"), "{first}");
    // the reader is dropped here
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.and_then(|s| s.code()), Some(141), "still following");
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
    assert!(err.is_empty(), "{err}");
    drop(emu);
}

#[test]
fn a_closed_stderr_is_not_a_crash() {
    // stderr a pipe whose reader is gone
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(BIN)
        .args(["agents", "get", "agent_1"])
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_session_deleted_during_a_run_exits_3_and_creation_is_inside_the_deadline() {
    let (emu, c, agent, env) = setup(true);
    // the session waits for the tool's result: idle, so it can be deleted
    emu.set_script(
        Script::new()
            .call_tool("shout", serde_json::json!({}))
            .say("ok"),
    );
    let mut child = crate::support::command(&emu)
        .args(crate::support::run_args(
            &agent,
            &env,
            &["--deadline", "60s", "--tool", "shout=sleep 30"],
        ))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let id = loop {
        let waiting = c
            .sessions()
            .list(&Default::default())
            .unwrap()
            .data
            .into_iter()
            .find(|s| {
                serde_json::to_value(s).unwrap()["status"] == "idle"
                    && c.sessions()
                        .events()
                        .list(&s.id, &Default::default())
                        .unwrap()
                        .into_iter()
                        .any(|e| matches!(e, Ok(SessionEvent::AgentCustomToolUse(_))))
            });
        if let Some(s) = waiting {
            break s.id;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the tool was never called"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    c.sessions().delete(&id).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));

    // a server that takes 30 s to answer: the 1 s deadline covers creating the session
    emu.set_faults(slow(Duration::from_secs(30)));
    let t = Instant::now();
    let o = run(&emu, &agent, &env, &["--deadline", "1s"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(t.elapsed() < Duration::from_secs(20));
}

#[test]
fn server_error_text_is_printed_with_control_characters_escaped() {
    let server = TestServer::start(|_, _, conn| {
        let body = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad\\u001b[2J\\rthing\"}}";
        let _ = write!(
            conn,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let o = Command::new(BIN)
        .args(["agents", "get", "agent_1"])
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", &server.url)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
    assert!(err.contains("\\u{1b}[2J"), "{err:?}");
}

#[test]
fn follow_prints_each_event_once() {
    let (emu, c, agent, env) = setup(false);
    let mut script = Script::new();
    for i in 0..40 {
        script = script
            .say(format!("m{i}"))
            .step(Step::Pause(Duration::from_millis(50)));
    }
    emu.set_script(script);
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(agent.as_str(), env.as_str()))
        .unwrap();
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    // every request answered slowly: events keep coming while the history is read
    emu.set_faults(slow(Duration::from_millis(400)));
    let mut child = crate::support::command(&emu)
        .args(["sessions", "events", &s.id, "--follow"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = BufReader::new(child.stdout.take().unwrap());
    let mut ids = Vec::new();
    for line in reader.lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let done = v["content"][0]["text"] == "m39";
        ids.push(v["id"].as_str().unwrap().to_string());
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an event printed twice");
    assert!(ids.len() > 40, "{} events", ids.len());
}
