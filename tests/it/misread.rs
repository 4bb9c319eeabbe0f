//! A response of a known kind that does not read as that kind (an `agent.message` whose
//! `content` is `null`, a text block whose `text` is a number) is kept whole as `Unknown`, with
//! a warning in the log, on every way of reading it; request types stay strict; the strict
//! readers still name the error for a program that wants it.

use managed_agents::types::*;
use managed_agents::Client;
use mockito::{Matcher, Server};
use serde_json::{json, Value};
use std::sync::Mutex;

/// Every warning logged by this test binary.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record) {
        if r.level() <= log::Level::Warn {
            WARNINGS.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn capture() {
    static LOGGER: Capture = Capture;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Warn);
}

/// Whether a warning naming all of `words` was logged.
fn warned(words: &[&str]) -> bool {
    WARNINGS
        .lock()
        .unwrap()
        .iter()
        .any(|w| words.iter().all(|x| w.contains(x)))
}

fn null_content() -> Value {
    json!({"type": "agent.message", "id": "sevt_1", "processed_at": "2026-05-01T00:00:00Z",
           "content": null})
}

fn kept(ev: &StreamSessionEvents) {
    match ev {
        StreamSessionEvents::Unknown(v) => assert_eq!(v, &null_content()),
        other => panic!("not kept as Unknown: {other:?}"),
    }
    assert_eq!(ev.tag(), Some("agent.message"));
    assert_eq!(serde_json::to_value(ev).unwrap(), null_content());
}

#[test]
fn from_json_keeps_a_known_kind_that_does_not_read_and_logs_it() {
    capture();
    // the tag first (not found from the end) and last (found from the end) alike
    let text = null_content().to_string();
    let ev = StreamSessionEvents::from_json(&text).unwrap();
    kept(&ev);
    let last = r#"{"id":"sevt_1","processed_at":"2026-05-01T00:00:00Z","content":null,"type":"agent.message"}"#;
    kept(&StreamSessionEvents::from_json(last).unwrap());
    assert!(warned(&["StreamSessionEvents", "agent.message", "null"]));
}

#[test]
fn from_str_and_from_slice_keep_it() {
    let text = null_content().to_string();
    kept(&serde_json::from_str::<StreamSessionEvents>(&text).unwrap());
    kept(&serde_json::from_slice::<StreamSessionEvents>(text.as_bytes()).unwrap());
    let ev: SessionEvent = serde_json::from_str(&text).unwrap();
    assert!(matches!(ev, SessionEvent::Unknown(_)));
}

#[test]
fn from_value_keeps_it() {
    kept(&serde_json::from_value::<StreamSessionEvents>(null_content()).unwrap());
    let ev: StreamSessionThreadEvents = serde_json::from_value(null_content()).unwrap();
    assert!(matches!(ev, StreamSessionThreadEvents::Unknown(_)));
    assert_eq!(serde_json::to_value(&ev).unwrap(), null_content());
}

#[test]
fn a_nested_union_keeps_its_broken_member_and_the_event_reads() {
    capture();
    let ev = json!({"type": "agent.message", "id": "sevt_2", "processed_at": "2026-05-01T00:00:00Z",
                    "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": 5}]});
    for read in [
        StreamSessionEvents::from_json(&ev.to_string()).unwrap(),
        serde_json::from_value(ev.clone()).unwrap(),
        serde_norway::from_str(&serde_norway::to_string(&ev).unwrap()).unwrap(),
    ] {
        let StreamSessionEvents::AgentMessage(m) = &read else {
            panic!("{read:?}")
        };
        assert!(matches!(m.content[0], AgentMessageEventContent::Text(_)));
        assert!(matches!(m.content[1], AgentMessageEventContent::Unknown(_)));
        assert_eq!(serde_json::to_value(&read).unwrap(), ev);
    }
    assert!(warned(&["AgentMessageEventContent", "\"text\""]));
}

#[test]
fn a_list_page_with_one_broken_event_reads_the_others() {
    let mut server = Server::new();
    let good = json!({"type": "session.status_idle", "id": "sevt_3",
                      "processed_at": "2026-05-01T00:00:01Z", "stop_reason": {"type": "end_turn"}});
    let body = json!({"data": [null_content(), good], "next_page": null});
    server
        .mock("GET", "/v1/sessions/sesn_1/events")
        .match_query(Matcher::Any)
        .with_body(body.to_string())
        .create();
    let client = Client::builder()
        .api_key("k")
        .base_url(server.url())
        .build()
        .unwrap();
    let page = client
        .sessions()
        .events()
        .list("sesn_1", &Default::default())
        .unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(matches!(page.data[0], SessionEvent::Unknown(_)));
    assert!(matches!(page.data[1], SessionEvent::SessionStatusIdle(_)));
}

#[test]
fn the_strict_readers_name_the_kind_that_does_not_read() {
    let text = null_content().to_string();
    let e = StreamSessionEvents::from_json_strict(&text).unwrap_err();
    assert!(e.to_string().contains("\"agent.message\""), "{e}");
    let e = SessionEvent::deserialize_strict(null_content()).unwrap_err();
    assert!(e.to_string().contains("\"agent.message\""), "{e}");
    let e = StreamSessionEvents::deserialize_strict(&mut serde_json::Deserializer::from_str(&text))
        .unwrap_err();
    assert!(e.to_string().contains("\"agent.message\""), "{e}");
    // and read what does read as the lenient ones do
    let ok = json!({"type": "agent.message", "id": "sevt_1", "processed_at": "2026-05-01T00:00:00Z",
                    "content": []});
    assert!(matches!(
        StreamSessionEvents::from_json_strict(&ok.to_string()).unwrap(),
        StreamSessionEvents::AgentMessage(_)
    ));
}

#[test]
fn request_unions_stay_strict() {
    let e = serde_json::from_value::<EventParams>(json!({"type": "user.message", "content": null}))
        .unwrap_err();
    assert!(e.to_string().contains("\"user.message\""), "{e}");
    // an unknown request kind is still kept (the API may accept it)
    let v = json!({"type": "user.telepathy"});
    assert!(matches!(
        serde_json::from_value::<EventParams>(v).unwrap(),
        EventParams::Unknown(_)
    ));
}
