//! `--otlp-endpoint` (or `OTEL_EXPORTER_OTLP_ENDPOINT`): the library's spans (its `tracing`
//! feature) exported over OTLP/HTTP, so that a batch shows up in Jaeger, Tempo or Honeycomb as
//! one trace per task. The OpenTelemetry SDK's batch span processor runs on a thread of its
//! own and hands each batch to [`OtlpJson`], which writes the OTLP JSON encoding with
//! serde_json and posts it with ureq: no async runtime (opentelemetry-otlp's encoders come
//! with tonic, and so with tokio). `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,...`, values
//! percent-encoded) is sent with every export; its values may be secrets, so nothing here
//! logs or prints them, and the variable is taken out of the environment of what the
//! program runs.
//!
//! While spans are exported, the library's requests carry the trace context of their call's
//! span (W3C `traceparent` and `tracestate`, as the official SDKs send it; see
//! [`managed_agents::telemetry`]), and a task's root span is the child of the trace the
//! caller's environment names in `TRACEPARENT` and `TRACESTATE` (the OpenTelemetry
//! specification's environment variables as context propagation carriers), so that a batch
//! a CI job or a scheduler starts joins that job's trace; a tool command is given its tool
//! call's span there in turn.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use serde_json::{json, Value as Json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt;

/// The variable that names the collector, when `--otlp-endpoint` does not.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The variable of the headers sent with every export.
pub const HEADERS_VAR: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// The service the spans come from.
const SERVICE_NAME: &str = "managed-agents";
/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the end of the program waits for spans still open (a session's stream reader
/// lets go of its connection, and so of its task's spans, a moment after the run returns).
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The spans' exporter while the program runs; [`Telemetry::shutdown`] sends what is left.
pub struct Telemetry {
    provider: SdkTracerProvider,
    open: Arc<AtomicUsize>,
}

impl Telemetry {
    /// Waits (a little) for the spans still open to end, sends the spans not sent yet and
    /// stops the exporter's thread.
    pub fn shutdown(self) {
        let until = std::time::Instant::now() + CLOSE_WAIT;
        while self.open.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Err(e) = self.provider.shutdown() {
            log::warn!("exporting the last spans failed: {e}");
        }
    }
}

/// The headers of `OTEL_EXPORTER_OTLP_HEADERS`, read (and taken out of the environment) while
/// the program has one thread. Called before anything else reads the environment.
pub fn take_headers() -> Result<Vec<(String, String)>, String> {
    let Some(raw) = std::env::var_os(HEADERS_VAR) else {
        return Ok(Vec::new());
    };
    // no child or thread sees it: the program has one thread here (see main)
    std::env::remove_var(HEADERS_VAR);
    let raw = raw
        .into_string()
        .map_err(|_| format!("{HEADERS_VAR} is not UTF-8"))?;
    parse_headers(&raw)
}

/// `key=value` pairs between commas, each value percent-decoded (the W3C baggage format the
/// OpenTelemetry variables use). An error names the pair's position, never its value.
pub fn parse_headers(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for (i, pair) in raw.split(',').enumerate() {
        if pair.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!("{HEADERS_VAR}: entry {} has no `=`", i + 1));
        };
        let key = percent_decode(key.trim())
            .ok_or_else(|| format!("{HEADERS_VAR}: entry {} is not valid", i + 1))?;
        let value = percent_decode(value.trim())
            .ok_or_else(|| format!("{HEADERS_VAR}: the value of {key:?} is not valid"))?;
        if key.is_empty() {
            return Err(format!("{HEADERS_VAR}: entry {} has no name", i + 1));
        }
        headers.push((key, value));
    }
    Ok(headers)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL the spans are posted to: the endpoint with `/v1/traces` after it, as the
/// OpenTelemetry variable means it (unless it already ends so).
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_string()
    } else {
        format!("{base}/v1/traces")
    }
}

