//! SIGTERM and SIGHUP end `run` and `worker` as Ctrl-C does: the tools' process groups are
//! killed and the exit status is 128 + the signal's number; the session of an interrupted or
//! timed-out `run` is sent `user.interrupt` (and archived with `--on-deadline archive`), its id
//! printed; a worker stopped mid-tool interrupts the session and counts the item failed.

use crate::support::{events, gone_soon, lingering, setup, signal, temp, wait_for_pid, Temp, BIN};
use managed_agents::{types::*, Client};
use managed_agents_emulator::{Emulator, Script, Step};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The session's events once it is idle again (its turn ended), within a minute.
fn idle_events(c: &Client, session: &str) -> Vec<Value> {
    let t = Instant::now();
    loop {
        let evs = events(c, session);
        let status = c.sessions().retrieve(session).unwrap().status;
        if status == SessionStatus::Idle {
            return evs;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the session never went idle: {status:?} {evs:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn only_session(c: &Client) -> String {
    let sessions = c.sessions().list(&Default::default()).unwrap();
    assert_eq!(sessions.data.len(), 1);
    sessions.data[0].id.clone()
}

fn spawn_run(emu: &Emulator, agent: &str, env: &str, extra: &[&str]) -> Child {
    crate::support::command(emu)
        .args(["run", "--agent", agent, "--environment", env])
        .args(["--message", "go"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigterm_and_sighup_end_a_run_like_ctrl_c_and_interrupt_its_session() {
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let (emu, c, agent, env) = setup(true);
        emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
        let dir = temp(&format!("sig-{sig}"));
        let pidfile = dir.join("tool.pid");
        let tool = format!("shout={}", lingering(&pidfile));
        let child = spawn_run(&emu, &agent, &env, &["--tool", &tool]);
        let pid = wait_for_pid(&pidfile);
        signal(&child, sig);
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "SIG{sig}: {stderr}");
        assert!(
            gone_soon(pid),
            "SIG{sig}: the tool's child outlived the run"
        );
        let session = only_session(&c);
        assert!(
            stderr.contains(&session),
            "SIG{sig}: no session id: {stderr}"
        );
        let evs = idle_events(&c, &session);
        assert!(
            evs.iter().any(|e| e["type"] == "user.interrupt"),
            "SIG{sig}: the session was not interrupted: {evs:?}"
        );
    }
}

#[test]
fn a_run_past_its_deadline_interrupts_its_session_or_archives_it() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Pause(Duration::from_secs(300))));
    let o = spawn_run(&emu, &agent, &env, &["--deadline", "2s"])
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{stderr}");
    let session = only_session(&c);
    assert!(stderr.contains(&session), "no session id: {stderr}");
    let evs = idle_events(&c, &session);
    assert!(
        evs.iter().any(|e| e["type"] == "user.interrupt"),
        "not interrupted: {evs:?}"
    );
    assert!(c
        .sessions()
        .retrieve(&session)
        .unwrap()
        .archived_at
        .is_none());

    // archived
    c.sessions().archive(&session).unwrap();
    let o = spawn_run(
        &emu,
        &agent,
        &env,
        &["--deadline", "2s", "--on-deadline", "archive"],
    )
    .wait_with_output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{stderr}");
    let all = c
        .sessions()
        .list(&SessionListParams::default().include_archived(true))
        .unwrap();
    let second = all
        .data
        .iter()
        .find(|s| s.id != session)
        .expect("a second session");
    assert!(stderr.contains(&second.id), "{stderr}");
    assert!(second.archived_at.is_some(), "not archived: {second:?}");
    assert!(events(&c, &second.id)
        .iter()
        .any(|e| e["type"] == "user.interrupt"));

    // a bad value is a usage error
    let o = spawn_run(&emu, &agent, &env, &["--on-deadline", "later"])
        .wait_with_output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// A worker (not `--once`) serving one item whose bash step runs a long command: the
/// worker, the session, bash's pid and the worker's folder (kept while it runs).
fn worker_mid_tool(emu: &Emulator, c: &Client, name: &str) -> (Child, String, i32, Temp) {
    let (env, agent) = crate::support::self_hosted(c);
    let dir = temp(name);
    let pidfile = dir.join("bash.pid");
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({ "command": lingering(&pidfile) }))
            .say("done"),
    );
    let session = crate::support::session_sent_go(c, &agent, env.as_str());
    let child = crate::support::worker(emu, &env)
        .arg("--workdir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = wait_for_pid(&pidfile);
    (child, session, pid, dir)
}

#[test]
fn a_worker_stopped_mid_tool_kills_it_interrupts_the_session_and_counts_it_failed() {
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let (emu, c) = crate::support::emulator();
        let (child, session, pid, _dir) = worker_mid_tool(&emu, &c, &format!("worker-{sig}"));
        signal(&child, sig);
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "SIG{sig}: {stderr}");
        assert!(gone_soon(pid), "SIG{sig}: bash's child outlived the worker");
        assert!(
            stderr.contains("1 items: 0 ran, 1 failed"),
            "SIG{sig}: {stderr}"
        );
        // the session does not wait for a result nobody will post
        let evs = idle_events(&c, &session);
        assert!(
            evs.iter().any(|e| e["type"] == "user.interrupt"),
            "SIG{sig}: {evs:?}"
        );
    }
}

#[test]
fn worker_and_run_help_list_the_signal_exit_codes() {
    for cmd in ["worker", "run"] {
        let o = Command::new(BIN).args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&o.stdout);
        for code in ["130", "143", "129"] {
            assert!(help.contains(code), "{cmd}: {code} missing: {help}");
        }
    }
}

#[test]
fn sigterm_ends_a_batch_with_its_tools() {
    for (sig, code) in [("TERM", 143), ("HUP", 129)] {
        let (emu, _c, agent, env) = setup(true);
        emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
        let dir = temp(&format!("batch-{sig}"));
        let pidfile = dir.join("tool.pid");
        let tasks = dir.join("tasks.jsonl");
        std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
        let out = dir.join("results.jsonl");
        let child = crate::support::command(&emu)
            .args(["batch", tasks.to_str().unwrap(), "--agent", &agent])
            .args(["--environment", &env, "--out", out.to_str().unwrap()])
            .args(["--tool", &format!("shout={}", lingering(&pidfile))])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = wait_for_pid(&pidfile);
        signal(&child, sig);
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "SIG{sig}: {stderr}");
        assert!(
            gone_soon(pid),
            "SIG{sig}: the tool's child outlived the batch"
        );
    }
}

#[test]
fn a_batch_task_past_its_deadline_interrupts_its_session() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Pause(Duration::from_secs(300))));
    let dir = temp("batch-deadline");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
    let out = dir.join("results.jsonl");
    let o = crate::support::command(&emu)
        .args(["batch", tasks.to_str().unwrap(), "--agent", &agent])
        .args(["--environment", &env, "--out", out.to_str().unwrap()])
        .args(["--deadline", "2s"])
        .output()
        .unwrap();
    // the task failed: not a success
    assert_ne!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let session = only_session(&c);
    let evs = idle_events(&c, &session);
    assert!(
        evs.iter().any(|e| e["type"] == "user.interrupt"),
        "not interrupted: {evs:?}"
    );
}

#[test]
fn a_second_signal_quits_the_worker_without_leaving_bash_running() {
    let (emu, c) = crate::support::emulator();
    let (child, _session, pid, _dir) = worker_mid_tool(&emu, &c, "worker-twice");
    signal(&child, "TERM");
    signal(&child, "TERM");
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("again: quitting now"), "{stderr}");
    assert!(gone_soon(pid), "bash's child outlived the worker");
}
