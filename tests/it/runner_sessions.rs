//! The session runner against the emulator, as the official runner (2.17) behaves: a result
//! the API refuses is replaced by an error result with the API's message, a call whose result
//! could not be posted is never run again after a reconnect, a terminated session ends the run
//! before anything is sent, and a session the API no longer has ends it with that error.

use crate::support::emulated::{cloud_session, events, of_type, setup};
use crate::support::eventually;
use managed_agents::environments::StopSignal;
use managed_agents::runner::StopReason;
use managed_agents::types::*;
use managed_agents_emulator::{Faults, Script};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_refused_result_is_replaced_by_an_error_result_carrying_the_apis_message() {
    for status in [413, 400] {
        let (emu, client) = setup();
        emu.set_thinking(Duration::ZERO);
        emu.set_script(Script::new().call_tool("big", json!({})).say("ok"));
        emu.set_faults(Faults {
            refuse_results: 1,
            refuse_status: status,
            ..Faults::default()
        });
        let session = cloud_session(&client, None).id;
        let outcome = client
            .run(&session)
            .message("go")
            .tool("big", |_| Ok::<_, String>("x".repeat(100)))
            .deadline(Duration::from_secs(30))
            .until_idle()
            .unwrap();
        assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
        let call = &outcome.tool_calls[0];
        assert!(call.posted && call.is_error, "{call:?}");
        let want = format!("The API refused the result of tool 'big': API error {status}");
        assert!(call.output.starts_with(&want), "{}", call.output);
        let l = events(&client, &session);
        let results = of_type(&l, "user.custom_tool_result");
        assert_eq!(results.len(), 1, "{l:?}");
        assert_eq!(results[0]["is_error"], true);
        let text = results[0]["content"][0]["text"].as_str().unwrap();
        assert!(text.starts_with(&want), "{text}");
        let message = if status == 413 {
            "over the size limit"
        } else {
            "is not valid"
        };
        assert!(text.contains(message), "the API's whole message: {text}");
    }
}

#[test]
fn a_call_whose_result_post_failed_is_never_run_again_after_a_reconnect() {
    let (emu, client) = setup();
    emu.set_thinking(Duration::ZERO);
    emu.set_script(Script::new().call_tool("flaky", json!({})).say("done"));
    // the result and the error result in its place are both refused; every connection closes
    // when the next event comes, so each new event makes the runner reconnect
    emu.set_faults(Faults {
        refuse_results: 2,
        drop_stream_after: Some(1),
        ..Faults::default()
    });
    let session = cloud_session(&client, None).id;
    let ran = Arc::new(AtomicUsize::new(0));
    let cancel = StopSignal::new();
    let runner = {
        let (client, session, ran, cancel) =
            (client.clone(), session.clone(), ran.clone(), cancel.clone());
        std::thread::spawn(move || {
            client
                .run(&session)
                .message("go")
                .tool("flaky", move |_| {
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, String>("done once")
                })
                .cancel(cancel)
                .deadline(Duration::from_secs(60))
                .until_idle()
        })
    };
    eventually("the call", || ran.load(Ordering::SeqCst) == 1);
    std::thread::sleep(Duration::from_millis(500));
    // an event: the connection closes, the runner reconnects and reads the history again, in
    // which the call is still open and waited for
    let note = |text: &str| {
        client
            .sessions()
            .events()
            .send(
                &session,
                &EventSendParams::one(SystemMessageEventParams::new(vec![
                    SystemContentBlockParam::new(text),
                ])),
            )
            .unwrap();
    };
    note("first reconnect");
    std::thread::sleep(Duration::from_millis(2500));
    note("second reconnect");
    std::thread::sleep(Duration::from_millis(3000));
    cancel.set();
    let outcome = runner.join().unwrap().unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::Cancelled));
    assert_eq!(ran.load(Ordering::SeqCst), 1, "run once: {outcome:?}");
    assert_eq!(outcome.tool_calls_seen, 1);
    let call = &outcome.tool_calls[0];
    assert!(!call.posted, "{call:?}");
    assert!(
        call.post_error
            .as_deref()
            .is_some_and(|e| e.contains("413")),
        "{call:?}"
    );
    // the runner did reconnect after the failure: the notes reached its transcript through
    // the listing of a new connection (no connection delivered an event)
    let notes = outcome
        .events
        .iter()
        .filter(|e| matches!(e, SessionEvent::SystemMessage(_)))
        .count();
    assert_eq!(notes, 2, "{:?}", outcome.events);
    assert!(of_type(&events(&client, &session), "user.custom_tool_result").is_empty());
}

#[test]
fn a_terminated_session_ends_the_run_before_anything_is_sent() {
    let (emu, client) = setup();
    emu.set_thinking(Duration::ZERO);
    emu.set_script(Script::new().step(managed_agents_emulator::Step::Terminate));
    let session = cloud_session(&client, None).id;
    client
        .sessions()
        .events()
        .send(
            &session,
            &EventSendParams::one(UserMessageEventParams::text("end it")),
        )
        .unwrap();
    eventually("the termination", || {
        client.sessions().retrieve(&session).unwrap().status == SessionStatus::Terminated
    });
    let outcome = client
        .run(&session)
        .message("again")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::Terminated));
    assert_eq!(of_type(&events(&client, &session), "user.message").len(), 1);
}

#[test]
fn a_session_the_api_no_longer_has_ends_the_run_with_the_404() {
    let (emu, client) = setup();
    emu.set_thinking(Duration::ZERO);
    // never there
    let err = client
        .run("sesn_011CZxMissing")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap_err();
    assert_eq!(err.error.status(), Some(404), "{err}");
    // deleted while the run waits for it
    let session = cloud_session(&client, None).id;
    let runner = {
        let (client, session) = (client.clone(), session.clone());
        std::thread::spawn(move || {
            client
                .run(&session)
                .deadline(Duration::from_secs(60))
                .until_idle()
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    client.sessions().delete(&session).unwrap();
    let err = runner.join().unwrap().unwrap_err();
    assert_eq!(err.error.status(), Some(404), "{err}");
}
