//! The API's contract on a request's headers, as the emulator holds clients to it: every
//! request names an `anthropic-version`, and an operation the official SDKs always send a beta
//! for carries that beta; in strict mode, the version and every beta are those of the SDK the
//! emulator speaks for. And the log of what each request carried, for tests to read.
//!
//! These values are the emulator's own (it is the oracle the client is checked against), not
//! read from the client's spec: a bump of the spec shows here as a failing strict test until
//! the emulator is told about the new version.

use super::reply::ApiError;
use std::collections::VecDeque;

/// The `anthropic-version` the official SDKs send (anthropic 2.17, @anthropic-ai/sdk 1.17).
pub const API_VERSION: &str = "2026-10-21";

/// The betas the official SDKs send for this API, by the paths that need them.
const MANAGED_AGENTS: &str = "managed-agents-2026-04-01";
const AGENT_MEMORY: &str = "agent-memory-2026-07-22";
const FILES: &str = "files-api-2025-04-14";
const SKILLS: &str = "skills-2025-10-02";

/// How many requests the log keeps (the oldest go first).
const LOG_CAPACITY: usize = 10_000;

/// Returns the beta a path needs: the one the official SDKs always send for its operations (files
/// and skills need none: the SDKs add their betas only when asked).
fn required_beta(path: &str) -> Option<&'static str> {
    let under = |prefix: &str| {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    if under("/v1/files") || under("/v1/skills") {
        None
    } else if under("/v1/memory_stores") {
        Some(AGENT_MEMORY)
    } else if path.starts_with("/v1/") {
        Some(MANAGED_AGENTS)
    } else {
        None
    }
}

/// Checks a request's version and beta headers; `Err` is the API's refusal.
pub(crate) fn check(
    strict: bool,
    path: &str,
    version: Option<&str>,
    beta: Option<&str>,
) -> Result<(), ApiError> {
    if !path.starts_with("/v1/") {
        return Ok(());
    }
    let refuse = |message: String| ApiError(400, "invalid_request_error", message);
    let version = version.map(str::trim).filter(|v| !v.is_empty());
    let Some(version) = version else {
        return Err(refuse("anthropic-version: header is required".into()));
    };
    if strict && version != API_VERSION {
        return Err(refuse(format!(
            "anthropic-version: {version:?} is not the version this API speaks ({API_VERSION:?})"
        )));
    }
    let betas: Vec<&str> = beta
        .into_iter()
        .flat_map(|b| b.split(','))
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect();
    if let Some(needed) = required_beta(path) {
        if !betas.contains(&needed) {
            return Err(refuse(format!(
                "anthropic-beta: this endpoint requires the beta header `{needed}`"
            )));
        }
    }
    if strict {
        if let Some(unknown) = betas
            .iter()
            .find(|b| ![MANAGED_AGENTS, AGENT_MEMORY, FILES, SKILLS].contains(b))
        {
            return Err(refuse(format!(
                "anthropic-beta: unexpected value `{unknown}` (known: {MANAGED_AGENTS}, {AGENT_MEMORY}, {FILES}, {SKILLS})"
            )));
        }
    }
    Ok(())
}

/// One request as the emulator received it: its method, target and headers (credentials
/// redacted: `x-api-key` and `authorization` keep their name, not their value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method (`POST`).
    pub method: String,
    /// The path, without the query (`/v1/sessions/sesn_1/events`).
    pub path: String,
    /// The query, without the `?` (empty when there is none).
    pub query: String,
    /// The headers, names in lower case, in the order they came.
    pub headers: Vec<(String, String)>,
    /// Whether the rate-limit fault answered it `429 rate_limit_error` (see
    /// [`Faults::rate_limit`](crate::Faults::rate_limit)).
    pub rate_limited: bool,
}

impl RecordedRequest {
    /// Returns the value of a header (the first, by its lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The requests received, the newest last, at most [`LOG_CAPACITY`].
#[derive(Debug, Default)]
pub(crate) struct RequestLog(VecDeque<RecordedRequest>);

impl RequestLog {
    /// Records a request: its method, target and headers, the secret ones redacted, and
    /// whether the rate limit refused it.
    pub(crate) fn record(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        rate_limited: bool,
    ) {
        if self.0.len() == LOG_CAPACITY {
            self.0.pop_front();
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let headers = headers
            .iter()
            .map(|(k, v)| {
                let k = k.to_ascii_lowercase();
                let v = if matches!(k.as_str(), "x-api-key" | "authorization") {
                    "[redacted]".to_string()
                } else {
                    v.clone()
                };
                (k, v)
            })
            .collect();
        self.0.push_back(RecordedRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers,
            rate_limited,
        });
    }

    /// Returns the requests recorded, oldest first.
    pub(crate) fn all(&self) -> Vec<RecordedRequest> {
        self.0.iter().cloned().collect()
    }

    /// Forgets the requests recorded.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_a_version_is_refused_strict_or_not() {
        for strict in [false, true] {
            let e = check(strict, "/v1/agents", None, Some(MANAGED_AGENTS)).unwrap_err();
            assert_eq!((e.0, e.1), (400, "invalid_request_error"));
            assert!(e.2.contains("anthropic-version"), "{}", e.2);
        }
    }

    #[test]
    fn an_old_version_passes_only_when_not_strict() {
        assert!(check(
            false,
            "/v1/agents",
            Some("2023-06-01"),
            Some(MANAGED_AGENTS)
        )
        .is_ok());
        let e = check(true, "/v1/agents", Some("2023-06-01"), Some(MANAGED_AGENTS)).unwrap_err();
        assert!(e.2.contains("2023-06-01"), "{}", e.2);
        assert!(check(true, "/v1/agents", Some(API_VERSION), Some(MANAGED_AGENTS)).is_ok());
    }

    #[test]
    fn each_path_needs_the_beta_the_sdks_always_send() {
        let v = Some(API_VERSION);
        assert!(check(false, "/v1/sessions/sesn_1", v, None).is_err());
        assert!(check(false, "/v1/sessions/sesn_1", v, Some(AGENT_MEMORY)).is_err());
        assert!(check(false, "/v1/memory_stores", v, Some(MANAGED_AGENTS)).is_err());
        assert!(check(false, "/v1/memory_stores/m/memories", v, Some(AGENT_MEMORY)).is_ok());
        assert!(check(false, "/v1/files", v, None).is_ok());
        assert!(check(false, "/v1/skills/s/versions", v, None).is_ok());
        // a list holding the beta passes
        let list = format!("{FILES}, {MANAGED_AGENTS}");
        assert!(check(true, "/v1/agents", v, Some(&list)).is_ok());
        // strict: a beta no SDK of this API sends
        assert!(check(
            false,
            "/v1/agents",
            v,
            Some("managed-agents-2026-04-01,x-1")
        )
        .is_ok());
        assert!(check(true, "/v1/agents", v, Some("managed-agents-2026-04-01,x-1")).is_err());
        // not an API path: nothing to check
        assert!(check(true, "/health", None, None).is_ok());
    }

    #[test]
    fn the_log_redacts_credentials_and_keeps_the_newest() {
        let mut log = RequestLog::default();
        for i in 0..LOG_CAPACITY + 2 {
            log.record(
                "GET",
                &format!("/v1/agents?n={i}"),
                &[("X-Api-Key".into(), "sk-secret".into())],
                false,
            );
        }
        let all = log.all();
        assert_eq!(all.len(), LOG_CAPACITY);
        assert_eq!(all[0].query, "n=2");
        assert_eq!(all[0].header("x-api-key"), Some("[redacted]"));
        assert!(!format!("{all:?}").contains("sk-secret"));
    }
}
