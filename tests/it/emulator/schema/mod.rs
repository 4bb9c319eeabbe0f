//! Every operation of spec/openapi.json on the emulator, over real HTTP: each 2xx body is
//! checked against the operation's response schema (the spec's OpenAPI 3.0 schemas made strict
//! JSON Schema: `nullable` is a null alternative, no property outside the schema, formats
//! checked), each error against the API's error body (`ErrorResponse`), its status and its
//! error type (and `details.error_code` where the SDKs raise a specific error). The run fails
//! unless every operation was called both with valid input and with input the API refuses (a
//! missing field, an id that does not exist, an archived object, a wrong state).
//!
//! Besides each group's calls (one file each), two sweeps come from the spec itself: every
//! required field of every request body left out once (`required`), and every operation with
//! ids in its path called with ids that do not exist. `events` makes the scripted agent and the
//! client produce every kind of event the emulator records; the stream is read with and
//! without previews. `spec` makes the schemas strict; `wire` sends and checks.

use managed_agents_emulator::{Emulator, Script};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

mod agents;
mod deployments;
mod environments;
mod events;
mod files_and_skills;
mod memories;
mod required;
mod sessions;
mod spec;
mod threads;
mod vaults;
mod wire;
mod work;

use spec::Op;
pub(crate) use wire::Body;

/// The emulator, the spec, and what has been exercised.
pub(crate) struct Api {
    pub(crate) emu: Emulator,
    http: ureq::Agent,
    ops: BTreeMap<String, Op>,
    components: Value,
    validators: RefCell<HashMap<String, jsonschema::Validator>>,
    /// Per operation: (called with valid input, refused).
    seen: RefCell<BTreeMap<String, (bool, bool)>>,
    /// What did not answer as the spec says; all of it is reported at the end.
    problems: RefCell<Vec<String>>,
}

impl Api {
    pub(crate) fn start() -> Api {
        let (ops, components) = spec::load();
        assert_eq!(ops.len(), 90, "the spec's operations");
        let http = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build(),
        );
        let emu = Emulator::start().unwrap();
        emu.set_strict(true);
        emu.set_script(Script::new().say("hello"));
        Api {
            emu,
            http,
            ops,
            components,
            validators: RefCell::new(HashMap::new()),
            seen: RefCell::new(BTreeMap::new()),
            problems: RefCell::new(Vec::new()),
        }
    }

    /// Records what did not answer as the spec says; the run goes on, to report it all.
    fn problem(&self, text: String) {
        // once each, and short: a listing polled until it settles repeats its problem
        let mut text: String = text.chars().take(1500).collect();
        if text.len() == 1500 {
            text.push_str("...");
        }
        let mut problems = self.problems.borrow_mut();
        if !problems.contains(&text) {
            problems.push(text);
        }
    }

    /// Fails naming every operation not exercised with valid input, and with invalid input.
    pub(crate) fn check_coverage(&self) {
        let seen = self.seen.borrow();
        let mut missing = Vec::new();
        for op in self.ops.keys() {
            let (ok, err) = seen.get(op).copied().unwrap_or_default();
            if !ok {
                missing.push(format!("{op} (valid input)"));
            }
            if !err {
                missing.push(format!("{op} (invalid input)"));
            }
        }
        let problems = self.problems.borrow();
        assert!(
            problems.is_empty(),
            "{} answers not as the spec says:\n\n{}",
            problems.len(),
            problems.join("\n\n")
        );
        assert!(
            missing.is_empty(),
            "operations not exercised:\n{}",
            missing.join("\n")
        );
    }
}

/// A string field of an answer.
pub(crate) fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

/// An empty object, for bodies.
pub(crate) fn obj() -> Value {
    Value::Object(Map::new())
}

#[test]
fn every_operation_answers_as_its_schema_says() {
    let api = Api::start();
    environments::check(&api);
    agents::check(&api);
    sessions::check(&api);
    threads::check(&api);
    events::check(&api);
    files_and_skills::check(&api);
    vaults::check(&api);
    memories::check(&api);
    deployments::check(&api);
    work::check(&api);
    required::check(&api);
    assert!(api.unknown_ids() > 70);
    api.check_coverage();
}

#[test]
fn the_checker_refuses_what_the_schema_forbids() {
    // the checker itself: a field outside the schema, a missing required field, a wrong
    // constant, a non-RFC 3339 time and a null where none is allowed all fail
    let api = Api::start();
    let env = api.ok(
        "environments.create",
        &[],
        "",
        json!({"name": "e", "config": {"type": "cloud"}}),
    );
    let schema = json!({"$ref": "#/components/schemas/Environment"});
    assert!(api.validate("Environment", &schema, &env).is_ok());
    let mut extra = env.clone();
    extra["surprise"] = json!(1);
    let mut missing = env.clone();
    missing.as_object_mut().unwrap().remove("id");
    let mut constant = env.clone();
    constant["type"] = json!("agent");
    let mut null = env.clone();
    null["name"] = Value::Null;
    for bad in [extra, missing, constant, null] {
        assert!(
            api.validate("Environment", &schema, &bad).is_err(),
            "accepted: {bad}"
        );
    }
    // and nullable fields take null
    let mut archived = env.clone();
    archived["archived_at"] = Value::Null;
    assert!(api.validate("Environment", &schema, &archived).is_ok());
    // a time that is not RFC 3339 where the spec says `date-time`
    let schema = json!({"$ref": "#/components/schemas/SessionStats"});
    let stats = json!({"active_seconds": 1.0, "duration_seconds": 2.0});
    assert!(api.validate("SessionStats", &schema, &stats).is_ok());
    let schema = json!({"$ref": "#/components/schemas/Session"});
    let session = api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": id(&api.ok("agents.create", &[], "", json!({"name": "a", "model": "m"}))),
               "environment_id": id(&env)}),
    );
    if let Err(e) = api.validate("Session", &schema, &session) {
        panic!("{e}\n{session}");
    }
    let mut time = session.clone();
    time["created_at"] = json!("yesterday");
    assert!(api.validate("Session", &schema, &time).is_err());
    assert!(
        api.problems.borrow().is_empty(),
        "{:?}",
        api.problems.borrow()
    );
}
