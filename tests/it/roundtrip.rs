//! Every response type and every event type, read from a realistic fixture and written back
//! equal to it (tests/fixtures/types, made from the official models by generate.py).
//!
//! How absent and null compare: fixtures hold optional fields either with a value or absent.
//! A `null` optional field reads as `None` and is written back absent, which the last test
//! pins down; in request types a nullable field is `Option<Option<T>>` and keeps `null`.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn fixture(name: &str) -> Value {
    let path = format!("tests/fixtures/types/{name}.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check<T: DeserializeOwned + Serialize>(
    name: &str,
    failures: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) {
    seen.insert(name.to_string());
    let f = fixture(name);
    for variant in ["full", "minimal"] {
        let input = &f[variant];
        assert!(input.is_object(), "{name}.{variant} is missing");
        match serde_json::from_value::<T>(input.clone()) {
            Ok(t) => {
                let back = serde_json::to_value(&t).unwrap();
                if &back != input {
                    failures.push(format!(
                        "{name}.{variant}: wrote back\n{back}\nread\n{input}"
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}.{variant}: {e}")),
        }
    }
}

macro_rules! roundtrip_types {
    ($($name:ident),* $(,)?) => {
        fn round_trip_all() -> (Vec<String>, BTreeSet<String>) {
            let mut failures = Vec::new();
            let mut seen = BTreeSet::new();
            $( check::<managed_agents::types::$name>(stringify!($name), &mut failures, &mut seen); )*
            (failures, seen)
        }
    };
}

include!("../fixtures/types.in.rs");

#[test]
fn every_fixture_reads_and_writes_back_unchanged() {
    let (failures, seen) = round_trip_all();
    assert!(seen.len() > 50, "only {} types", seen.len());
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        seen.len() * 2,
        failures.join("\n\n")
    );
}

/// Every event type and every response type of the spec has a fixture, and each file is listed.
#[test]
fn fixtures_cover_every_event_and_response_type() {
    let (_, seen) = round_trip_all();
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string("spec/openapi.json").unwrap()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let name_of = |r: &Value| {
        r.as_str()
            .and_then(|r| r.rsplit('/').next())
            .map(String::from)
    };
    let mut wanted = BTreeSet::new();
    for union in ["SessionEvent", "StreamSessionEvents"] {
        for r in schemas[union]["discriminator"]["mapping"]
            .as_object()
            .unwrap()
            .values()
        {
            wanted.insert(name_of(r).unwrap());
        }
    }
    for verbs in spec["paths"].as_object().unwrap().values() {
        for op in verbs.as_object().unwrap().values() {
            let s = &op["responses"]["200"]["content"]["application/json"]["schema"];
            let s = if s["properties"]["data"].is_object() {
                &s["properties"]["data"]["items"]
            } else {
                s
            };
            let s = if s["allOf"].is_array() {
                &s["allOf"][0]
            } else {
                s
            };
            let Some(name) = name_of(&s["$ref"]) else {
                continue;
            };
            let members = schemas[&name]["oneOf"]
                .as_array()
                .or(schemas[&name]["anyOf"].as_array());
            match members {
                Some(ms) => wanted.extend(ms.iter().filter_map(|m| name_of(&m["$ref"]))),
                None => {
                    wanted.insert(name);
                }
            }
        }
    }
    let missing: Vec<_> = wanted.difference(&seen).collect();
    assert!(missing.is_empty(), "no fixture for {missing:?}");
    let files = std::fs::read_dir("tests/fixtures/types").unwrap().count();
    assert_eq!(
        files,
        seen.len(),
        "a fixture file is not listed in types.in.rs"
    );
}

/// Each event fixture reads as a `SessionEvent` of its own kind, never as `Unknown`.
#[test]
fn event_fixtures_dispatch_to_their_variant() {
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string("spec/openapi.json").unwrap()).unwrap();
    let mapping = spec["components"]["schemas"]["SessionEvent"]["discriminator"]["mapping"]
        .as_object()
        .unwrap()
        .clone();
    for (tag, r) in mapping {
        let name = r.as_str().unwrap().rsplit('/').next().unwrap();
        let ev: managed_agents::types::SessionEvent =
            serde_json::from_value(fixture(name)["full"].clone()).unwrap();
        assert_eq!(ev.tag(), Some(tag.as_str()));
        assert!(
            !matches!(ev, managed_agents::types::SessionEvent::Unknown(_)),
            "{tag}"
        );
    }
}

#[test]
fn null_and_absent_read_the_same_and_write_absent() {
    use managed_agents::types::Session;
    let mut full = fixture("Session")["minimal"].clone();
    full["archived_at"] = Value::Null;
    full["title"] = Value::Null;
    let s: Session = serde_json::from_value(full).unwrap();
    assert_eq!(s.archived_at, None);
    assert_eq!(s.title, None);
    let back = serde_json::to_value(&s).unwrap();
    assert!(back.get("archived_at").is_none() && back.get("title").is_none());

    // a request can say null on purpose
    let clear = managed_agents::types::SessionUpdateParams::default().clear_title();
    assert_eq!(
        serde_json::to_value(&clear).unwrap(),
        json!({"title": null})
    );
    let read: managed_agents::types::SessionUpdateParams =
        serde_json::from_value(json!({"title": null})).unwrap();
    assert_eq!(read, clear);
}

/// Found by fuzzing: numbers are read exactly, so what is written back reads the same again.
#[test]
fn floats_round_trip_exactly() {
    use managed_agents::types::SessionEvent;
    for n in [
        "9178917917891789179178",
        "0.1",
        "1.7976931348623157e308",
        "5e-324",
        "12.345678901234567",
    ] {
        let ev: SessionEvent = serde_json::from_str(n).unwrap();
        let again: SessionEvent =
            serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        assert_eq!(again, ev, "{n}");
    }
    let usage: managed_agents::types::SessionUsage =
        serde_json::from_str(r#"{"active_seconds": 12.345678901234567}"#).unwrap();
    let back: managed_agents::types::SessionUsage =
        serde_json::from_str(&serde_json::to_string(&usage).unwrap()).unwrap();
    assert_eq!(back, usage);
}
