//! The endpoint's signing secret and the Standard Webhooks signature made with it: the
//! `whsec_<base64>` text read as the API shows it, and `v1,` + base64(HMAC-SHA256 of
//! `"{id}.{timestamp}.{body}"`). Written here, not taken from the client library, so that the
//! library's verifier is checked against an independent signer.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// Standard base64 read with or without its `=` padding, as the official verifiers read a key.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A webhook signing secret; `Debug` shows no part of it.
#[derive(Clone)]
pub(super) struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Reads `whsec_<base64>` (the prefix and the padding may be left out).
    pub(super) fn new(text: &str) -> Result<SigningKey, String> {
        let text = text.trim();
        let b64 = text.strip_prefix("whsec_").unwrap_or(text);
        let key = LENIENT
            .decode(b64)
            .map_err(|_| "is not valid base64 after the optional `whsec_` prefix".to_string())?;
        if key.is_empty() {
            return Err("is empty".into());
        }
        Ok(SigningKey(key))
    }

    /// Returns the three headers of a delivery signed at `timestamp` (seconds since the epoch).
    pub(super) fn signed_headers(
        &self,
        id: &str,
        timestamp: i64,
        body: &str,
    ) -> [(&'static str, String); 3] {
        // HMAC takes a key of any length: `new_from_slice` cannot fail for it
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of every length"),
        };
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        let signature = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        // the example of the Standard Webhooks specification
        let key = SigningKey::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let headers = key.signed_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(
            headers[2].1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(format!("{key:?}"), "SigningKey(..)");
        assert!(SigningKey::new("whsec_not*base64").is_err());
        assert!(SigningKey::new("whsec_").is_err());
    }
}
