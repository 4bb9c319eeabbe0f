//! Webhooks: checking that a delivery came from the API, and reading it as a typed event.
//!
//! The API signs each delivery as [Standard Webhooks](https://www.standardwebhooks.com/) do,
//! and the official SDKs verify it the same way (`client.beta.webhooks.unwrap(payload,
//! headers=..., key=...)` in Python):
//!
//! - headers `webhook-id`, `webhook-timestamp` (seconds since the Unix epoch) and
//!   `webhook-signature`: a space-separated list of `v1,<base64>` entries, any one of which
//!   may match (entries of other versions are ignored);
//! - each signature is the HMAC-SHA256 of `"{id}.{timestamp}.{body}"` under the endpoint's
//!   secret `whsec_<base64>`, compared in constant time;
//! - a timestamp more than five minutes away from now, either way, is refused.
//!
//! The body is a thin [`WebhookEvent`] `{id, created_at, type: "event", data: {type, id, ..}}`:
//! fetch the object it names for the details. A `data.type` this version does not know reads
//! as [`WebhookEventData::Unknown`].
//!
//! ```
//! use managed_agents::webhooks::{self, WebhookEventData};
//!
//! let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
//! let body = r#"{"id":"wevt_1","created_at":"2026-05-01T12:00:00Z","type":"event",
//!     "data":{"type":"session.status_idled","id":"sesn_1","organization_id":"org_1","workspace_id":"wrkspc_1"}}"#;
//! # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
//! # let signature = webhooks::sign(secret, "msg_1", now, body)?;
//! # let timestamp = now.to_string();
//! // in a request handler: the raw body and the request's headers, as (name, value) pairs
//! let headers = [
//!     ("Webhook-Id", "msg_1"),
//!     ("Webhook-Timestamp", timestamp.as_str()),
//!     ("Webhook-Signature", signature.as_str()),
//! ];
//! let event = webhooks::unwrap(body, headers, secret)?;
//! if let WebhookEventData::SessionStatusIdled(idled) = &event.data {
//!     assert_eq!(idled.id, "sesn_1");
//! }
//! # Ok::<(), managed_agents::webhooks::WebhookError>(())
//! ```
//!
//! Headers are any `IntoIterator` of `(name, value)` pairs (or references to pairs) whose
//! halves are `AsRef<[u8]>` ([`HeaderPair`]): arrays, slices and vectors of string pairs,
//! `&HashMap<String, String>`, and `&http::HeaderMap` alike. Names are matched without
//! regard to case.

mod error;
mod secret;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::types::{WebhookEvent, WebhookEventData};
pub use error::WebhookError;
pub use secret::{Secret, SECRET_PREFIX};

/// The environment variable the official clients read the signing secret from.
pub const SIGNING_KEY_ENV: &str = "ANTHROPIC_WEBHOOK_SIGNING_KEY";
/// The header that names the delivery (the same on every retry of it).
pub const ID_HEADER: &str = "webhook-id";
/// The header that holds when the delivery was signed, in seconds since the Unix epoch.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header that holds the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// How far a timestamp may be from now, either way: five minutes, as the official SDKs allow.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The latest timestamp the official verifier can read (the last second of the year 9999).
const MAX_TIMESTAMP: f64 = 253_402_300_799.0;

/// Verifies a delivery with `secret` (`whsec_<base64>`) and reads its body as a
/// [`WebhookEvent`]; the counterpart of the Python SDK's `client.beta.webhooks.unwrap`.
///
/// `payload` must be the body exactly as received (bytes or text): any change to it, even
/// re-serialising the JSON, breaks the signature.
pub fn unwrap<H>(
    payload: impl AsRef<[u8]>,
    headers: H,
    secret: &str,
) -> Result<WebhookEvent, WebhookError>
where
    H: IntoIterator,
    H::Item: HeaderPair,
{
    Webhook::new(Secret::new(secret)?).unwrap(payload, headers)
}

/// [`unwrap`] with the secret in `ANTHROPIC_WEBHOOK_SIGNING_KEY`, as the official clients
/// use their `webhook_key` (which defaults to that variable) when no key is passed.
pub fn unwrap_with_env<H>(
    payload: impl AsRef<[u8]>,
    headers: H,
) -> Result<WebhookEvent, WebhookError>
where
    H: IntoIterator,
    H::Item: HeaderPair,
{
    Webhook::from_env()?.unwrap(payload, headers)
}

