//! Sending one operation: URL, headers, body, deadline and retries, on one `ureq::Agent`.

use crate::client::{Client, RequestOptions, ANTHROPIC_VERSION};
use crate::error::{Error, Result};
use crate::multipart::Multipart;
use crate::operations::Operation;
use crate::response::{api_error, Response};
use std::time::{Duration, Instant};

/// The body of a request.
pub(crate) enum Body {
    Empty,
    Json(Vec<u8>),
    Multipart(Multipart),
}

impl Body {
    pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<Body> {
        serde_json::to_vec(value)
            .map(Body::Json)
            .map_err(|e| Error::invalid_input("body", format!("does not serialize: {e}")))
    }
}

/// The official SDKs' backoff: 0.5 s doubling up to 8 s, less up to a quarter of jitter.
fn backoff(retry: u32) -> Duration {
    let base = (0.5 * 2f64.powi(retry as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * jitter()))
}

fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait the server asks for, as the official SDKs read it: `retry-after-ms`, then
/// `retry-after` in seconds; taken when between 0 and 60 s.
fn server_delay(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let secs = get("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|ms| ms / 1000.0)
        .or_else(|| get("retry-after").and_then(|v| v.parse::<f64>().ok()))?;
    (secs > 0.0 && secs <= 60.0).then(|| Duration::from_secs_f64(secs))
}

fn should_retry(status: u16, headers: &ureq::http::HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429) || status >= 500,
    }
}

pub(crate) fn body_error(e: ureq::Error) -> Error {
    match e {
        ureq::Error::Timeout(t) => Error::Timeout {
            message: format!("reading the body ({t})"),
        },
        other => Error::Connection {
            message: format!("reading the body: {other}"),
        },
    }
}

impl Client {
    /// The URL of an operation: base URL, path, `beta=true`, then the query.
    pub(crate) fn url(
        &self,
        path: &str,
        query: &[(&str, String)],
        extra: &[(String, String)],
    ) -> String {
        let mut url = format!("{}{}?beta=true", self.inner.base_url, path);
        for (k, v) in query
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            url.push('&');
            url.push_str(&crate::path::encode(k));
            url.push('=');
            url.push_str(&crate::path::encode(v));
        }
        url
    }

    /// Sends an operation and returns its 2xx response, retrying as the official SDKs do, all
    /// within the call's deadline.
    pub(crate) fn execute(
        &self,
        op: &Operation,
        path: String,
        query: Vec<(&'static str, String)>,
        body: Body,
        options: &RequestOptions,
    ) -> Result<Response> {
        let inner = &self.inner;
        let timeout = options.timeout.unwrap_or(inner.timeout);
        let deadline = Instant::now() + timeout;
        let max_retries = options.max_retries.unwrap_or(inner.max_retries);
        let url = self.url(&path, &query, &options.query);
        let mut body = Some(body);
        let mut retry: u32 = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Timeout {
                    message: format!("{} {} after {:?}", op.method, path, timeout),
                });
            }
            let mut req = ureq::http::Request::builder().method(op.method).uri(&url);
            let mut headers: Vec<(&str, String)> = vec![
                ("x-api-key", inner.api_key.clone()),
                ("anthropic-version", ANTHROPIC_VERSION.to_string()),
                ("accept", "application/json".to_string()),
                ("user-agent", inner.user_agent.clone()),
                ("x-stainless-retry-count", retry.to_string()),
                ("x-stainless-timeout", timeout.as_secs().to_string()),
            ];
            if !op.beta.is_empty() {
                headers.push(("anthropic-beta", op.beta.to_string()));
            }
            let (send, replayable): (ureq::SendBody<'static>, bool) = match &body {
                Some(Body::Empty) | None => (ureq::SendBody::none(), true),
                Some(Body::Json(bytes)) => {
                    headers.push(("content-type", "application/json".into()));
                    (
                        ureq::SendBody::from_owned_reader(std::io::Cursor::new(bytes.clone())),
                        true,
                    )
                }
                Some(Body::Multipart(_)) => {
                    let Some(Body::Multipart(form)) = body.take() else {
                        unreachable!()
                    };
                    headers.push(("content-type", form.content_type()));
                    (ureq::SendBody::from_owned_reader(form.into_reader()), false)
                }
            };
            for (k, v) in inner.headers.iter().chain(options.headers.iter()) {
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
                headers.push((k.as_str(), v.clone()));
            }
            for (k, v) in &headers {
                req = req.header(*k, v.as_str());
            }
            let req = req
                .body(send)
                .map_err(|e| Error::invalid_input("request", format!("could not be built: {e}")))?;
            let req = inner
                .agent
                .configure_request(req)
                .timeout_global(Some(remaining))
                .build();
            log::debug!("{} {} (attempt {})", op.method, path, retry + 1);
            let can_retry = replayable && retry < max_retries;
            let delay = match inner.agent.run(req) {
                Ok(resp) if resp.status().is_success() => return Ok(Response::new(resp)),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if !(can_retry && should_retry(status, resp.headers())) {
                        return Err(api_error(resp));
                    }
                    let delay = server_delay(resp.headers()).unwrap_or_else(|| backoff(retry));
                    let request_id = resp
                        .headers()
                        .get("request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_string();
                    log::debug!(
                        "{} {} answered {status} (request-id {request_id}); retrying in {delay:?}",
                        op.method,
                        path
                    );
                    // the connection is reused only when the body is read out
                    let _ = resp
                        .into_body()
                        .with_config()
                        .limit(64 * 1024)
                        .read_to_vec();
                    delay
                }
                Err(ureq::Error::Timeout(_)) => {
                    return Err(Error::Timeout {
                        message: format!("{} {} after {:?}", op.method, path, timeout),
                    })
                }
                Err(e) => {
                    if !can_retry {
                        return Err(Error::Connection {
                            message: format!("{} {}: {e}", op.method, path),
                        });
                    }
                    let delay = backoff(retry);
                    log::debug!("{} {} failed ({e}); retrying in {delay:?}", op.method, path);
                    delay
                }
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if delay >= remaining {
                return Err(Error::Timeout {
                    message: format!(
                        "{} {}: the next retry would start after the deadline ({timeout:?})",
                        op.method, path
                    ),
                });
            }
            std::thread::sleep(delay);
            retry += 1;
        }
    }
}
