//! Session budgets on the emulator: each agent message is one model call with a fixed list
//! cost reported in the session's `usage`; a session whose cost reaches its budget goes idle
//! with `budget_reached`, and a raised budget lets the next message run again.

use crate::support::emulated::{cloud_env_and_agent, events, of_type, send_message, setup};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Script, LIST_COST_PER_MODEL_CALL};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A cloud session, with a budget of `cap` cents when given.
fn session(c: &Client, cap: Option<u64>) -> Session {
    let (env, agent) = cloud_env_and_agent(c);
    let mut params = SessionCreateParams::new(&agent, env.id);
    if let Some(cap) = cap {
        params = params.budget(BudgetLimitParam::new(MonetaryAmountParam::new(
            cap.to_string(),
        )));
    }
    c.sessions().create(&params).unwrap()
}

/// Sends a message and waits for the turn's `session.status_idle`; answers its stop reason.
fn turn(c: &Client, id: &str) -> String {
    let before = of_type(&events(c, id), "session.status_idle").len();
    send_message(c, id, "go");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = events(c, id);
        let idles = of_type(&log, "session.status_idle");
        if idles.len() > before {
            return idles[before]["stop_reason"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_string();
        }
        assert!(Instant::now() < deadline, "the turn never ended: {log:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The session's `usage` as JSON.
fn usage(c: &Client, id: &str) -> Value {
    let s = c.sessions().retrieve(id).unwrap();
    serde_json::to_value(s).unwrap()["usage"].clone()
}

fn cents(n: u64) -> String {
    (n * LIST_COST_PER_MODEL_CALL).to_string()
}

#[test]
fn each_message_charges_a_fixed_list_cost_without_a_budget() {
    let (emu, c) = setup();
    emu.set_script(Script::new().say("one").say("two").say("three"));
    let s = session(&c, None);
    assert_eq!(turn(&c, &s.id), "end_turn");
    let u = usage(&c, &s.id);
    assert_eq!(u["list_cost"]["amount"], cents(3).as_str());
    assert_eq!(u["list_cost"]["currency"], "USD");
    assert!(u["input_tokens"].as_i64().unwrap() > 0);
    assert_eq!(u["cache_read_input_tokens"], 0);
    // no budget, no usage snapshots
    assert!(of_type(&events(&c, &s.id), "session.usage").is_empty());
}

#[test]
fn a_session_stops_at_its_budget_and_runs_again_when_it_is_raised() {
    let (emu, c) = setup();
    emu.set_script(Script::new().say("one").say("two").say("three"));
    let s = session(&c, Some(2 * LIST_COST_PER_MODEL_CALL));

    assert_eq!(turn(&c, &s.id), "budget_reached");
    let log = events(&c, &s.id);
    assert_eq!(of_type(&log, "agent.message").len(), 2);
    assert_eq!(usage(&c, &s.id)["list_cost"]["amount"], cents(2).as_str());
    let snapshots = of_type(&log, "session.usage");
    assert_eq!(snapshots.len(), 1);
    assert_eq!(
        snapshots[0]["usage"]["list_cost"]["amount"],
        cents(2).as_str()
    );
    assert_eq!(
        snapshots[0]["budget"]["max_list_cost"]["amount"],
        cents(2).as_str()
    );
    let status =
        serde_json::to_value(c.sessions().retrieve(&s.id).unwrap()).unwrap()["status"].clone();
    assert_eq!(status, "idle");

    // spent: a new message makes no model call
    assert_eq!(turn(&c, &s.id), "budget_reached");
    assert_eq!(of_type(&events(&c, &s.id), "agent.message").len(), 2);

    // raised by one call's worth: one more message, then the cap again
    c.sessions()
        .update(
            &s.id,
            &SessionUpdateParams::new()
                .budget(BudgetLimitParam::new(MonetaryAmountParam::new(cents(3)))),
        )
        .unwrap();
    assert_eq!(turn(&c, &s.id), "budget_reached");
    assert_eq!(of_type(&events(&c, &s.id), "agent.message").len(), 3);
    assert_eq!(usage(&c, &s.id)["list_cost"]["amount"], cents(3).as_str());

    // raised above the whole script: the turn ends on its own
    c.sessions()
        .update(
            &s.id,
            &SessionUpdateParams::new()
                .budget(BudgetLimitParam::new(MonetaryAmountParam::new(cents(100)))),
        )
        .unwrap();
    assert_eq!(turn(&c, &s.id), "end_turn");
    assert_eq!(usage(&c, &s.id)["list_cost"]["amount"], cents(6).as_str());
}
