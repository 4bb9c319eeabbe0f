//! Sending one operation: URL, headers, body, deadline and retries, on one `ureq::Agent`,
//! the client's attempt hook told of each attempt.
//! Each attempt sends the request and, for a JSON answer, reads its body (under the size
//! limit) too, so a connection that breaks in the middle of a body is retried like one that
//! breaks before it; downloads and event streams are handed over unread.

use crate::body::Body;
use crate::client::Client;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::hook::{Attempt, AttemptOutcome, RetryChoice};
use crate::op::Operation;
use crate::request_options::RequestOptions;
use crate::response::Response;
use crate::retry::{backoff, server_delay_of, should_retry_answer};
use crate::trace::CallSpan;
use crate::version::ANTHROPIC_VERSION;
use std::time::Duration;

pub(crate) use crate::error::is_timeout;

/// How one attempt went wrong.
enum Failure {
    /// An answer with an error status: retried when the status or `x-should-retry` says so,
    /// after the wait the server asked for, if any.
    Status {
        error: Error,
        retry: bool,
        wait: Option<Duration>,
    },
    /// The network failed (connecting, sending, or reading the answer; a timeout with time
    /// left): retried, as the official SDKs retry connection errors and timeouts.
    Network(Error),
    /// Not retried.
    Final(Error),
}

/// How an attempt ended, as an [`AttemptHook`](crate::AttemptHook) sees it.
fn seen(outcome: &Result<Response, Failure>) -> AttemptOutcome {
    match outcome {
        Ok(response) => AttemptOutcome::Success {
            status: response.status(),
        },
        Err(Failure::Status { error, retry, wait }) => AttemptOutcome::Status {
            status: error.status().unwrap_or(0),
            retryable: *retry,
            server_wait: *wait,
        },
        Err(Failure::Network(_)) => AttemptOutcome::Failed { retryable: true },
        Err(Failure::Final(_)) => AttemptOutcome::Failed { retryable: false },
    }
}

/// Whether a transport error is the network's (retried) rather than the request's own. The
/// client's own connections shut down on purpose (a cancelled work item's) are not retried.
fn is_network(e: &ureq::Error) -> bool {
    use ureq::Error as U;
    if let U::Io(io) = e {
        if io.kind() == std::io::ErrorKind::NotConnected && io.to_string() == "Agent is shut down" {
            return false;
        }
    }
    matches!(
        e,
        U::Io(_)
            | U::Timeout(_)
            | U::HostNotFound
            | U::ConnectionFailed
            | U::Protocol(_)
            | U::Tls(_)
            | U::BodyStalled
            | U::ConnectProxyFailed(_)
    ) || is_tls(e)
}

#[cfg(feature = "rustls")]
fn is_tls(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Rustls(_))
}

#[cfg(not(feature = "rustls"))]
fn is_tls(_: &ureq::Error) -> bool {
    false
}