/// Starts exporting the spans to `endpoint` (the flag's, else `OTEL_EXPORTER_OTLP_ENDPOINT`'s);
/// `None` when neither names one.
pub fn init(
    endpoint: Option<&str>,
    headers: Vec<(String, String)>,
) -> Result<Option<Telemetry>, String> {
    let from_env = std::env::var(ENDPOINT_VAR).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = endpoint.map(String::from).or(from_env) else {
        return Ok(None);
    };
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(format!(
            "--otlp-endpoint {endpoint:?} is not an http:// or https:// URL"
        ));
    }
    let exporter = OtlpJson {
        agent: ureq::Agent::config_builder()
            .timeout_global(Some(EXPORT_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .new_agent(),
        url: traces_url(&endpoint),
        headers,
    };
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("managed-agents-cli");
    let open = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .with(OpenSpans(open.clone()));
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| format!("could not start the span exporter: {e}"))?;
    managed_agents::telemetry::set_trace_context_injector(|span| {
        let mut headers = Headers(Vec::new());
        TraceContextPropagator::new().inject_context(&span.context(), &mut headers);
        headers.0
    });
    if let Some(parent) = parent_from(&EnvCarrier) {
        let _ = PARENT.set(parent);
    }
    Ok(Some(Telemetry { provider, open }))
}

/// The trace the caller's environment names, parent of every task's root span.
static PARENT: OnceLock<Context> = OnceLock::new();

/// Makes `root`, a span just started with no parent, the child of the trace the caller's
/// `TRACEPARENT` names, if it names one and spans are exported. Call it before the span is
/// entered: a span's parent cannot change once it has started.
pub fn adopt_parent(root: &tracing::Span) {
    if let Some(parent) = PARENT.get() {
        if let Err(e) = root.set_parent(parent.clone()) {
            log::debug!("the root span keeps no parent: {e}");
        }
    }
}

/// The context a carrier's `traceparent` and `tracestate` give, when the first is valid.
/// A `traceparent` that is not valid is ignored (with a warning): the task is a trace of its
/// own, as without one.
pub fn parent_from(carrier: &dyn Extractor) -> Option<Context> {
    let raw = carrier.get("traceparent")?;
    let cx = TraceContextPropagator::new().extract(carrier);
    if cx.span().span_context().is_valid() {
        Some(cx)
    } else {
        log::warn!(
            "TRACEPARENT is not a W3C traceparent ({} characters); the tasks start traces of their own",
            raw.len()
        );
        None
    }
}

/// The environment as a carrier of trace context: a key's variable is its name in upper
/// case (`traceparent` is `TRACEPARENT`), as the OpenTelemetry specification has it.
struct EnvCarrier;

impl Extractor for EnvCarrier {
    fn get(&self, key: &str) -> Option<&str> {
        static VALUES: OnceLock<Vec<(String, String)>> = OnceLock::new();
        let values = VALUES.get_or_init(|| {
            ["TRACEPARENT", "TRACESTATE"]
                .into_iter()
                .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
                .collect()
        });
        let name = key.to_ascii_uppercase();
        values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// Gives a command the program runs for the span current here (a tool call's) that span's
/// trace context in its environment, `TRACEPARENT` and `TRACESTATE` in place of the ones the
/// program was given, so that the command's own spans join the trace: the environment
/// carriers' other side. Nothing changes when spans are not exported.
pub fn pass_context(cmd: &mut std::process::Command) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    let mut headers = Headers(Vec::new());
    TraceContextPropagator::new().inject_context(&span.context(), &mut headers);
    if headers.0.is_empty() {
        return;
    }
    cmd.env_remove("TRACEPARENT").env_remove("TRACESTATE");
    for (key, value) in headers.0 {
        cmd.env(key.to_ascii_uppercase(), value);
    }
}

/// The headers a propagator writes, in the order it writes them.
struct Headers(Vec<(String, String)>);

impl opentelemetry::propagation::Injector for Headers {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_string(), value));
    }
}

