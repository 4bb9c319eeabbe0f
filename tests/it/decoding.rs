//! Every way of reading an event gives the same result: `StreamSessionEvents::from_json` and
//! `SessionEvent::from_json` (the stream's fast paths), `serde_json::from_str` and `from_slice` (the general path, strings
//! borrowed), `serde_json::from_value` (owned strings) and YAML (another format): for every
//! event type, with its tag first, last or in between, and for broken inputs: broken JSON fails
//! on every path; JSON of a known kind that does not read as that kind is kept as `Unknown` on
//! every path, and the strict readers name its error.

use managed_agents::types::{SessionEvent, StreamSessionEvents};
use serde_json::Value;

/// The `full` and `minimal` fixture of every event type.
fn events() -> Vec<(String, serde_json::Map<String, Value>)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir("tests/fixtures/types")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy();
            stem.ends_with("Event") || stem == "EventStart" || stem == "EventDelta"
        })
        .collect();
    paths.sort();
    for p in paths {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        for variant in ["full", "minimal"] {
            if let Value::Object(m) = &v[variant] {
                let name = format!("{}.{variant}", p.file_stem().unwrap().to_string_lossy());
                out.push((name, m.clone()));
            }
        }
    }
    out
}

/// The object written with its keys in the given order, `pad` between tokens.
fn write(entries: &[(&String, &Value)], pad: &str) -> String {
    let body: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{pad}{}{pad}:{pad}{}", Value::from(k.as_str()), v))
        .collect();
    format!("{{{}{pad}}}", body.join(","))
}

/// Every key order worth trying: as read (sorted), tag first, tag last, reversed.
fn orders(m: &serde_json::Map<String, Value>) -> Vec<String> {
    let sorted: Vec<(&String, &Value)> = m.iter().collect();
    let tag_first: Vec<_> = sorted
        .iter()
        .filter(|(k, _)| *k == "type")
        .chain(sorted.iter().filter(|(k, _)| *k != "type"))
        .copied()
        .collect();
    let tag_last: Vec<_> = sorted
        .iter()
        .filter(|(k, _)| *k != "type")
        .chain(sorted.iter().filter(|(k, _)| *k == "type"))
        .copied()
        .collect();
    let reversed: Vec<_> = sorted.iter().rev().copied().collect();
    vec![
        write(&sorted, ""),
        write(&tag_first, ""),
        write(&tag_last, " "),
        write(&reversed, "\n\t"),
    ]
}

/// Reads `text` every way; all must agree. Returns the result.
fn read_all_ways(text: &str) -> Result<StreamSessionEvents, String> {
    let fast = StreamSessionEvents::from_json(text);
    let general = serde_json::from_str::<StreamSessionEvents>(text);
    let slice = serde_json::from_slice::<StreamSessionEvents>(text.as_bytes());
    session_event_reads_alike(text, fast.as_ref().ok());
    match (&fast, &general, &slice) {
        (Ok(a), Ok(b), Ok(c)) => {
            assert_eq!(a, b, "from_json and from_str differ on {text}");
            assert_eq!(b, c, "from_str and from_slice differ on {text}");
            // an owned tree and another format read the same
            let value: Value = serde_json::from_str(text).unwrap();
            let owned = serde_json::from_value::<StreamSessionEvents>(value.clone()).unwrap();
            assert_eq!(&owned, a, "from_value differs on {text}");
            let yaml = serde_norway::to_string(&value).unwrap();
            let from_yaml = serde_norway::from_str::<StreamSessionEvents>(&yaml)
                .unwrap_or_else(|e| panic!("YAML of {text}: {e}"));
            assert_eq!(&from_yaml, a, "YAML differs on {text}");
            Ok(general.unwrap())
        }
        (Err(_), Err(_), Err(_)) => Err(general.unwrap_err().to_string()),
        _ => panic!(
            "the paths disagree on {text}: from_json {:?}, from_str {:?}, from_slice {:?}",
            fast.map(|_| "ok"),
            general.map(|_| "ok"),
            slice.map(|_| "ok")
        ),
    }
}

/// `SessionEvent` (which the stream reads an event straight into) reads `text` alike with
/// `from_json` and `serde_json::from_str`, and as the stream union reads it (`stream`) for every
/// kind the two share.
fn session_event_reads_alike(text: &str, stream: Option<&StreamSessionEvents>) {
    let fast = SessionEvent::from_json(text);
    let general = serde_json::from_str::<SessionEvent>(text);
    match (&fast, &general) {
        (Ok(a), Ok(b)) => assert_eq!(
            a, b,
            "SessionEvent: from_json and from_str differ on {text}"
        ),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "SessionEvent: the paths disagree on {text}: from_json {:?}, from_str {:?}",
            fast.map(|_| "ok"),
            general.map(|_| "ok")
        ),
    }
    if let (Some(stream), Ok(event)) = (stream, &fast) {
        if let Ok(moved) = SessionEvent::try_from(stream.clone()) {
            assert_eq!(
                &moved, event,
                "SessionEvent and the stream union differ on {text}"
            );
        }
    }
}

