//! Values this version does not know (a new event type, content block, tool, status) survive a
//! round trip unchanged, inside a list page and inside an event-stream body.

use managed_agents::stream::StreamOptions;
use managed_agents::types::*;
use managed_agents::Client;
use mockito::{Matcher, Server};
use serde_json::{json, Value};

fn future_event() -> Value {
    json!({"type": "agent.telepathy", "id": "sevt_9", "processed_at": "2026-11-01T00:00:00+02:00",
           "payload": {"thoughts": ["a", "b"], "intensity": 0.5}})
}

/// An agent message whose second content block is of a kind not known yet.
fn message_with_future_block() -> Value {
    json!({"type": "agent.message", "id": "sevt_10", "processed_at": "2026-11-01T00:00:01Z",
           "content": [{"type": "text", "text": "hi"}, {"type": "hologram", "frames": 3}]})
}

#[test]
fn a_future_event_type_is_kept_whole() {
    let ev: SessionEvent = serde_json::from_value(future_event()).unwrap();
    assert!(matches!(ev, SessionEvent::Unknown(_)));
    assert_eq!(ev.tag(), Some("agent.telepathy"));
    assert_eq!(serde_json::to_value(&ev).unwrap(), future_event());
}

#[test]
fn a_future_content_block_is_kept_inside_a_known_event() {
    let ev: SessionEvent = serde_json::from_value(message_with_future_block()).unwrap();
    let SessionEvent::AgentMessage(m) = &ev else {
        panic!("{ev:?}")
    };
    assert_eq!(m.content.len(), 2);
    assert!(matches!(m.content[1], AgentMessageEventContent::Unknown(_)));
    assert_eq!(
        serde_json::to_value(&ev).unwrap(),
        message_with_future_block()
    );
}

#[test]
fn a_future_tool_type_and_status_survive() {
    let tool: AgentTool =
        serde_json::from_value(json!({"type": "quantum_toolset_20270101", "qubits": 8})).unwrap();
    assert!(matches!(tool, AgentTool::Unknown(_)));
    assert_eq!(
        serde_json::to_value(&tool).unwrap(),
        json!({"type": "quantum_toolset_20270101", "qubits": 8})
    );

    let status: SessionStatus = serde_json::from_value(json!("hibernating")).unwrap();
    assert_eq!(status, SessionStatus::Other("hibernating".into()));
    assert_eq!(serde_json::to_value(&status).unwrap(), json!("hibernating"));
    let known: SessionStatus = serde_json::from_value(json!("idle")).unwrap();
    assert_eq!(known, SessionStatus::Idle);
}

#[test]
fn a_wrong_constant_is_an_error_that_names_it() {
    let err = serde_json::from_value::<TextBlockParam>(json!({"type": "image", "text": "x"}))
        .unwrap_err();
    assert!(err.to_string().contains("expected \"text\""), "{err}");
}

#[test]
fn unknown_values_pass_through_a_list_page() {
    let mut server = Server::new();
    let body = json!({"data": [future_event(), message_with_future_block()], "next_page": null});
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
    assert_eq!(serde_json::to_value(&page.data[0]).unwrap(), future_event());
    assert_eq!(
        serde_json::to_value(&page.data[1]).unwrap(),
        message_with_future_block()
    );
}

#[test]
fn unknown_values_pass_through_an_event_stream_body() {
    let mut server = Server::new();
    let body = format!(
        "event: message\ndata: {}\n\n: heartbeat\n\nevent: message\ndata: {}\n\n",
        future_event(),
        message_with_future_block()
    );
    server
        .mock("GET", "/v1/sessions/sesn_1/events/stream")
        .match_query(Matcher::Any)
        .with_header("content-type", "text/event-stream")
        .with_body(body)
        .create();
    // opening the stream reads where the log ends
    server
        .mock("GET", "/v1/sessions/sesn_1/events")
        .match_query(Matcher::Any)
        .with_header("content-type", "application/json")
        .with_body(r#"{"data": [], "next_page": null}"#)
        .create();
    let client = Client::builder()
        .api_key("k")
        .base_url(server.url())
        .build()
        .unwrap();
    let stream = client
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new().max_reconnects(0))
        .unwrap();
    let events: Vec<SessionEvent> = stream.take(2).map(Result::unwrap).collect();
    assert_eq!(events.len(), 2);
    assert!(matches!(events[0], SessionEvent::Unknown(_)));
    assert_eq!(serde_json::to_value(&events[0]).unwrap(), future_event());
    assert_eq!(
        serde_json::to_value(&events[1]).unwrap(),
        message_with_future_block()
    );
}
