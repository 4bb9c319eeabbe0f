//! The spans of the `tracing` feature, collected as OpenTelemetry spans (`tracing-opentelemetry`
//! into an in-memory exporter) and checked for their names, nesting and attributes: a runner
//! turn with a custom tool on a stream the emulator drops, and an event stream that reconnects.
//!
//! The subscriber is the process's global one (the runner's spans start on threads of their
//! own), so other tests' spans are collected too: each test reads only the trace of its own
//! root span.

use crate::support::emulated::{cloud_session, setup};
use managed_agents::types::*;
use managed_agents_emulator::{Faults, Script};
use opentelemetry::trace::{SpanKind, Status, TraceId, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use serde_json::json;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

/// Every span ended so far, kept in memory.
#[derive(Debug, Clone, Default)]
struct InMemory(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for InMemory {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0.lock().unwrap().extend(batch);
        std::future::ready(Ok(()))
    }
}

/// The spans, once the global subscriber sends them there.
fn collected() -> &'static InMemory {
    static SPANS: OnceLock<InMemory> = OnceLock::new();
    SPANS.get_or_init(|| {
        let spans = InMemory::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let tracer = provider.tracer("managed-agents-tests");
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        // the requests of the traces a test opted in carry their call span's trace context
        let propagator = opentelemetry_sdk::propagation::TraceContextPropagator::new();
        managed_agents::telemetry::set_trace_context_injector(move |span| {
            use opentelemetry::propagation::TextMapPropagator;
            use opentelemetry::trace::TraceContextExt;
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            let context = span.context();
            let trace = context.span().span_context().trace_id();
            if !propagating().lock().unwrap().contains(&trace) {
                return Vec::new();
            }
            let mut headers = std::collections::HashMap::new();
            propagator.inject_context(&context, &mut headers);
            headers.into_iter().collect()
        });
        spans
    })
}

/// The traces whose requests carry their trace context: only a test that asks has it, so
/// that the requests of the others stay as they are.
fn propagating() -> &'static Mutex<std::collections::HashSet<TraceId>> {
    static TRACES: OnceLock<Mutex<std::collections::HashSet<TraceId>>> = OnceLock::new();
    TRACES.get_or_init(Default::default)
}

