//! The webhook signing secret: read from its `whsec_<base64>` form (or raw bytes), as the
//! official SDKs' Standard Webhooks verifier reads it, and never shown.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use std::fmt;

use super::WebhookError;

/// Standard base64 that, like the official verifier, takes the text with or without its `=`
/// padding and ignores unused trailing bits.
pub(super) const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The prefix of a signing secret's text form.
pub const SECRET_PREFIX: &str = "whsec_";

/// A webhook signing secret: the key of the HMAC-SHA256 that signs each delivery.
///
/// `Debug` shows no part of the key.
///
/// ```
/// use managed_agents::webhooks::Secret;
///
/// let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// assert_eq!(format!("{secret:?}"), "Secret(..)");
/// // the prefix may be left out; the text is base64 all the same
/// assert_eq!(Secret::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?, secret);
/// assert_eq!(secret.to_whsec(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
/// # Ok::<(), managed_agents::webhooks::WebhookError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

impl Secret {
    /// Reads a secret as the API shows it: `whsec_` followed by base64 (the prefix may be
    /// left out, `=` padding too; surrounding whitespace is ignored). This is how the
    /// official SDKs read a `str` key.
    ///
    /// Stricter than the official verifier in one way: text that is not base64 is refused
    /// with [`WebhookError::InvalidSecret`], where Python's decoder skips the stray
    /// characters and silently verifies with another key.
    pub fn new(text: &str) -> Result<Self, WebhookError> {
        let text = text.trim();
        let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = LENIENT
            .decode(b64)
            .map_err(|_| WebhookError::InvalidSecret {
                message: format!("is not valid base64 after the optional `{SECRET_PREFIX}` prefix"),
            })?;
        Self::from_bytes(key)
    }

    /// Creates a secret from the key's bytes themselves, as the official SDKs take a `bytes` key.
    pub fn from_bytes(key: impl Into<Vec<u8>>) -> Result<Self, WebhookError> {
        let key = key.into();
        if key.is_empty() {
            return Err(WebhookError::InvalidSecret {
                message: "is empty".into(),
            });
        }
        Ok(Secret { key })
    }

    /// Creates the secret in `ANTHROPIC_WEBHOOK_SIGNING_KEY`, as the official clients' `webhook_key`
    /// defaults to it. [`WebhookError::MissingSecret`] when it is unset or empty.
    pub fn from_env() -> Result<Self, WebhookError> {
        match std::env::var(super::SIGNING_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::new(&v),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(WebhookError::MissingSecret),
            Err(std::env::VarError::NotUnicode(_)) => Err(WebhookError::InvalidSecret {
                message: format!("in {} is not UTF-8", super::SIGNING_KEY_ENV),
            }),
        }
    }

    /// Returns the text form, `whsec_<base64>` (padded), to configure a sender or another verifier
    /// with the same key.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The key's bytes.
    pub(super) fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl std::str::FromStr for Secret {
    type Err = WebhookError;

    fn from_str(s: &str) -> Result<Self, WebhookError> {
        Secret::new(s)
    }
}
