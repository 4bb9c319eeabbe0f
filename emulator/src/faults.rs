//! The faults the emulator injects on purpose, switched on by tests, by the CLI, or from a
//! JSON file (the standalone emulator's `--faults FILE`).

use super::script::duration_from_json;
use serde_json::Value;
use std::time::Duration;

/// Faults the emulator injects on purpose, for testing how a client copes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Close each event-stream connection after this many events.
    pub drop_stream_after: Option<usize>,
    /// When dropping a stream, cut it in the middle of a line.
    pub drop_mid_line: bool,
    /// Send stream bytes one at a time with this pause between them.
    pub trickle: Option<Duration>,
    /// Accept a request, then say nothing for this long before answering.
    pub stall: Option<Duration>,
    /// Wait this long before answering each request.
    pub slow: Option<Duration>,
    /// Wait this long before reading the first request of each new connection: the round
    /// trips a TCP and TLS handshake costs over a network, which a request sent on a reused
    /// (keep-alive) connection does not pay.
    pub handshake: Option<Duration>,
    /// Answer this many of the next requests with `status` and `retry-after-ms`.
    pub fail_next: usize,
    /// The status of those answers (429 or 529; default 529).
    pub fail_status: u16,
    /// The `retry-after-ms` of those answers (default 20).
    pub retry_after_ms: u64,
    /// Answer every `n`-th request with `fail_status` (0: never).
    pub fail_every: usize,
    /// Close the connection of this many of the next requests before the status line.
    pub close_next: usize,
    /// Close the connection of every `n`-th request before the status line (0: never).
    pub close_every: usize,
    /// Answer every request with `connection: close`: one request per connection, as a
    /// server without keep-alive does.
    pub no_keep_alive: bool,
    /// Answer this many of the next work polls with 529.
    pub fail_polls: usize,
    /// Answer this many of the next work heartbeats with 412 (the lease lost).
    pub fail_heartbeats: usize,
    /// Answer this many of the next work heartbeats with `heartbeat_error_status` (a
    /// transient failure: the lease is not extended, nothing else changes).
    pub heartbeat_errors: usize,
    /// Answer every `n`-th work heartbeat with `heartbeat_error_status` (0: never).
    pub heartbeat_error_every: usize,
    /// The status of those answers (default 503).
    pub heartbeat_error_status: u16,
    /// Answer this many of the next work heartbeats `200` with `lease_extended: false` (the
    /// server shutting the item down; its state is left as it is).
    pub unextended_heartbeats: usize,
    /// Wait this long before answering each work ack.
    pub slow_ack: Option<Duration>,
    /// Wait this long before taking in each event sent to a session
    /// (`POST /v1/sessions/{id}/events`): a post that hangs.
    pub slow_event_posts: Option<Duration>,
    /// Ask for a graceful stop of the items of this many of the next work heartbeats: the
    /// item goes `stopping` (then `stopped`), as when someone stops it, and the heartbeat says
    /// so (`state: stopping`, the lease not extended).
    pub stop_heartbeats: usize,
    /// The TTL of every work lease, whatever a heartbeat asks: a short one makes leases that
    /// are not renewed in time lapse, and their items go to the next poll.
    pub lease_ttl: Option<Duration>,
    /// Serve these bytes as the content of every skill version (a broken or hostile
    /// archive, as a third-party skill could be).
    pub skill_content: Option<Vec<u8>>,
    /// Refuse this many of the next tool results posted (`user.custom_tool_result`,
    /// `user.tool_result`) with `refuse_status`, recording nothing.
    pub refuse_results: usize,
    /// The status of those refusals: 413 (`request_too_large`, the default) or 400.
    pub refuse_status: u16,
    /// Let at most this many requests through a [`rate_limit_window`](Self::rate_limit_window)
    /// (0: no limit), as the API's requests-per-minute limits do: a token bucket that starts
    /// full and refills continuously; a request over the limit is answered
    /// `429 rate_limit_error` with `retry-after` in whole seconds (rounded up), the time until
    /// the next one may go, and takes no token. Every request counts, event streams included;
    /// [`Emulator::rate_limited`](crate::Emulator::rate_limited) counts the 429s.
    pub rate_limit: usize,
    /// The window of [`rate_limit`](Self::rate_limit) (default: a minute); a shorter one
    /// scales a limit down for tests (60 a minute is 1 a second).
    pub rate_limit_window: Option<Duration>,
}