/// Counts the spans open, so that the end of the program can wait for them.
struct OpenSpans(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for OpenSpans {
    fn on_new_span(
        &self,
        _: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn on_close(&self, _: tracing::span::Id, _: tracing_subscriber::layer::Context<'_, S>) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Posts spans to an OTLP/HTTP collector in the OTLP JSON encoding.
struct OtlpJson {
    agent: ureq::Agent,
    url: String,
    /// Sent with every export; never printed (see the `Debug` impl).
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for OtlpJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpJson")
            .field("url", &self.url)
            .field("headers", &names)
            .finish()
    }
}

impl SpanExporter for OtlpJson {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        // the batch processor's thread waits for this: the post is made here, blocking
        std::future::ready(self.post(&batch))
    }
}

impl OtlpJson {
    fn post(&self, batch: &[SpanData]) -> OTelSdkResult {
        let body = encode(batch).to_string();
        let mut req = self.agent.post(&self.url).content_type("application/json");
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send(body.as_bytes()) {
            Ok(resp) if resp.status().is_success() => Ok(()),
            // the status only: a collector's answer may echo the request's headers
            Ok(resp) => Err(OTelSdkError::InternalFailure(format!(
                "the collector answered {}",
                resp.status().as_u16()
            ))),
            Err(e) => Err(OTelSdkError::InternalFailure(format!(
                "the collector could not be reached: {}",
                error_kind(&e)
            ))),
        }
    }
}

/// What went wrong with an export's connection, without the request's details.
fn error_kind(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timeout",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::ConnectionFailed => "connection failed",
        ureq::Error::Io(_) => "i/o error",
        _ => "transport error",
    }
}

/// The OTLP JSON body of `spans`: one resource (the service), one scope per instrumentation
/// scope in order, ids in hex and times as strings of nanoseconds, as the OTLP JSON mapping has it;
/// each span with its trace state, flags, events and links (`tests/python_sdk/otlp.py` parses
/// what this sends with the protocol's own schema).
pub fn encode(spans: &[SpanData]) -> Json {
    let mut scopes: Vec<(String, Vec<Json>)> = Vec::new();
    for span in spans {
        let scope = span.instrumentation_scope.name().to_string();
        let encoded = encode_span(span);
        match scopes.iter_mut().find(|(name, _)| *name == scope) {
            Some((_, list)) => list.push(encoded),
            None => scopes.push((scope, vec![encoded])),
        }
    }
    let scope_spans: Vec<Json> = scopes
        .into_iter()
        .map(|(name, spans)| json!({"scope": {"name": name}, "spans": spans}))
        .collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [attribute(&KeyValue::new("service.name", SERVICE_NAME))]},
        "scopeSpans": scope_spans,
    }]})
}

fn encode_span(span: &SpanData) -> Json {
    let ctx = &span.span_context;
    let mut out = json!({
        "traceId": ctx.trace_id().to_string(),
        "spanId": ctx.span_id().to_string(),
        "flags": flags(ctx, span.parent_span_is_remote),
        "name": span.name,
        "kind": match span.span_kind {
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        },
        "startTimeUnixNano": nanos(span.start_time),
        "endTimeUnixNano": nanos(span.end_time),
        "attributes": span.attributes.iter().map(attribute).collect::<Vec<_>>(),
        "status": match &span.status {
            Status::Unset => json!({}),
            Status::Ok => json!({"code": 1}),
            Status::Error { description } => json!({"code": 2, "message": description}),
        },
    });
    let state = ctx.trace_state().header();
    if !state.is_empty() {
        out["traceState"] = json!(state);
    }
    if span.parent_span_id != opentelemetry::trace::SpanId::INVALID {
        out["parentSpanId"] = json!(span.parent_span_id.to_string());
    }
    if span.dropped_attributes_count > 0 {
        out["droppedAttributesCount"] = json!(span.dropped_attributes_count);
    }
    if !span.events.is_empty() {
        out["events"] = span
            .events
            .iter()
            .map(|e| {
                let mut event = json!({
                    "timeUnixNano": nanos(e.timestamp),
                    "name": e.name,
                    "attributes": e.attributes.iter().map(attribute).collect::<Vec<_>>(),
                });
                if e.dropped_attributes_count > 0 {
                    event["droppedAttributesCount"] = json!(e.dropped_attributes_count);
                }
                event
            })
            .collect();
    }
    if span.events.dropped_count > 0 {
        out["droppedEventsCount"] = json!(span.events.dropped_count);
    }
    if !span.links.is_empty() {
        out["links"] = span
            .links
            .iter()
            .map(|l| {
                let c = &l.span_context;
                let mut link = json!({
                    "traceId": c.trace_id().to_string(),
                    "spanId": c.span_id().to_string(),
                    "attributes": l.attributes.iter().map(attribute).collect::<Vec<_>>(),
                    "flags": flags(c, c.is_remote()),
                });
                let state = c.trace_state().header();
                if !state.is_empty() {
                    link["traceState"] = json!(state);
                }
                if l.dropped_attributes_count > 0 {
                    link["droppedAttributesCount"] = json!(l.dropped_attributes_count);
                }
                link
            })
            .collect();
    }
    if span.links.dropped_count > 0 {
        out["droppedLinksCount"] = json!(span.links.dropped_count);
    }
    out
}