impl Client {
    /// The URL of an operation: base URL, path, then the query (nothing else: the official
    /// SDKs' `beta=true` is an internal qualifier they never send).
    pub(crate) fn url(
        &self,
        path: &str,
        query: &[(&str, String)],
        extra: &[(String, String)],
    ) -> String {
        let mut url = format!("{}{}", self.inner.base_url, path);
        let mut sep = '?';
        for (k, v) in query
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            url.push(sep);
            sep = '&';
            url.push_str(&crate::path::encode(k));
            url.push('=');
            url.push_str(&crate::path::encode(v));
        }
        url
    }

    /// Sends an operation and returns its 2xx response, retrying as the official SDKs do, all
    /// within the call's deadline: connecting, sending, reading the body, and every backoff sleep.
    /// `span` is the call's span (see `trace/call.rs`), which this records the call on and ends.
    pub(crate) fn execute(
        &self,
        op: &Operation,
        span: CallSpan,
        path: String,
        query: Vec<(&'static str, String)>,
        body: Body,
        options: &RequestOptions,
    ) -> Result<Response> {
        #[cfg(feature = "tracing")]
        {
            crate::trace::start_call(&span, self, op, &path, &query, &body);
            let trace_headers =
                crate::trace::propagate::trace_headers(&span, self.inner.traces.propagation);
            let mut resends = 0;
            let result = {
                let _entered = span.span.as_ref().map(|s| s.enter());
                self.send(op, path, query, body, options, &trace_headers, &mut resends)
            };
            crate::trace::end_call(span, op, resends, result)
        }
        #[cfg(not(feature = "tracing"))]
        {
            let CallSpan {} = span;
            self.send(op, path, query, body, options, &[], &mut 0)
        }
    }

    /// [`Client::execute`] without the span; `trace_headers` (the call span's trace context)
    /// go with every attempt, in place of any the client or the options set; `resends` counts
    /// the attempts after the first.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        op: &Operation,
        path: String,
        query: Vec<(&'static str, String)>,
        body: Body,
        options: &RequestOptions,
        trace_headers: &[(String, String)],
        resends: &mut u32,
    ) -> Result<Response> {
        let inner = &self.inner;
        let timeout = options.timeout.unwrap_or(inner.timeout);
        let deadline =
            Deadline::after(timeout).min(options.deadline.unwrap_or_else(Deadline::never));
        let max_retries = options.max_retries.unwrap_or(inner.max_retries);
        let url = self.url(&path, &query, &options.query);
        let agent = &inner.agent;
        let what = || format!("{} {} (deadline {:?})", op.method, path, timeout);
        #[cfg(feature = "cassettes")]
        let recorded_body = inner.recorder.as_ref().map(|r| r.request_body(op, &body));
        let mut body = Some(body);
        let mut retry: u32 = 0;
        loop {
            let attempt = Attempt {
                operation: op.id,
                method: op.method,
                path: &path,
                retry,
                deadline,
                cancel: options.cancel.as_ref(),
            };
            if let Some(hook) = &inner.hook {
                hook.before_attempt(&attempt);
            }
            // an attempt that ends before it is sent is told to the hook too: every
            // `before_attempt` has its `after_attempt`
            let unsent = |e: Error| {
                if let Some(hook) = &inner.hook {
                    hook.after_attempt(&attempt, &AttemptOutcome::Failed { retryable: false });
                }
                e
            };
            let remaining = deadline.check(what).map_err(unsent)?;
            if attempt.is_cancelled() {
                // let go of before it went out (a hook held it): not sent at all
                return Err(unsent(Error::Timeout {
                    message: format!("{} {}: cancelled before it was sent", op.method, path),
                }));
            }
            let mut headers: Vec<(&str, String)> = vec![
                inner.credential.header(),
                ("anthropic-version", ANTHROPIC_VERSION.to_string()),
                ("accept", op.accept.to_string()),
                ("user-agent", inner.user_agent.clone()),
                ("x-stainless-retry-count", retry.to_string()),
                ("x-stainless-timeout", timeout.as_secs().to_string()),
            ];
            if !op.beta.is_empty() {
                headers.push(("anthropic-beta", op.beta.to_string()));
            }
            // as the official SDKs: every body has its length (no chunked encoding, which some
            // proxies refuse), a JSON content type on everything but a GET, and an empty
            // POST says `content-length: 0`
            if op.method != "GET" && !matches!(&body, Some(Body::Multipart(_))) {
                headers.push(("content-type", "application/json".into()));
            }
            let (send, replayable): (ureq::SendBody<'static>, bool) = match &body {
                Some(Body::Empty) | None => {
                    if matches!(op.method, "POST" | "PUT" | "PATCH") {
                        headers.push(("content-length", "0".into()));
                    }
                    (ureq::SendBody::none(), true)
                }
                Some(Body::Json(bytes)) => {
                    headers.push(("content-length", bytes.len().to_string()));
                    (
                        ureq::SendBody::from_owned_reader(std::io::Cursor::new(bytes.clone())),
                        true,
                    )
                }
                Some(Body::Multipart(form)) => {
                    headers.push(("content-type", form.content_type()));
                    if let Some(len) = form.content_length() {
                        headers.push(("content-length", len.to_string()));
                    }
                    // a form of files on disk and bytes can be sent again; one with a reader only once
                    match form.reopen().map_err(unsent)? {
                        Some(copy) => (ureq::SendBody::from_owned_reader(copy.into_reader()), true),
                        None => match body.take() {
                            Some(Body::Multipart(form)) => {
                                (ureq::SendBody::from_owned_reader(form.into_reader()), false)
                            }
                            _ => (ureq::SendBody::none(), false),
                        },
                    }
                }
            };
            // the trace context last, in place of any already there, as the official SDKs
            for (k, v) in inner
                .headers
                .iter()
                .chain(options.headers.iter())
                .chain(trace_headers)
            {
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
                headers.push((k.as_str(), v.clone()));
            }
            let mut req = ureq::http::Request::builder().method(op.method).uri(&url);
            for (k, v) in &headers {
                req = req.header(*k, v.as_str());
            }
            let req = req
                .body(send)
                .map_err(|e| Error::invalid_input("request", format!("could not be built: {e}")))
                .map_err(unsent)?;
            let req = agent.configure_request(req);
            let req = if op.streams_body() && options.deadline.is_none() {
                // a download still arriving is not cut by the call's timeout: that bounds the
                // answer's head; the body has an idle timeout per read (the call's timeout
                // unless the options set one), as httpx's read timeout works. A deadline the
                // caller set stays a hard one.
                let connect = match (agent.config().timeouts().connect, remaining) {
                    (Some(c), Some(r)) => Some(c.min(r)),
                    (c, r) => c.or(r),
                };
                req.timeout_global(None)
                    .timeout_resolve(remaining)
                    .timeout_connect(connect)
                    .timeout_send_request(remaining)
                    .timeout_send_body(remaining)
                    .timeout_recv_response(remaining)
                    .timeout_per_read(options.read_timeout.or(Some(timeout)))
                    .build()
            } else {
                req.timeout_global(remaining)
                    .timeout_per_read(options.read_timeout)
                    .build()
            };
            log::debug!("{} {} (attempt {})", op.method, path, retry + 1);
            let can_retry = replayable && retry < max_retries;
            #[cfg(feature = "cassettes")]
            let exchange = match (&inner.recorder, &recorded_body) {
                (Some(recorder), Some(body)) => {
                    let q: Vec<(&str, &str)> = query
                        .iter()
                        .map(|(k, v)| (*k, v.as_str()))
                        .chain(options.query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                        .collect();
                    Some(recorder.exchange(op, &path, &q, &headers, body))
                }
                _ => None,
            };
            let outcome = self.attempt(agent, op, &path, req);
            #[cfg(feature = "cassettes")]
            let outcome = match exchange {
                Some(exchange) => self.record(exchange, op, outcome),
                None => outcome,
            };
            // a hook may have a failed attempt tried again whatever the retries left say
            let again = match &inner.hook {
                Some(hook) => hook.after_attempt(&attempt, &seen(&outcome)) == RetryChoice::Again,
                None => false,
            };
            let delay = match outcome {
                Ok(response) => return Ok(response),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Status {
                    error,
                    retry: retryable,
                    wait,
                }) => {
                    if !((can_retry && retryable) || (replayable && again)) {
                        return Err(error);
                    }
                    let delay = wait.unwrap_or_else(|| backoff(retry));
                    log::debug!("{} {}: {error}; retrying in {delay:?}", op.method, path);
                    delay
                }
                Err(Failure::Network(e)) => {
                    if deadline.is_expired() {
                        return Err(Error::Timeout { message: what() });
                    }
                    if !(can_retry || (replayable && again)) {
                        return Err(e);
                    }
                    let delay = backoff(retry);
                    log::debug!("{} {} failed ({e}); retrying in {delay:?}", op.method, path);
                    delay
                }
            };
            if deadline.remaining().is_some_and(|r| delay >= r) {
                return Err(Error::Timeout {
                    message: format!("{}: the next retry would start after the deadline", what()),
                });
            }
            std::thread::sleep(delay);
            retry = retry.saturating_add(1);
            *resends = retry;
        }
    }

    /// Writes an attempt's exchange into the client's cassette; a stream's body is read
    /// through the recorder. What the caller gets is unchanged.
    #[cfg(feature = "cassettes")]
    fn record(
        &self,
        exchange: crate::cassette::Exchange,
        op: &Operation,
        outcome: Result<Response, Failure>,
    ) -> Result<Response, Failure> {
        let Some(recorder) = &self.inner.recorder else {
            return outcome;
        };
        match outcome {
            Ok(response) => {
                let (headers, body) = response.recorded_parts();
                let streamed = body.is_none();
                let id = recorder.answered(exchange, op, response.status(), headers, body);
                Ok(if streamed {
                    response.tapped(|reader| recorder.tap(id, op, reader))
                } else {
                    response
                })
            }
            Err(failure) => {
                let error = match &failure {
                    Failure::Status { error, .. }
                    | Failure::Network(error)
                    | Failure::Final(error) => error,
                };
                recorder.failed(exchange, op, error);
                Err(failure)
            }
        }
    }

    /// One attempt: send, then read a JSON answer's body (capped) or hand a stream over.
    fn attempt(
        &self,
        agent: &ureq::Agent,
        op: &Operation,
        path: &str,
        req: ureq::http::Request<ureq::SendBody<'static>>,
    ) -> Result<Response, Failure> {
        let network = |e: ureq::Error| {
            let failure = if is_network(&e) {
                Failure::Network
            } else {
                Failure::Final
            };
            failure(Error::transport(format_args!("{} {path}", op.method), e))
        };
        // an answer read on demand holds its connection (an event stream cuts it when let go)
        let (run, held) = if op.streams_body() {
            crate::sockets::watch(|| agent.run(req))
        } else {
            (agent.run(req), None)
        };
        let resp = match run {
            Ok(resp) => resp,
            Err(ureq::Error::Io(e)) if crate::multipart::is_local_read_error(&e) => {
                // a file of the body could not be read: not the network's fault, not retried
                return Err(Failure::Final(Error::Io {
                    message: format!("{} {path}: uploading", op.method),
                    source: e,
                }));
            }
            Err(e) => return Err(network(e)),
        };
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let retry = should_retry_answer(status, resp.headers());
            let wait = server_delay_of(resp.headers());
            // the error body is read out, so the connection can be reused
            return Err(Failure::Status {
                error: Error::from_response(resp),
                retry,
                wait,
            });
        }
        let (parts, body) = resp.into_parts();
        let limit = self.inner.max_body_size;
        let response = if op.streams_body() {
            Response::streaming(parts, body, limit).holding(held)
        } else {
            let mut body = body;
            match body.with_config().limit(limit).read_to_vec() {
                Ok(bytes) => Response::read(parts, bytes),
                Err(ureq::Error::BodyExceedsLimit(limit)) => {
                    return Err(Failure::Final(Error::BodyTooLarge {
                        limit,
                        request_id: crate::error::request_id(&parts.headers),
                    }))
                }
                Err(e) => return Err(network(e)),
            }
        };
        log::debug!(
            "{} {path} -> {status} (request-id {})",
            op.method,
            response.request_id().unwrap_or("-")
        );
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::Body;
    use crate::multipart::{Multipart, UploadFile};
    use crate::operations::OPERATIONS;
    use crate::{Client, RequestOptions};
    use managed_agents_emulator::Emulator;

    /// Every one of the 90 operations, sent as the generated methods send it, to the strict
    /// emulator: what each request carried on the wire, read back from the emulator's log.
    #[test]
    fn every_operation_goes_out_with_the_official_sdks_headers() {
        let emu = Emulator::start().unwrap();
        emu.set_strict(true);
        let client = Client::builder()
            .api_key("test")
            .base_url(emu.base_url())
            .max_retries(0)
            .build()
            .unwrap();
        for op in OPERATIONS {
            let mut path = op.path.to_string();
            while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
                path.replace_range(a..=b, "id_1");
            }
            let body = if op.id.ends_with("upload")
                || op.id.starts_with("skills") && op.id.ends_with("create")
            {
                Body::Multipart(Multipart::from(UploadFile::bytes("a.txt", &b"hi"[..])))
            } else if op.method == "POST"
                && !op.id.ends_with("ack")
                && !op.id.ends_with("heartbeat")
                && !op.id.ends_with("archive")
            {
                Body::Json(b"{}".to_vec())
            } else {
                Body::Empty
            };
            let query = if op.id == "files.list" {
                vec![("scope_id", "sesn_1".to_string())]
            } else {
                Vec::new()
            };
            let result = client.execute(
                op,
                crate::trace::CallSpan::default(),
                path,
                query,
                body,
                &RequestOptions::new(),
            );
            if let Err(e) = result {
                let text = e.to_string();
                assert!(
                    !text.contains("anthropic-version") && !text.contains("anthropic-beta"),
                    "{}: refused for its headers: {text}",
                    op.id
                );
            }
        }
        let log = emu.request_log();
        assert_eq!(log.len(), OPERATIONS.len(), "one request an operation");
        for (op, req) in OPERATIONS.iter().zip(&log) {
            let id = op.id;
            assert_eq!(req.method, op.method, "{id}");
            assert_eq!(req.header("anthropic-version"), Some("2026-10-21"), "{id}");
            assert_eq!(
                req.header("anthropic-beta"),
                Some(op.beta).filter(|b| !b.is_empty()),
                "{id}"
            );
            assert!(!req.query.contains("beta=true"), "{id}: {}", req.query);
            assert_eq!(req.header("transfer-encoding"), None, "{id}: chunked");
            assert_eq!(req.header("accept"), Some(op.accept), "{id}");
            let ua = req.header("user-agent").unwrap_or("");
            assert!(ua.starts_with("managed-agents-rust/"), "{id}: {ua}");
            assert_eq!(req.header("x-stainless-retry-count"), Some("0"), "{id}");
            if op.method == "GET" {
                assert_eq!(req.header("content-type"), None, "{id}");
            } else {
                let ct = req.header("content-type").unwrap_or("");
                assert!(
                    ct == "application/json" || ct.starts_with("multipart/form-data; boundary="),
                    "{id}: {ct}"
                );
            }
            if op.method == "POST" {
                let len = req.header("content-length");
                assert!(
                    len.is_some_and(|l| l.parse::<u64>().is_ok()),
                    "{id}: {len:?}"
                );
            }
        }
        // the accept header follows the SDK: raw bytes for the two downloads
        let binary: Vec<&str> = OPERATIONS
            .iter()
            .filter(|o| o.accept == "application/binary")
            .map(|o| o.id)
            .collect();
        assert_eq!(binary, ["files.download", "skills.versions.download"]);
    }
}
