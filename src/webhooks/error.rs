//! What can go wrong when a webhook is verified and read: one variant per failure, so a
//! receiver can answer (and log) each one clearly. Nothing here ever holds the secret.

use std::fmt;

/// Why a webhook was refused.
///
/// Converts into [`crate::Error`] (`?` works in functions returning the crate's `Result`):
/// a payload that is not a webhook event becomes [`crate::Error::Decode`], everything else
/// [`crate::Error::InvalidInput`] naming the header or the secret.
///
/// ```
/// use managed_agents::webhooks::WebhookError;
///
/// let e = WebhookError::MissingHeader { name: "webhook-signature" };
/// assert_eq!(e.to_string(), "webhook refused: the `webhook-signature` header is missing or empty");
/// let e: managed_agents::Error = e.into();
/// assert!(matches!(e, managed_agents::Error::InvalidInput { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// One of `webhook-id`, `webhook-timestamp`, `webhook-signature` is absent or empty.
    MissingHeader {
        /// The header's name.
        name: &'static str,
    },
    /// A header is there but cannot be used: not UTF-8, or given twice with different values.
    InvalidHeader {
        /// The header's name.
        name: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// `webhook-timestamp` is not a number of seconds since the Unix epoch.
    InvalidTimestamp {
        /// The header's value.
        value: String,
    },
    /// `webhook-timestamp` is further in the past than the tolerance allows (a replay, or a
    /// delivery that waited too long).
    TimestampTooOld {
        /// The webhook's timestamp, in seconds since the Unix epoch.
        timestamp: i64,
        /// The time it was checked at, in seconds since the Unix epoch.
        now: i64,
    },
    /// `webhook-timestamp` is further in the future than the tolerance allows.
    TimestampTooNew {
        /// The webhook's timestamp, in seconds since the Unix epoch.
        timestamp: i64,
        /// The time it was checked at, in seconds since the Unix epoch.
        now: i64,
    },
    /// No `v1` signature of `webhook-signature` is the HMAC of this id, timestamp and body
    /// under this secret: the body was changed, or the secret is not the endpoint's.
    NoMatchingSignature {
        /// How many `v1` signatures the header had (entries of other versions are ignored).
        checked: usize,
    },
    /// The signing secret is empty or not `whsec_` followed by base64.
    InvalidSecret {
        /// What is wrong with it (never the secret itself).
        message: String,
    },
    /// No secret was given and `ANTHROPIC_WEBHOOK_SIGNING_KEY` is not set.
    MissingSecret,
    /// The signature holds but the body is not a webhook event.
    InvalidPayload {
        /// What did not parse.
        message: String,
        /// The start of the body.
        excerpt: String,
    },
}

impl WebhookError {
    /// What was wrong, for [`crate::Error::InvalidInput`]'s `param`: the header or `secret`.
    fn param(&self) -> &'static str {
        match self {
            WebhookError::MissingHeader { name } | WebhookError::InvalidHeader { name, .. } => name,
            WebhookError::InvalidTimestamp { .. }
            | WebhookError::TimestampTooOld { .. }
            | WebhookError::TimestampTooNew { .. } => super::TIMESTAMP_HEADER,
            WebhookError::NoMatchingSignature { .. } => super::SIGNATURE_HEADER,
            WebhookError::InvalidSecret { .. } | WebhookError::MissingSecret => "webhook secret",
            WebhookError::InvalidPayload { .. } => "webhook payload",
        }
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("webhook refused: ")?;
        match self {
            WebhookError::MissingHeader { name } => {
                write!(f, "the `{name}` header is missing or empty")
            }
            WebhookError::InvalidHeader { name, message } => {
                write!(f, "the `{name}` header {message}")
            }
            WebhookError::InvalidTimestamp { value } => write!(
                f,
                "`webhook-timestamp` {value:?} is not a number of seconds since the Unix epoch"
            ),
            WebhookError::TimestampTooOld { timestamp, now } => write!(
                f,
                "timestamp {timestamp} is too old ({}s before now, {now})",
                now - timestamp
            ),
            WebhookError::TimestampTooNew { timestamp, now } => write!(
                f,
                "timestamp {timestamp} is too new ({}s after now, {now})",
                timestamp - now
            ),
            WebhookError::NoMatchingSignature { checked: 0 } => {
                write!(f, "`webhook-signature` has no `v1,` signature")
            }
            WebhookError::NoMatchingSignature { checked } => write!(
                f,
                "no matching signature ({checked} v1 signature(s) checked; wrong secret, or the body was changed)"
            ),
            WebhookError::InvalidSecret { message } => {
                write!(f, "the signing secret {message}")
            }
            WebhookError::MissingSecret => write!(
                f,
                "no signing secret: pass one or set {}",
                super::SIGNING_KEY_ENV
            ),
            WebhookError::InvalidPayload { message, excerpt } => write!(
                f,
                "the body is not a webhook event: {message}; body starts: {excerpt}"
            ),
        }
    }
}

impl std::error::Error for WebhookError {}

impl From<WebhookError> for crate::Error {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::InvalidPayload { message, excerpt } => {
                crate::Error::Decode { message, excerpt }
            }
            other => crate::Error::invalid_input(other.param(), other.to_string()),
        }
    }
}
