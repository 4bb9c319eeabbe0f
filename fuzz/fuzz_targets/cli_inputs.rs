//! The command-line tool's inputs: durations, YAML definitions and task lines never panic; a
//! duration accepted is within (0, a year]; a definition accepted writes and reads back
//! strictly to the same value; a task line accepted has an id and a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents::types::{AgentCreateParams, EnvironmentCreateParams, SessionCreateParams};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

#[allow(dead_code)]
#[path = "../../cli/src/parse.rs"]
mod parse;

/// Reads `text` as a `T`; when accepted, its JSON must read back strictly to the same value.
fn definition<T: DeserializeOwned + Serialize + std::fmt::Debug>(text: &str) {
    let Ok(value) = parse::value(text, false) else {
        return;
    };
    let Ok(typed) = parse::strict::<T>(value, text) else {
        return;
    };
    let json = serde_json::to_value(&typed).expect("an accepted definition serializes");
    let again: T = parse::strict(json.clone(), "").expect("an accepted definition reads back");
    assert_eq!(serde_json::to_value(&again).expect("serializes"), json);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match selector % 5 {
        0 => {
            if let Ok(d) = parse::duration(text) {
                assert!(d > Duration::ZERO && d <= Duration::from_secs(366 * 24 * 3600));
            }
        }
        1 => definition::<AgentCreateParams>(text),
        2 => definition::<EnvironmentCreateParams>(text),
        3 => definition::<SessionCreateParams>(text),
        _ => {
            if let Ok(t) = parse::parse_task_line(text) {
                assert!(!t.id.trim().is_empty() && !t.message.trim().is_empty());
            }
        }
    }
});