/// A span's or a link's `flags`: the W3C trace flags in the low byte, then whether the parent
/// (or the linked span) is known to be remote, as OTLP's `SpanFlags` has them.
fn flags(ctx: &opentelemetry::trace::SpanContext, remote: bool) -> u32 {
    /// `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: the next bit says whether it is remote.
    const HAS_IS_REMOTE: u32 = 0x100;
    /// `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`.
    const IS_REMOTE: u32 = 0x200;
    u32::from(ctx.trace_flags().to_u8()) | HAS_IS_REMOTE | if remote { IS_REMOTE } else { 0 }
}

fn nanos(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        .to_string()
}

fn attribute(kv: &KeyValue) -> Json {
    json!({"key": kv.key.as_str(), "value": any_value(&kv.value)})
}

/// An attribute's value as OTLP's `AnyValue` in JSON: a 64-bit integer as a string, a double
/// that is not finite by its name (`NaN`, `Infinity`, `-Infinity`: a JSON number cannot hold
/// it), an array as an `arrayValue` of values.
fn any_value(v: &Value) -> Json {
    use opentelemetry::Array;
    fn double(f: f64) -> Json {
        if f.is_nan() {
            json!({"doubleValue": "NaN"})
        } else if f.is_infinite() {
            json!({"doubleValue": if f > 0.0 { "Infinity" } else { "-Infinity" }})
        } else {
            json!({"doubleValue": f})
        }
    }
    fn array(values: Vec<Json>) -> Json {
        json!({"arrayValue": {"values": values}})
    }
    match v {
        Value::Bool(b) => json!({"boolValue": b}),
        // a 64-bit integer is a string in OTLP JSON
        Value::I64(n) => json!({"intValue": n.to_string()}),
        Value::F64(f) => double(*f),
        Value::String(s) => json!({"stringValue": s.as_str()}),
        Value::Array(Array::Bool(list)) => {
            array(list.iter().map(|b| json!({"boolValue": b})).collect())
        }
        Value::Array(Array::I64(list)) => array(
            list.iter()
                .map(|n| json!({"intValue": n.to_string()}))
                .collect(),
        ),
        Value::Array(Array::F64(list)) => array(list.iter().map(|f| double(*f)).collect()),
        Value::Array(Array::String(list)) => array(
            list.iter()
                .map(|s| json!({"stringValue": s.as_str()}))
                .collect(),
        ),
        // a kind of value newer than this encoder: its text, rather than nothing
        other => json!({"stringValue": other.to_string()}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_pairs_with_percent_decoded_values() {
        assert_eq!(
            parse_headers("x-honeycomb-team=abc%3D1, Authorization=Bearer%20t").unwrap(),
            vec![
                ("x-honeycomb-team".to_string(), "abc=1".to_string()),
                ("Authorization".to_string(), "Bearer t".to_string())
            ]
        );
        // an error never shows a value
        let e = parse_headers("a=secret-one,b=%zz-secret").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
        assert!(parse_headers("novalue").is_err());
    }

    #[test]
    fn the_traces_path_is_added_once() {
        assert_eq!(traces_url("http://h:4318"), "http://h:4318/v1/traces");
        assert_eq!(traces_url("http://h:4318/"), "http://h:4318/v1/traces");
        assert_eq!(traces_url("http://h/v1/traces"), "http://h/v1/traces");
    }

    #[test]
    fn the_exporter_s_debug_names_headers_without_their_values() {
        let e = OtlpJson {
            agent: ureq::Agent::new_with_defaults(),
            url: "http://h/v1/traces".into(),
            headers: vec![("authorization".into(), "Bearer secret".into())],
        };
        let shown = format!("{e:?}");
        assert!(
            shown.contains("authorization") && !shown.contains("secret"),
            "{shown}"
        );
    }

    fn span_data() -> SpanData {
        use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
        use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
        let trace = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
        let state = TraceState::from_key_value([("vendor", "opaque")]).unwrap();
        let at = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let mut events = SpanEvents::default();
        events.events.push(opentelemetry::trace::Event::new(
            "retry",
            at,
            vec![KeyValue::new("attempt", 1)],
            0,
        ));
        let mut links = SpanLinks::default();
        links.links.push(opentelemetry::trace::Link::new(
            SpanContext::new(
                trace,
                SpanId::from_hex("1111111111111111").unwrap(),
                TraceFlags::SAMPLED,
                true,
                state.clone(),
            ),
            vec![KeyValue::new("why", "follows")],
            0,
        ));
        SpanData {
            span_context: SpanContext::new(
                trace,
                SpanId::from_hex("00f067aa0ba902b7").unwrap(),
                TraceFlags::SAMPLED,
                false,
                state.clone(),
            ),
            parent_span_id: SpanId::from_hex("b7ad6b7169203331").unwrap(),
            parent_span_is_remote: true,
            span_kind: SpanKind::Client,
            name: "anthropic.sessions.create".into(),
            start_time: at,
            end_time: at + Duration::from_millis(5),
            attributes: vec![KeyValue::new("http.response.status_code", 200)],
            dropped_attributes_count: 2,
            events,
            links,
            status: Status::Unset,
            instrumentation_scope: opentelemetry::InstrumentationScope::builder("test").build(),
        }
    }

    #[test]
    fn an_array_attribute_is_an_array_value() {
        use opentelemetry::{Array, StringValue};
        assert_eq!(
            any_value(&Value::Array(Array::I64(vec![1, 2]))),
            json!({"arrayValue": {"values": [{"intValue": "1"}, {"intValue": "2"}]}})
        );
        assert_eq!(
            any_value(&Value::Array(Array::String(vec![StringValue::from("a")]))),
            json!({"arrayValue": {"values": [{"stringValue": "a"}]}})
        );
        assert_eq!(
            any_value(&Value::Array(Array::Bool(vec![true]))),
            json!({"arrayValue": {"values": [{"boolValue": true}]}})
        );
        assert_eq!(
            any_value(&Value::Array(Array::F64(vec![0.5]))),
            json!({"arrayValue": {"values": [{"doubleValue": 0.5}]}})
        );
    }

    #[test]
    fn a_double_that_is_not_finite_is_its_json_name() {
        // protobuf's JSON mapping: a JSON number cannot hold these; `null` would unset the value
        assert_eq!(
            any_value(&Value::F64(f64::NAN)),
            json!({"doubleValue": "NaN"})
        );
        assert_eq!(
            any_value(&Value::F64(f64::INFINITY)),
            json!({"doubleValue": "Infinity"})
        );
        assert_eq!(
            any_value(&Value::F64(f64::NEG_INFINITY)),
            json!({"doubleValue": "-Infinity"})
        );
        assert_eq!(any_value(&Value::F64(1.5)), json!({"doubleValue": 1.5}));
    }

    #[test]
    fn a_span_keeps_its_trace_state_flags_events_and_links() {
        let span = encode_span(&span_data());
        assert_eq!(span["traceState"], "vendor=opaque");
        // sampled, and the parent is known to be remote (the caller's TRACEPARENT)
        assert_eq!(span["flags"], 0x301);
        assert_eq!(span["droppedAttributesCount"], 2);
        assert_eq!(
            span["events"],
            json!([{
                "timeUnixNano": "1700000000123456789",
                "name": "retry",
                "attributes": [{"key": "attempt", "value": {"intValue": "1"}}],
            }])
        );
        assert_eq!(
            span["links"],
            json!([{
                "traceId": "0af7651916cd43dd8448eb211c80319c",
                "spanId": "1111111111111111",
                "traceState": "vendor=opaque",
                "attributes": [{"key": "why", "value": {"stringValue": "follows"}}],
                "flags": 0x301,
            }])
        );
    }
}