/// Runs `f` in a root span of its own; returns the spans of its trace, once all have ended.
fn traced(f: impl FnOnce()) -> Vec<SpanData> {
    static ROOTS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let spans = collected();
    let id = ROOTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let root = tracing::info_span!("test root", "test.root" = id);
    root.in_scope(f);
    drop(root);
    // the root ends when the last thread holding it (a stream's reader, a handler) lets go
    let find = || {
        let all = spans.0.lock().unwrap();
        all.iter()
            .find(|s| s.name == "test root" && attr(s, "test.root") == Some(&Value::I64(id)))
            .map(|s| s.span_context.trace_id())
    };
    let mut trace: Option<TraceId> = None;
    crate::support::eventually("the root span's end", || {
        trace = find();
        trace.is_some()
    });
    let trace = trace.expect("the root span");
    let all = spans.0.lock().unwrap();
    all.iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .cloned()
        .collect()
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .rfind(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn text(span: &SpanData, key: &str) -> String {
    match attr(span, key) {
        Some(Value::String(s)) => s.to_string(),
        other => panic!("{}: {key} is {other:?}", span.name),
    }
}

fn int(span: &SpanData, key: &str) -> i64 {
    match attr(span, key) {
        Some(Value::I64(n)) => *n,
        other => panic!("{}: {key} is {other:?}", span.name),
    }
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found = named(spans, name);
    assert_eq!(found.len(), 1, "{name}: {:?}", names(spans));
    found[0]
}

fn names(spans: &[SpanData]) -> Vec<String> {
    spans.iter().map(|s| s.name.to_string()).collect()
}

fn is_child(child: &SpanData, parent: &SpanData) -> bool {
    child.parent_span_id == parent.span_context.span_id()
}

fn tool() -> CustomToolParams {
    CustomToolParams::new(
        "lookup",
        "Look a word up",
        json!({"type": "object", "properties": {"word": {"type": "string"}}}),
    )
}

#[test]
fn a_runner_turn_with_a_custom_tool_and_a_dropped_stream_is_one_tree_of_spans() {
    let (emu, client) = setup();
    emu.set_thinking(Duration::ZERO);
    emu.set_script(
        Script::new()
            .call_tool("lookup", json!({"word": "secret-word"}))
            .say("done"),
    );
    // every connection closes after two events: the runner reconnects during the turn
    emu.set_faults(Faults {
        drop_stream_after: Some(2),
        ..Faults::default()
    });
    let mut session_id = String::new();
    let spans = traced(|| {
        let session = cloud_session(&client, Some(tool()));
        session_id = session.id.clone();
        let outcome = client
            .run(&session.id)
            .message("look it up")
            .tool("lookup", |call| {
                // the handler runs in the tool's span: its own spans are the tool's children
                tracing::info_span!("inside the handler")
                    .in_scope(|| Ok::<_, String>(format!("{} means nothing", call.input["word"])))
            })
            .deadline(Duration::from_secs(60))
            .until_idle()
            .unwrap();
        assert_eq!(outcome.tool_calls.len(), 1);
    });
    let root = one(&spans, "test root");

    // one span per API call, named as the Python SDK names it, kind client
    let create = one(&spans, "anthropic.sessions.create");
    assert!(is_child(create, root));
    assert_eq!(create.span_kind, SpanKind::Client);
    assert_eq!(create.status, Status::Ok);
    assert_eq!(text(create, "anthropic.session.id"), session_id);
    assert_eq!(text(create, "http.request.method"), "POST");
    assert_eq!(text(create, "http.route"), "/v1/sessions");
    assert_eq!(text(create, "url.path"), "/v1/sessions");
    assert_eq!(text(create, "gen_ai.provider.name"), "anthropic");
    assert_eq!(text(create, "server.address"), "127.0.0.1");
    assert_eq!(int(create, "http.response.status_code"), 200);
    assert!(text(create, "gen_ai.agent.id").starts_with("agent_"));
    assert_eq!(text(create, "gen_ai.agent.name"), "A");
    assert_eq!(text(create, "gen_ai.request.model"), "claude-opus-4-5");
    let agent = one(&spans, "anthropic.agents.create");
    let agent_id = text(agent, "gen_ai.agent.id");

    // the turn
    let turn = one(&spans, "invoke_agent");
    assert!(is_child(turn, root));
    assert_eq!(turn.span_kind, SpanKind::Internal);
    assert_eq!(turn.status, Status::Ok);
    assert_eq!(text(turn, "gen_ai.operation.name"), "invoke_agent");
    assert_eq!(text(turn, "gen_ai.conversation.id"), session_id);
    assert_eq!(text(turn, "gen_ai.agent.id"), agent_id);
    assert!(int(turn, "gen_ai.usage.output_tokens") > 0);
    assert!(int(turn, "gen_ai.usage.input_tokens") > 0);
    // no content unless asked
    assert!(attr(turn, "gen_ai.input.messages").is_none());

    // its API calls are its children: the message, the tool's result, the reads
    let sends = named(&spans, "anthropic.sessions.events.send");
    assert!(sends.len() >= 2, "{:?}", names(&spans));
    assert!(sends.iter().all(|s| is_child(s, turn)));
    assert!(sends
        .iter()
        .all(|s| text(s, "anthropic.session.id") == session_id
            && text(s, "http.route") == "/v1/sessions/{session_id}/events"));

    // one span per stream connection: the stream was dropped, so there are several
    let streams = named(&spans, "anthropic.sessions.events.stream");
    assert!(streams.len() >= 2, "{:?}", names(&spans));
    for s in &streams {
        assert!(is_child(s, turn), "{s:?}");
        assert_eq!(s.span_kind, SpanKind::Client);
        assert_eq!(text(s, "anthropic.session.id"), session_id);
        assert_eq!(int(s, "anthropic.stream.reconnects"), 0);
    }
    // a connection counts the events it delivered (some come through the listings instead)
    let delivered: Vec<&&SpanData> = streams
        .iter()
        .filter(|s| int(s, "anthropic.stream.events") > 0)
        .collect();
    assert!(!delivered.is_empty(), "{streams:?}");
    for s in delivered {
        assert!(int(s, "anthropic.stream.events") >= 1);
        match attr(s, "gen_ai.response.time_to_first_chunk") {
            Some(Value::F64(t)) => assert!(*t > 0.0 && *t < 60.0, "{t}"),
            other => panic!("time to first chunk: {other:?}"),
        }
    }

    // the tool call: a child of the turn, the handler's spans its children
    let call = one(&spans, "anthropic.custom_tool_use lookup");
    assert!(is_child(call, turn));
    assert_eq!(call.span_kind, SpanKind::Internal);
    assert_eq!(call.status, Status::Ok);
    assert_eq!(text(call, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(text(call, "gen_ai.tool.name"), "lookup");
    assert!(text(call, "gen_ai.tool.call.id").starts_with("sevt_"));
    assert_eq!(text(call, "gen_ai.conversation.id"), session_id);
    assert_eq!(text(call, "anthropic.session.id"), session_id);
    assert!(attr(call, "gen_ai.tool.call.arguments").is_none());
    assert!(attr(call, "anthropic.tool_result.content").is_none());
    let inside = one(&spans, "inside the handler");
    assert!(is_child(inside, call));
}

#[test]
fn content_is_recorded_only_when_asked() {
    let (emu, _) = setup();
    emu.set_thinking(Duration::ZERO);
    emu.set_script(
        Script::new()
            .call_tool("lookup", json!({"word": "secret-word"}))
            .say("done"),
    );
    let client = managed_agents::Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .trace_content(true)
        .build()
        .unwrap();
    let spans = traced(|| {
        let session = cloud_session(&client, Some(tool()));
        client
            .run(&session.id)
            .message("look it up")
            .tool("lookup", |_| Ok::<_, String>("a word"))
            .deadline(Duration::from_secs(60))
            .until_idle()
            .unwrap();
    });
    let turn = one(&spans, "invoke_agent");
    let messages: serde_json::Value =
        serde_json::from_str(&text(turn, "gen_ai.input.messages")).unwrap();
    assert_eq!(
        messages,
        json!([{"role": "user", "parts": [{"type": "text", "content": "look it up"}]}])
    );
    let call = one(&spans, "anthropic.custom_tool_use lookup");
    let arguments: serde_json::Value =
        serde_json::from_str(&text(call, "gen_ai.tool.call.arguments")).unwrap();
    assert_eq!(arguments, json!({"word": "secret-word"}));
    assert!(text(call, "anthropic.tool_result.content").contains("a word"));
}

#[test]
fn an_event_stream_that_reconnects_has_a_span_per_connection() {
    let (emu, client) = setup();
    // slow enough that the events come live, after the listing behind the open
    emu.set_thinking(Duration::from_millis(150));
    emu.set_script(Script::new().say("one").say("two").say("three"));
    emu.set_faults(Faults {
        drop_stream_after: Some(2),
        ..Faults::default()
    });
    let spans = traced(|| {
        let session = cloud_session(&client, None);
        let mut stream = client
            .sessions()
            .events()
            .stream(&session.id, managed_agents::StreamOptions::new())
            .unwrap();
        client
            .sessions()
            .events()
            .send(
                &session.id,
                &EventSendParams::one(UserMessageEventParams::text("hi")),
            )
            .unwrap();
        let idle = stream
            .by_ref()
            .find(|e| matches!(e, Ok(SessionEvent::SessionStatusIdle(_))));
        assert!(idle.is_some());
        drop(stream);
    });
    let root = one(&spans, "test root");
    let mut streams = named(&spans, "anthropic.sessions.events.stream");
    assert!(streams.len() >= 2, "{:?}", names(&spans));
    streams.sort_by_key(|s| int(s, "anthropic.stream.reconnects"));
    for (i, s) in streams.iter().enumerate() {
        assert!(is_child(s, root));
        assert_eq!(int(s, "anthropic.stream.reconnects"), i as i64);
    }
    // the server closed each connection cleanly (no error), after the events it sent
    // (the events may all have come through the listings behind the connections: each
    // connection counts only those it delivered itself, at most the two it carried)
    for s in &streams[..streams.len() - 1] {
        assert_eq!(s.status, Status::Unset);
        assert!(int(s, "anthropic.stream.events") <= 2);
    }
}

#[test]
fn a_work_item_is_a_span_around_its_session_s_turn() {
    use crate::support::emulated::{drain, self_hosted_session};
    let (emu, client) = setup();
    emu.set_thinking(Duration::ZERO);
    emu.set_script(Script::new().say("done"));
    let dir = crate::support::tempdir();
    let mut ids = (String::new(), String::new());
    let spans = traced(|| {
        ids = self_hosted_session(&client);
        let stats = drain(&client, &ids.0, dir.path());
        assert_eq!(stats.ran, 1, "{stats:?}");
    });
    let (env, session) = ids;
    let root = one(&spans, "test root");
    let work = one(&spans, "anthropic.environment.work");
    assert!(is_child(work, root));
    assert_eq!(work.span_kind, SpanKind::Internal);
    assert_eq!(work.status, Status::Ok);
    assert_eq!(text(work, "anthropic.environment.id"), env);
    assert_eq!(text(work, "anthropic.session.id"), session);
    assert!(text(work, "anthropic.environment.work.id").starts_with("work_"));
    // the session's turn runs inside it
    let turn = one(&spans, "invoke_agent");
    assert!(is_child(turn, work));
    assert_eq!(text(turn, "gen_ai.conversation.id"), session);
    // the work queue's calls are named as the Python SDK names them
    assert!(!named(&spans, "anthropic.environments.work.poll").is_empty());
    let ack = one(&spans, "anthropic.environments.work.ack");
    assert_eq!(text(ack, "anthropic.environment.id"), env);
    assert_eq!(
        text(ack, "http.route"),
        "/v1/environments/{environment_id}/work/{work_id}/ack"
    );
}

/// Runs `f` in a root span whose requests carry their trace context; returns its trace id
/// and the spans of its trace.
fn propagated(f: impl FnOnce()) -> (TraceId, Vec<SpanData>) {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let mut trace = None;
    let spans = traced(|| {
        let id = tracing::Span::current()
            .context()
            .span()
            .span_context()
            .trace_id();
        propagating().lock().unwrap().insert(id);
        trace = Some(id);
        f();
    });
    (trace.expect("the root's trace"), spans)
}

/// The `traceparent` of each request the emulator logged: (path, value).
fn traceparents(emu: &managed_agents_emulator::Emulator) -> Vec<(String, Option<String>)> {
    emu.request_log()
        .iter()
        .map(|r| (r.path.clone(), r.header("traceparent").map(String::from)))
        .collect()
}

#[test]
fn every_attempt_carries_its_call_span_s_trace_context() {
    let (emu, client) = setup();
    let (trace, spans) = propagated(|| {
        client.agents().list(&Default::default()).unwrap();
        // the next answer fails: the call is sent again, with the same context
        emu.set_faults(Faults {
            fail_next: 1,
            fail_status: 500,
            retry_after_ms: 1,
            ..Faults::default()
        });
        client
            .agents()
            .create(&AgentCreateParams::new("A", "claude-opus-4-5"))
            .unwrap();
    });
    let sent = traceparents(&emu);
    assert_eq!(sent.len(), 3, "{sent:?}");
    let want = |name: &str| {
        let span = one(&spans, name);
        assert_eq!(span.span_context.trace_id(), trace);
        // W3C Trace Context: version, trace id, the call span's id, sampled
        format!("00-{}-{}-01", trace, span.span_context.span_id())
    };
    assert_eq!(
        sent[0].1.as_deref(),
        Some(want("anthropic.agents.list").as_str())
    );
    let create = want("anthropic.agents.create");
    assert_eq!(
        sent[1].1.as_deref(),
        Some(create.as_str()),
        "the first attempt"
    );
    assert_eq!(sent[2].1.as_deref(), Some(create.as_str()), "the retry");
}

#[test]
fn the_trace_context_replaces_a_header_of_that_name_and_can_be_turned_off() {
    let (emu, _) = setup();
    let own = managed_agents::Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .build()
        .unwrap();
    let off = managed_agents::Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .trace_propagation(false)
        .build()
        .unwrap();
    let (trace, _) = propagated(|| {
        own.agents().list(&Default::default()).unwrap();
        off.agents().list(&Default::default()).unwrap();
    });
    let sent = traceparents(&emu);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let replaced = sent[0].1.as_deref().unwrap_or("");
    assert!(replaced.starts_with(&format!("00-{trace}-")), "{replaced}");
    assert_eq!(sent[1].1, None, "propagation off");
}