/// Checks a delivery's signature and timestamp without reading its body.
pub fn verify<H>(payload: impl AsRef<[u8]>, headers: H, secret: &str) -> Result<(), WebhookError>
where
    H: IntoIterator,
    H::Item: HeaderPair,
{
    Webhook::new(Secret::new(secret)?).verify(payload, headers)
}

/// Reads a body as a [`WebhookEvent`] without checking any signature, as the Python SDK's
/// `parse_unverified`. Prefer [`unwrap`] unless the delivery was verified already.
pub fn parse_unverified(payload: impl AsRef<[u8]>) -> Result<WebhookEvent, WebhookError> {
    let payload = payload.as_ref();
    serde_json::from_slice(payload).map_err(|e| WebhookError::InvalidPayload {
        message: e.to_string(),
        excerpt: crate::error::excerpt(payload, 200),
    })
}

/// Returns the `webhook-signature` value that signs `body` as delivery `id` at `timestamp` (seconds
/// since the Unix epoch): `v1,<base64 of HMAC-SHA256("{id}.{timestamp}.{body}")>`.
///
/// For senders (a test server, the emulator) and tests. Known answer from the Standard
/// Webhooks specification:
///
/// ```
/// let sig = managed_agents::webhooks::sign(
///     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
///     "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     1614265330,
///     r#"{"test": 2432232314}"#,
/// )?;
/// assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// # Ok::<(), managed_agents::webhooks::WebhookError>(())
/// ```
pub fn sign(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: impl AsRef<[u8]>,
) -> Result<String, WebhookError> {
    Ok(Webhook::new(Secret::new(secret)?).sign(id, timestamp, body))
}

/// A signing secret with the checks made against it: the Standard Webhooks `Webhook`.
///
/// Build one per endpoint and reuse it. The tolerance and the clock can be set, for tests
/// and for replaying stored deliveries.
///
/// ```
/// use managed_agents::webhooks::{Secret, Webhook, WebhookError};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let hook = Webhook::new(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
///     .now(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let body = "{}";
/// let headers = hook.signed_headers("msg_1", 1_700_000_000 - 301, body);
/// assert!(matches!(hook.verify(body, &headers), Err(WebhookError::TimestampTooOld { .. })));
/// # Ok::<(), WebhookError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Webhook {
    secret: Secret,
    tolerance: Duration,
    now: Option<SystemTime>,
}

impl Webhook {
    /// Checks against `secret`, with the five-minute tolerance and the system clock.
    pub fn new(secret: Secret) -> Self {
        Webhook {
            secret,
            tolerance: DEFAULT_TOLERANCE,
            now: None,
        }
    }

    /// Checks against the secret in `ANTHROPIC_WEBHOOK_SIGNING_KEY`.
    pub fn from_env() -> Result<Self, WebhookError> {
        Ok(Webhook::new(Secret::from_env()?))
    }

    /// Sets how far a timestamp may be from now, either way (default [`DEFAULT_TOLERANCE`]).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Judges timestamps as if it were `now` instead of reading the system clock.
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// Verifies a delivery and reads its body as a [`WebhookEvent`] (see [`unwrap`]).
    pub fn unwrap<H>(
        &self,
        payload: impl AsRef<[u8]>,
        headers: H,
    ) -> Result<WebhookEvent, WebhookError>
    where
        H: IntoIterator,
        H::Item: HeaderPair,
    {
        self.verify(payload.as_ref(), headers)?;
        parse_unverified(payload)
    }

    /// Checks a delivery's headers, timestamp and signature, in that order, without reading
    /// its body.
    pub fn verify<H>(&self, payload: impl AsRef<[u8]>, headers: H) -> Result<(), WebhookError>
    where
        H: IntoIterator,
        H::Item: HeaderPair,
    {
        let h = SignedHeaders::read(headers)?;
        let timestamp = self.check_timestamp(&h.timestamp)?;
        let expected = self.mac(&h.id, timestamp, payload.as_ref());
        let mut checked = 0;
        for entry in h.signatures.iter().flat_map(|v| v.split_ascii_whitespace()) {
            let Some(("v1", signature)) = entry.split_once(',') else {
                continue;
            };
            checked += 1;
            let Ok(signature) = base64::Engine::decode(&secret::LENIENT, signature) else {
                continue;
            };
            if expected.clone().verify_slice(&signature).is_ok() {
                return Ok(());
            }
        }
        Err(WebhookError::NoMatchingSignature { checked })
    }

    /// Returns the `webhook-signature` value for a delivery (see [`sign`]).
    pub fn sign(&self, id: &str, timestamp: i64, body: impl AsRef<[u8]>) -> String {
        let tag = self
            .mac(id, timestamp, body.as_ref())
            .finalize()
            .into_bytes();
        format!("v1,{}", base64::Engine::encode(&secret::LENIENT, tag))
    }

