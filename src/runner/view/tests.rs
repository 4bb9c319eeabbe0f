//! The view's rules: which calls the session waits on, confirmations, the order of a thread's
//! calls, and its bounds.

use super::*;
use serde_json::json;

fn ev(v: serde_json::Value) -> SessionEvent {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_long_session_leaves_the_view_as_small_as_its_open_calls() {
    let mut view = View::new();
    for i in 0..20_000 {
        let id = format!("sevt_{i}");
        view.apply(&ev(
            json!({"type": "agent.custom_tool_use", "id": id, "name": "t",
            "input": {}, "processed_at": "2026-01-01T00:00:00Z"}),
        ));
        view.apply(&ev(
            json!({"type": "session.status_idle", "id": format!("idle_{i}"),
            "processed_at": "2026-01-01T00:00:00Z",
            "stop_reason": {"type": "requires_action", "event_ids": [id]}}),
        ));
        assert!(view.is_waiting_on(&id));
        view.apply(&ev(
            json!({"type": "user.custom_tool_result", "id": format!("r_{i}"),
            "custom_tool_use_id": id, "processed_at": "2026-01-01T00:00:00Z"}),
        ));
    }
    assert_eq!(view.len(), 0);
    assert!(view.done.len() <= DONE_IDS);
    assert!(view.first_read.len() <= FIRST_READS);
    // an idle that lists ids whose calls never come keeps a bounded number of them
    for i in 0..5_000 {
        view.apply(&ev(
            json!({"type": "session.status_idle", "id": format!("idle2_{i}"),
            "processed_at": "2026-01-01T00:00:00Z",
            "stop_reason": {"type": "requires_action", "event_ids": [format!("ghost_{i}")]}}),
        ));
    }
    assert!(view.len() <= MAX_PLACEHOLDERS, "{}", view.len());
}

#[test]
fn only_the_calls_the_session_waits_on_run() {
    let mut view = View::new();
    let at = "2026-01-01T00:00:00Z";
    view.apply(&ev(json!({"type": "agent.custom_tool_use", "id": "c1", "name": "t", "input": {}, "processed_at": at})));
    view.apply(&ev(json!({"type": "agent.tool_use", "id": "b1", "name": "bash", "input": {}, "processed_at": at, "evaluated_permission": "allow"})));
    view.apply(&ev(json!({"type": "agent.tool_use", "id": "b2", "name": "bash", "input": {}, "processed_at": at})));
    view.apply(&ev(json!({"type": "agent.custom_tool_use", "id": "s1", "name": "t", "input": {}, "processed_at": at, "session_thread_id": "sthr_1"})));
    // a custom call waits for an idle to list it; a built-in one with a permission, and a
    // subagent's, do not; a built-in one without a permission does
    assert!(!view.is_waiting_on("c1"));
    assert!(view.is_waiting_on("b1") && view.is_waiting_on("s1"));
    assert!(!view.is_waiting_on("b2"));
    view.apply(&ev(
        json!({"type": "session.status_idle", "id": "i1", "processed_at": at,
        "stop_reason": {"type": "requires_action", "event_ids": ["c1", "b2"]}}),
    ));
    assert!(view.is_waiting_on("c1") && view.is_waiting_on("b2"));
    // retries_exhausted keeps them waiting; end_turn releases them all
    view.apply(&ev(
        json!({"type": "session.status_idle", "id": "i2", "processed_at": at,
        "stop_reason": {"type": "retries_exhausted"}}),
    ));
    assert!(view.is_waiting_on("c1") && view.is_waiting_on("b1"));
    view.apply(&ev(
        json!({"type": "session.status_idle", "id": "i3", "processed_at": at,
        "stop_reason": {"type": "end_turn"}}),
    ));
    assert!(!view.is_waiting_on("c1") && !view.is_waiting_on("b1") && !view.is_waiting_on("s1"));
    assert_eq!(view.turn_end, Some(StopReason::EndTurn));
}

#[test]
fn ask_or_an_unknown_permission_waits_for_the_first_confirmation_and_only_allow_allows() {
    let at = "2026-01-01T00:00:00Z";
    for (permission, first, want) in [
        ("ask", "allow", Some(Some(Verdict::Allow))),
        ("ask", "deny", Some(Some(Verdict::Deny))),
        ("someday", "allow", Some(Some(Verdict::Allow))),
        ("ask", "maybe", Some(Some(Verdict::Deny))),
    ] {
        let mut view = View::new();
        view.apply(&ev(json!({"type": "agent.tool_use", "id": "b1", "name": "bash", "input": {}, "processed_at": at, "evaluated_permission": permission})));
        assert!(view.allowed_or_denied().is_empty(), "{permission}: waits");
        assert_eq!(view.unconfirmed().len(), 1);
        view.apply(&ev(json!({"type": "user.tool_confirmation", "id": "k1", "processed_at": at, "tool_use_id": "b1", "result": first})));
        // a second confirmation changes nothing
        let other = if first == "allow" { "deny" } else { "allow" };
        view.apply(&ev(json!({"type": "user.tool_confirmation", "id": "k2", "processed_at": at, "tool_use_id": "b1", "result": other})));
        let got = view.allowed_or_denied().first().map(|(_, v)| *v);
        assert_eq!(got, want, "{permission} then {first}");
    }
}

#[test]
fn a_later_call_of_a_thread_waits_behind_an_earlier_unanswered_one() {
    let at = "2026-01-01T00:00:00Z";
    let runs = |_: &SessionEvent| true;
    let mut view = View::new();
    view.apply(&ev(json!({"type": "session.thread_status_running", "id": "t0", "processed_at": at, "session_thread_id": "sthr_main", "agent_name": "a"})));
    view.apply(&ev(json!({"type": "agent.tool_use", "id": "b1", "name": "bash", "input": {}, "processed_at": at, "evaluated_permission": "ask"})));
    view.apply(&ev(json!({"type": "agent.tool_use", "id": "b2", "name": "bash", "input": {}, "processed_at": at, "evaluated_permission": "allow"})));
    assert!(view.is_behind_unanswered_call("b2", &runs));
    view.apply(&ev(json!({"type": "user.tool_confirmation", "id": "k1", "processed_at": at, "tool_use_id": "b1", "result": "allow"})));
    // b1 is allowed: it runs first (the oldest), and the thread's one slot keeps b2 after it
    assert!(!view.is_behind_unanswered_call("b2", &runs));
    let order: Vec<String> = view
        .allowed_or_denied()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(order, ["b1", "b2"]);
}
