//! The runner's cancel signal and its end when there is nothing to do, on the emulator: a run
//! on a session whose turn is over returns at once; a cancel ends a run at once while a
//! handler runs (the handler sees it; nothing is posted) and kills a bash call of the
//! runner's toolset.

use crate::support::emulated::{events, of_type, self_hosted_session, setup};
use crate::support::{respond_json, sse_head, tempdir, TestServer};
use managed_agents::runner::StopReason;
use managed_agents_emulator::Script;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn a_runner_on_a_session_whose_turn_is_over_returns_at_once_and_a_cancel_ends_a_run() {
    let (emu, client) = setup();
    emu.set_script(Script::new().say("hello"));
    let (_env, session) = self_hosted_session(&client);
    let deadline = Instant::now() + Duration::from_secs(30);
    while of_type(&events(&client, &session), "session.status_idle").is_empty() {
        assert!(Instant::now() < deadline, "the session never went idle");
        std::thread::sleep(Duration::from_millis(20));
    }
    // no message, nothing pending: the turn is over, so is the run
    let outcome = client
        .run(&session)
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));

    // a run waiting on a handler is cancelled: nothing is posted, the handler saw the signal
    emu.set_script(Script::new().call_tool("wait", json!({})).say("done"));
    let cancel = managed_agents::environments::StopSignal::new();
    let saw = Arc::new(AtomicUsize::new(0));
    let (started_tx, started) = mpsc::channel();
    let started_tx = Mutex::new(started_tx);
    let runner = {
        let (client, session, cancel, saw) =
            (client.clone(), session.clone(), cancel.clone(), saw.clone());
        std::thread::spawn(move || {
            client
                .run(&session)
                .message("again")
                .cancel(cancel)
                .deadline(Duration::from_secs(60))
                .tool("wait", move |call| {
                    let _ = started_tx.lock().unwrap().send(());
                    if call.cancel.wait(Duration::from_secs(30)) {
                        saw.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok::<_, String>("finished")
                })
                .until_idle()
        })
    };
    started.recv_timeout(Duration::from_secs(30)).unwrap();
    cancel.set();
    let outcome = runner.join().unwrap().unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::Cancelled));
    assert!(!outcome.tool_calls[0].posted);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(saw.load(Ordering::SeqCst), 1);
    let log = events(&client, &session);
    assert!(
        of_type(&log, "user.custom_tool_result").is_empty(),
        "{log:?}"
    );
}

/// Whether a process is gone (or a zombie, dead and not yet reaped).
#[cfg(target_os = "linux")]
fn dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_cancel_during_a_bash_call_of_the_runners_toolset_kills_the_command() {
    use managed_agents::toolset::{AgentToolContext, AgentToolset};
    let (emu, client) = setup();
    emu.set_script(
        Script::new()
            .agent_tool(
                "bash",
                json!({"command": "sleep 30 & echo $! > pid.txt; wait"}),
            )
            .say("done"),
    );
    let (_env, session) = self_hosted_session(&client);
    let dir = tempdir();
    let toolset = Arc::new(AgentToolset::new(AgentToolContext::new(dir.path())).unwrap());
    let cancel = managed_agents::environments::StopSignal::new();
    let runner = {
        let (client, session, cancel) = (client.clone(), session.clone(), cancel.clone());
        std::thread::spawn(move || {
            client
                .run(&session)
                .toolset(toolset)
                .cancel(cancel)
                .deadline(Duration::from_secs(60))
                .until_idle()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(dir.path().join("pid.txt"))
            .ok()
            .filter(|p| p.ends_with('\n'))
        {
            break pid.trim().to_string();
        }
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    cancel.set();
    let outcome = runner.join().unwrap().unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::Cancelled));
    // a generous bound: the command would sleep for 30 s
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dead(&pid) {
        assert!(Instant::now() < deadline, "the command outlived the cancel");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = events(&client, &session);
    assert!(of_type(&log, "user.tool_result").is_empty(), "{log:?}");
}

#[test]
fn a_cancelled_stream_ends_while_its_connection_is_silent() {
    // a server that opens the event stream, then says nothing (no pings) for a minute
    let server = TestServer::start(|_, req, conn| {
        if !req.target.contains("/stream") {
            // the listing the stream reads when it opens: an empty log
            respond_json(conn, r#"{"data":[],"next_page":null}"#);
            return;
        }
        sse_head(conn);
        std::thread::sleep(Duration::from_secs(60));
    });
    let url = server.url.clone();
    let client = managed_agents::Client::builder()
        .api_key("k")
        .base_url(url)
        .build()
        .unwrap();
    let cancel = managed_agents::environments::StopSignal::new();
    let mut stream = client
        .sessions()
        .events()
        .stream(
            "sesn_011silent",
            managed_agents::StreamOptions::new()
                .from_beginning()
                .cancel(cancel.clone()),
        )
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(stream.next().map(|r| r.map(|_| ())));
    });
    std::thread::sleep(Duration::from_millis(300));
    cancel.set();
    // the idle timeout is 120 s: a generous bound well inside it
    let ended = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the stream did not end on its cancel while the connection was silent");
    assert!(ended.is_none(), "{ended:?}");
}