#[test]
fn every_event_reads_the_same_every_way_whatever_its_key_order() {
    let events = events();
    assert!(events.len() > 60, "only {} event fixtures", events.len());
    for (name, m) in &events {
        let expected: Value = Value::Object(m.clone());
        for text in orders(m) {
            let ev = read_all_ways(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert!(
                !matches!(ev, StreamSessionEvents::Unknown(_)),
                "{name} read as Unknown"
            );
            assert_eq!(serde_json::to_value(&ev).unwrap(), expected, "{name}");
        }
    }
}

#[test]
fn broken_and_unknown_inputs_fail_or_fall_back_alike_on_every_path() {
    let mut broken = 0;
    let mut misread = 0;
    for (name, m) in events() {
        let text = write(&m.iter().collect::<Vec<_>>(), "");
        let tag = m["type"].as_str().unwrap().to_string();
        let mut cases = vec![
            // cut short anywhere
            text[..text.len() / 2].to_string(),
            text[..text.len() - 1].to_string(),
            // trailing garbage
            format!("{text}x"),
            // the tag written with an escape, or as a number, or unknown
            text.replace(
                &format!("\"type\":\"{tag}\""),
                &format!("\"t\\u0079pe\":\"{tag}\""),
            ),
            text.replace(&format!("\"type\":\"{tag}\""), "\"type\":7"),
            text.replace(
                &format!("\"type\":\"{tag}\""),
                "\"type\":\"agent.telepathy\"",
            ),
            // a field of the wrong kind, in broken JSON and in well-formed JSON
            text.replace("\"id\":\"", "\"id\":[\""),
            text.replace("\"processed_at\":\"", "\"processed_at\":7,\"x\":\""),
        ];
        // the tag twice, the same or another, known or not: an error however it is read
        let dup = format!("\"type\":\"{tag}\"");
        for other in [
            dup.clone(),
            "\"type\":\"zzz\"".to_string(),
            "\"type\":\"agent.message\"".to_string(),
        ] {
            for case in [
                text.replacen(&dup, &format!("{dup},{other}"), 1),
                text.replacen(&dup, &format!("{other},{dup}"), 1),
            ] {
                assert!(read_all_ways(&case).is_err(), "{name}: {case}");
            }
        }
        // an escaped tag value still names the kind
        let escaped = tag.replace('.', "\\u002e");
        cases.push(text.replace(&format!("\"{tag}\""), &format!("\"{escaped}\"")));
        for case in cases {
            match read_all_ways(&case) {
                Err(_) => broken += 1,
                Ok(StreamSessionEvents::Unknown(v))
                    if v.get("type").and_then(Value::as_str) == Some(tag.as_str()) =>
                {
                    // a known kind that does not read: kept whole, and the strict readers fail
                    misread += 1;
                    assert_eq!(v, serde_json::from_str::<Value>(&case).unwrap(), "{name}");
                    assert!(
                        StreamSessionEvents::from_json_strict(&case).is_err(),
                        "{name}: {case}"
                    );
                    let mut de = serde_json::Deserializer::from_str(&case);
                    assert!(
                        StreamSessionEvents::deserialize_strict(&mut de).is_err(),
                        "{name}: {case}"
                    );
                }
                Ok(StreamSessionEvents::Unknown(_)) => {}
                Ok(ev) => assert_eq!(ev.tag(), Some(tag.as_str()), "{name}: {case}"),
            }
        }
    }
    assert!(broken > 200, "only {broken} inputs failed");
    assert!(misread > 60, "only {misread} inputs were kept as Unknown");
}

/// A model the API no longer lists stays a (deprecated) variant: code naming it compiles, and
/// it reads and writes the same string (spec/deprecated.json).
#[test]
#[allow(deprecated)]
fn a_removed_model_name_stays_a_deprecated_variant() {
    use managed_agents::types::Model;
    let m: Model = serde_json::from_str("\"claude-sonnet-4-5\"").unwrap();
    assert_eq!(m, Model::ClaudeSonnet45);
    assert_eq!(
        serde_json::to_string(&Model::ClaudeSonnet4520250929).unwrap(),
        "\"claude-sonnet-4-5-20250929\""
    );
    assert_eq!(Model::from("claude-opus-4-5"), Model::ClaudeOpus45);
}
