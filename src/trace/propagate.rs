//! The trace context that an API call's requests carry, as the official SDKs send it: every
//! attempt of a call (the first, and each retry) gets the headers that the program's
//! propagator writes for the call's span (W3C `traceparent` and `tracestate` with
//! OpenTelemetry's), in place of any the request already had. The crate depends on `tracing`
//! alone and cannot read a span's OpenTelemetry context, so the program installs the function
//! that does ([`crate::telemetry::set_trace_context_injector`]); without one, or with
//! propagation off, requests carry nothing.

use super::CallSpan;
use std::sync::OnceLock;

/// Writes the trace context of a span as headers: the program's, installed once.
pub(crate) type Injector = dyn Fn(&tracing::Span) -> Vec<(String, String)> + Send + Sync;

/// The injector the program installed, if any.
static INJECTOR: OnceLock<Box<Injector>> = OnceLock::new();

/// Installs `injector` for the process; `false` when one was installed before (it stays).
pub(crate) fn install(injector: Box<Injector>) -> bool {
    INJECTOR.set(injector).is_ok()
}

/// The headers that carry `call`'s trace context, for every attempt of the call: empty when
/// the client's propagation is off, no injector is installed, the span is disabled, or the
/// injector fails (it never fails the call: a panic or a header that is not valid is left
/// out, as the Python SDK's `trace_headers` logs and sends none).
pub(crate) fn trace_headers(call: &CallSpan, propagation: bool) -> Vec<(String, String)> {
    if !propagation {
        return Vec::new();
    }
    let (Some(injector), Some(span)) = (
        INJECTOR.get(),
        call.span.as_ref().filter(|s| !s.is_disabled()),
    ) else {
        return Vec::new();
    };
    let headers = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| injector(span))) {
        Ok(headers) => headers,
        Err(_) => {
            log::debug!("the trace context injector panicked; the request carries none");
            return Vec::new();
        }
    };
    headers
        .into_iter()
        .filter_map(|(name, value)| {
            let valid = ureq::http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && ureq::http::HeaderValue::from_str(&value).is_ok();
            if !valid {
                log::debug!("a trace context header that is not valid was left out");
            }
            valid.then(|| (name.to_ascii_lowercase(), value))
        })
        .collect()
}