    /// Returns the three headers of a signed delivery, lower-case names first, ready to send.
    pub fn signed_headers(
        &self,
        id: &str,
        timestamp: i64,
        body: impl AsRef<[u8]>,
    ) -> [(&'static str, String); 3] {
        [
            (ID_HEADER, id.to_owned()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, self.sign(id, timestamp, body)),
        ]
    }

    /// The HMAC of `"{id}.{timestamp}.{body}"`, not finalised.
    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length, so this cannot fail
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.key())
            .expect("HMAC accepts keys of every length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The timestamp in whole seconds, if it is a number within the tolerance of now. Like
    /// the official verifier it reads a decimal number (`1700000000`, also `1700000000.5`),
    /// judges it as given, and signs its whole seconds.
    fn check_timestamp(&self, value: &str) -> Result<i64, WebhookError> {
        let t = value
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && t.abs() <= MAX_TIMESTAMP)
            .ok_or_else(|| WebhookError::InvalidTimestamp {
                value: value.chars().take(64).collect(),
            })?;
        let now = self.now.unwrap_or_else(SystemTime::now);
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        let tolerance = self.tolerance.as_secs_f64();
        let (timestamp, now_secs) = (t.floor() as i64, now.floor() as i64);
        if t < now - tolerance {
            return Err(WebhookError::TimestampTooOld {
                timestamp,
                now: now_secs,
            });
        }
        if t > now + tolerance {
            return Err(WebhookError::TimestampTooNew {
                timestamp,
                now: now_secs,
            });
        }
        Ok(timestamp)
    }
}

/// One header of a request, as a name and a value: implemented for `(K, V)` and `&(K, V)`
/// where both are `AsRef<[u8]>` (`&str`, `String`, `&[u8]`, `http::HeaderName` and
/// `http::HeaderValue`, ...).
pub trait HeaderPair {
    /// The header's name, in any case.
    fn name(&self) -> &[u8];
    /// The header's value.
    fn value(&self) -> &[u8];
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> HeaderPair for (K, V) {
    fn name(&self) -> &[u8] {
        self.0.as_ref()
    }
    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> HeaderPair for &(K, V) {
    fn name(&self) -> &[u8] {
        self.0.as_ref()
    }
    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

/// The three headers a delivery is verified by, found among all of a request's headers.
struct SignedHeaders {
    id: String,
    timestamp: String,
    /// Every `webhook-signature` value (a header given twice adds its signatures).
    signatures: Vec<String>,
}

impl SignedHeaders {
    fn read<H>(headers: H) -> Result<Self, WebhookError>
    where
        H: IntoIterator,
        H::Item: HeaderPair,
    {
        let (mut id, mut timestamp, mut signatures) = (None, None, Vec::new());
        for pair in headers {
            let (name, value) = (pair.name(), pair.value());
            let (name, slot) = if name.eq_ignore_ascii_case(ID_HEADER.as_bytes()) {
                (ID_HEADER, &mut id)
            } else if name.eq_ignore_ascii_case(TIMESTAMP_HEADER.as_bytes()) {
                (TIMESTAMP_HEADER, &mut timestamp)
            } else if name.eq_ignore_ascii_case(SIGNATURE_HEADER.as_bytes()) {
                (SIGNATURE_HEADER, &mut None)
            } else {
                continue;
            };
            let value = std::str::from_utf8(value)
                .map_err(|_| WebhookError::InvalidHeader {
                    name,
                    message: "is not UTF-8".into(),
                })?
                .trim();
            if value.is_empty() {
                continue;
            }
            if name == SIGNATURE_HEADER {
                signatures.push(value.to_owned());
                continue;
            }
            match slot {
                Some(seen) if seen != value => {
                    return Err(WebhookError::InvalidHeader {
                        name,
                        message: "is given twice, with different values".into(),
                    })
                }
                Some(_) => {}
                None => *slot = Some(value.to_owned()),
            }
        }
        let missing = |name| WebhookError::MissingHeader { name };
        let id = id.ok_or_else(|| missing(ID_HEADER))?;
        let timestamp = timestamp.ok_or_else(|| missing(TIMESTAMP_HEADER))?;
        if signatures.is_empty() {
            return Err(missing(SIGNATURE_HEADER));
        }
        Ok(SignedHeaders {
            id,
            timestamp,
            signatures,
        })
    }
}
