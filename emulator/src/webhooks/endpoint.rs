//! The endpoint webhook events go to ([`WebhookEndpoint`]): its URL, signing secret, the kinds
//! of events it subscribed to, and its delivery policy (tries, backoff, timeout).

use super::signing::SigningKey;
use std::time::Duration;

/// Where the emulator sends webhook events, and how: the endpoint's URL and signing secret,
/// as a webhook endpoint registered with the API has them, and the delivery policy.
///
/// Every event is a thin payload `{id, created_at, type: "event", data: {type, id, ..}}` (see
/// `managed_agents::types::WebhookEvent`), signed with the secret as Standard Webhooks do
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`), so
/// `managed_agents::webhooks::unwrap` and the official SDKs' `client.beta.webhooks.unwrap` accept
/// it. The emulator sends:
///
/// - a session's `session.created`, `session.updated`, `session.archived`, `session.deleted`,
///   and its status changes `session.status_run_started`, `session.status_idled`,
///   `session.status_rescheduled`, `session.status_terminated` (the stream's
///   `session.status_running`, `session.status_idle`, ...); its threads'
///   `session.thread_created`, `session.thread_idled`, `session.thread_terminated`, and
///   `session.outcome_evaluation_ended`;
/// - `agent.created`, `agent.updated` (a new version), `agent.archived`, `agent.deleted`;
/// - `environment.*` and `deployment.*` (`created`, `updated`, `archived`, `deleted`, and a
///   deployment's `paused`, `unpaused`); `memory_store.*`, `vault.*` and
///   `vault_credential.*` (`created`, `archived`, `deleted`).
///
/// A delivery fails on a connection error, a timeout, or an answer other than 2xx
/// (redirects are not followed); it is tried again after a pause that doubles each time (up
/// to 30 s), up to [`max_attempts`](Self::max_attempts) tries in all, each signed anew with
/// the same `webhook-id` (the event's id). Events are delivered one at a time, in the order
/// they happened, by a thread of their own, so no request to the emulator waits for a
/// receiver; at most 10,000 wait their turn, and events made while that many wait are
/// dropped (with a warning in the log). When the emulator stops, no try begins any more:
/// events still queued are dropped.
///
/// ```
/// use managed_agents_emulator::{Emulator, WebhookEndpoint};
///
/// let emu = Emulator::start()?;
/// let endpoint = WebhookEndpoint::new(
///     "http://127.0.0.1:9000/hooks",
///     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
/// )?
/// .event_types(["session.status_idled", "session.status_terminated"]);
/// emu.set_webhook(endpoint);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub(super) url: String,
    pub(super) secret: SigningKey,
    pub(super) max_attempts: u32,
    pub(super) backoff: Duration,
    pub(super) timeout: Duration,
    pub(super) event_types: Option<Vec<String>>,
}

impl WebhookEndpoint {
    /// Returns an endpoint at `url` (`http://` or `https://`) whose deliveries are signed with
    /// `secret` (`whsec_<base64>`); by default every kind of event is sent, each tried up to
    /// 5 times, 200 ms after the first failure (doubling), with 10 s for each try.
    pub fn new(url: &str, secret: &str) -> Result<WebhookEndpoint, String> {
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|e| format!("webhook URL {url:?}: {e}"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(format!("webhook URL {url:?}: not an http(s) URL"));
        }
        let secret = SigningKey::new(secret).map_err(|e| format!("webhook secret: {e}"))?;
        Ok(WebhookEndpoint {
            url: url.to_string(),
            secret,
            max_attempts: 5,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(10),
            event_types: None,
        })
    }

    /// Sets how many times a delivery is tried in all before it is given up (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the pause after the first failed try; each further pause is twice the last, up to
    /// 30 s.
    pub fn retry_backoff(mut self, pause: Duration) -> Self {
        self.backoff = pause;
        self
    }

    /// Sets how long one try may take, connecting, sending and reading the answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends only these kinds of events (`data.type`, e.g. `session.status_idled`), as an
    /// endpoint subscribed to them receives.
    pub fn event_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// Returns the URL deliveries are posted to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Returns whether the endpoint subscribed to this kind of event.
    pub(super) fn wants(&self, kind: &str) -> bool {
        self.event_types
            .as_ref()
            .is_none_or(|t| t.iter().any(|k| k == kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_needs_an_http_url_and_a_secret() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert!(WebhookEndpoint::new("http://127.0.0.1:9/h", secret).is_ok());
        assert!(WebhookEndpoint::new("https://example.com/h", secret).is_ok());
        for bad in [
            "ftp://example.com/h",
            "127.0.0.1:9/h",
            "not a url",
            "http:///h",
        ] {
            let e = WebhookEndpoint::new(bad, secret).unwrap_err();
            assert!(e.contains("webhook URL"), "{bad}: {e}");
        }
        let e = WebhookEndpoint::new("http://127.0.0.1:9/h", "whsec_not*base64").unwrap_err();
        assert!(e.starts_with("webhook secret"), "{e}");
        // the secret is never shown
        let shown = format!("{:?}", WebhookEndpoint::new("http://h/", secret).unwrap());
        assert!(!shown.contains("MfKQ9r8"), "{shown}");
    }

    #[test]
    fn only_the_subscribed_kinds_are_wanted() {
        let e =
            WebhookEndpoint::new("http://h/", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert!(e.wants("vault.created"));
        let e = e.event_types(["session.status_idled"]);
        assert!(e.wants("session.status_idled") && !e.wants("vault.created"));
    }
}