impl Faults {
    /// Reads faults from a JSON object (or YAML read into a [`Value`]) whose keys are the field
    /// names; a duration (`trickle`, `stall`, `slow`, `handshake`, `lease_ttl`,
    /// `rate_limit_window`) in milliseconds or as a string such as `"2s"`, or in milliseconds
    /// under the name with an `_ms` suffix (`trickle_ms`); bytes in standard base64 with a
    /// `_base64` suffix (`skill_content_base64`); an unknown key is an error.
    ///
    /// ```
    /// use managed_agents_emulator::Faults;
    ///
    /// let f = Faults::from_json(&serde_json::json!({"fail_every": 10, "trickle_ms": 5})).unwrap();
    /// assert_eq!((f.fail_every, f.trickle), (10, Some(std::time::Duration::from_millis(5))));
    /// ```
    pub fn from_json(v: &Value) -> Result<Faults, String> {
        let o = v.as_object().ok_or("faults are a JSON object")?;
        let mut f = Faults::default();
        for (k, v) in o {
            let n = || v.as_u64().ok_or(format!("{k} needs a whole number"));
            let ms = || n().map(|n| Some(Duration::from_millis(n)));
            let time = || duration_from_json(v, k).map(Some);
            let b = || v.as_bool().ok_or(format!("{k} needs true or false"));
            let size = || n().and_then(|n| usize::try_from(n).map_err(|e| format!("{k}: {e}")));
            match k.as_str() {
                "drop_stream_after" => f.drop_stream_after = Some(size()?),
                "drop_mid_line" => f.drop_mid_line = b()?,
                "trickle_ms" => f.trickle = ms()?,
                "stall_ms" => f.stall = ms()?,
                "slow_ms" => f.slow = ms()?,
                "trickle" => f.trickle = time()?,
                "stall" => f.stall = time()?,
                "slow" => f.slow = time()?,
                "handshake" => f.handshake = time()?,
                "handshake_ms" => f.handshake = ms()?,
                "lease_ttl" => f.lease_ttl = time()?,
                "fail_next" => f.fail_next = size()?,
                "fail_status" => {
                    f.fail_status = u16::try_from(n()?).map_err(|e| format!("{k}: {e}"))?
                }
                "retry_after_ms" => f.retry_after_ms = n()?,
                "fail_every" => f.fail_every = size()?,
                "close_next" => f.close_next = size()?,
                "close_every" => f.close_every = size()?,
                "no_keep_alive" => f.no_keep_alive = b()?,
                "fail_polls" => f.fail_polls = size()?,
                "fail_heartbeats" => f.fail_heartbeats = size()?,
                "stop_heartbeats" => f.stop_heartbeats = size()?,
                "lease_ttl_ms" => f.lease_ttl = ms()?,
                "refuse_results" => f.refuse_results = size()?,
                "rate_limit" => f.rate_limit = size()?,
                "rate_limit_window" => f.rate_limit_window = time()?,
                "rate_limit_window_ms" => f.rate_limit_window = ms()?,
                "refuse_status" => {
                    f.refuse_status = u16::try_from(n()?).map_err(|e| format!("{k}: {e}"))?
                }
                "heartbeat_errors" => f.heartbeat_errors = size()?,
                "heartbeat_error_every" => f.heartbeat_error_every = size()?,
                "heartbeat_error_status" => {
                    f.heartbeat_error_status =
                        u16::try_from(n()?).map_err(|e| format!("{k}: {e}"))?
                }
                "unextended_heartbeats" => f.unextended_heartbeats = size()?,
                "slow_ack" => f.slow_ack = time()?,
                "slow_ack_ms" => f.slow_ack = ms()?,
                "slow_event_posts" => f.slow_event_posts = time()?,
                "slow_event_posts_ms" => f.slow_event_posts = ms()?,
                "skill_content_base64" => {
                    use base64::Engine;
                    let text = v.as_str().ok_or(format!("{k} needs a base64 string"))?;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|e| format!("{k}: {e}"))?;
                    f.skill_content = Some(bytes);
                }
                other => return Err(format!("unknown fault {other:?}")),
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn faults_read_from_json_and_unknown_keys_are_errors() {
        let f = Faults::from_json(&json!({"drop_stream_after": 3, "drop_mid_line": true,
            "stall_ms": 10, "fail_status": 429, "close_every": 7, "no_keep_alive": true,
            "fail_polls": 2, "fail_heartbeats": 1, "lease_ttl_ms": 300, "stop_heartbeats": 4,
            "handshake_ms": 20}))
        .unwrap();
        assert_eq!(f.drop_stream_after, Some(3));
        assert_eq!(f.handshake, Some(Duration::from_millis(20)));
        assert_eq!(
            (f.stall, f.fail_status, f.close_every),
            (Some(Duration::from_millis(10)), 429, 7)
        );
        assert!(f.drop_mid_line && f.no_keep_alive);
        assert_eq!(
            (f.fail_polls, f.fail_heartbeats, f.lease_ttl),
            (2, 1, Some(Duration::from_millis(300)))
        );
        assert_eq!(f.stop_heartbeats, 4);
        let f = Faults::from_json(&json!({"refuse_results": 2, "refuse_status": 400})).unwrap();
        assert_eq!((f.refuse_results, f.refuse_status), (2, 400));
        let f = Faults::from_json(&json!({"heartbeat_errors": 2, "heartbeat_error_every": 5,
            "heartbeat_error_status": 500, "unextended_heartbeats": 1, "slow_ack": "1s"}))
        .unwrap();
        assert_eq!(
            (
                f.heartbeat_errors,
                f.heartbeat_error_every,
                f.heartbeat_error_status
            ),
            (2, 5, 500)
        );
        assert_eq!(
            (f.unextended_heartbeats, f.slow_ack),
            (1, Some(Duration::from_secs(1)))
        );
        let f = Faults::from_json(&json!({"rate_limit": 60, "rate_limit_window": "6s"})).unwrap();
        assert_eq!(
            (f.rate_limit, f.rate_limit_window),
            (60, Some(Duration::from_secs(6)))
        );
        let f = Faults::from_json(&json!({"rate_limit_window_ms": 500})).unwrap();
        assert_eq!(f.rate_limit_window, Some(Duration::from_millis(500)));
        let f = Faults::from_json(&json!({"skill_content_base64": "UEsFBg=="})).unwrap();
        assert_eq!(f.skill_content.as_deref(), Some(&b"PK\x05\x06"[..]));
        assert!(Faults::from_json(&json!({"skill_content_base64": "%"})).is_err());
        assert!(Faults::from_json(&json!({"explode": 1}))
            .unwrap_err()
            .contains("explode"));
        assert!(Faults::from_json(&json!({"fail_status": 70000})).is_err());
        assert!(Faults::from_json(&json!({"drop_mid_line": 1})).is_err());
        let f =
            Faults::from_json(&json!({"trickle": "5ms", "stall": 10, "lease_ttl": "1s"})).unwrap();
        assert_eq!(
            (f.trickle, f.stall, f.lease_ttl),
            (
                Some(Duration::from_millis(5)),
                Some(Duration::from_millis(10)),
                Some(Duration::from_secs(1))
            )
        );
        assert!(Faults::from_json(&json!({"slow": "later"}))
            .unwrap_err()
            .contains("slow"));
    }
}
