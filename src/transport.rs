//! Sending one operation: URL, headers, body, deadline and retries, on one `ureq::Agent`.

use crate::client::{Client, RequestOptions, ANTHROPIC_VERSION};
use crate::deadline::Deadline;
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
/// `retry-after` in seconds or as an HTTP date; taken when more than 0 and at most 60 s.
fn server_delay(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let secs = get("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|ms| ms / 1000.0)
        .or_else(|| {
            let v = get("retry-after")?;
            v.parse::<f64>().ok().or_else(|| {
                let at = http_date(v)?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?;
                Some(at as f64 - now.as_secs_f64())
            })
        })?;
    (secs.is_finite() && secs > 0.0 && secs <= 60.0).then(|| Duration::from_secs_f64(secs))
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let day: i64 = it.next()?.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| Some(*m) == it.clone().next())? as i64
        + 1;
    it.next();
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // days from civil (Howard Hinnant's algorithm)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + m * 60 + sec)
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
    /// within the call's deadline: connecting, sending, reading the body, and every backoff sleep.
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
        let deadline =
            Deadline::after(timeout).min(options.deadline.unwrap_or_else(Deadline::never));
        let max_retries = options.max_retries.unwrap_or(inner.max_retries);
        let url = self.url(&path, &query, &options.query);
        let what = || format!("{} {} (deadline {:?})", op.method, path, timeout);
        let mut body = Some(body);
        let mut retry: u32 = 0;
        loop {
            let remaining = deadline.check(what)?;
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
                Some(Body::Multipart(form)) => {
                    headers.push(("content-type", form.content_type()));
                    // a form of files on disk and bytes can be sent again; one with a reader only once
                    match form.reopen()? {
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
            for (k, v) in inner.headers.iter().chain(options.headers.iter()) {
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
                headers.push((k.as_str(), v.clone()));
            }
            let mut req = ureq::http::Request::builder().method(op.method).uri(&url);
            for (k, v) in &headers {
                req = req.header(*k, v.as_str());
            }
            let req = req
                .body(send)
                .map_err(|e| Error::invalid_input("request", format!("could not be built: {e}")))?;
            let req = inner
                .agent
                .configure_request(req)
                .timeout_global(remaining)
                .timeout_per_read(options.read_timeout)
                .build();
            log::debug!("{} {} (attempt {})", op.method, path, retry + 1);
            let can_retry = replayable && retry < max_retries;
            let delay = match inner.agent.run(req) {
                Ok(resp) if resp.status().is_success() => {
                    let response = Response::new(resp);
                    log::debug!(
                        "{} {} -> {} (request-id {})",
                        op.method,
                        path,
                        response.status(),
                        response.request_id().unwrap_or("-")
                    );
                    return Ok(response);
                }
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
                        "{} {} -> {status} (request-id {request_id}); retrying in {delay:?}",
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
                Err(ureq::Error::Timeout(_)) => return Err(Error::Timeout { message: what() }),
                Err(ureq::Error::Io(e)) if crate::multipart::is_local_read_error(&e) => {
                    // a file of the body could not be read: not the network's fault, not retried
                    return Err(Error::Io {
                        message: format!("{} {}: uploading", op.method, path),
                        source: e,
                    });
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
            if deadline.remaining().is_some_and(|r| delay >= r) {
                return Err(Error::Timeout {
                    message: format!("{}: the next retry would start after the deadline", what()),
                });
            }
            std::thread::sleep(delay);
            retry += 1;
        }
    }
}

/// Whether an I/O error of a response body is a timeout (ureq wraps its own errors).
pub(crate) fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 PST"), None);
        assert_eq!(http_date("soon"), None);
    }

    #[test]
    fn backoff_doubles_to_eight_seconds_with_at_most_a_quarter_of_jitter() {
        for (retry, base) in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)] {
            let d = backoff(retry).as_secs_f64();
            assert!(d <= base && d >= base * 0.75, "retry {retry}: {d}");
        }
    }

    #[test]
    fn server_delays_follow_the_sdk() {
        let mut h = ureq::http::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(server_delay(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(server_delay(&h), Some(Duration::from_millis(150)));
        h.insert("retry-after-ms", "61000".parse().unwrap());
        h.insert("retry-after", "61".parse().unwrap());
        assert_eq!(server_delay(&h), None, "over 60 s falls back to backoff");
        let mut h = ureq::http::HeaderMap::new();
        h.insert(
            "retry-after",
            "Thu, 01 Jan 1970 00:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(server_delay(&h), None, "a date in the past");
    }
}
