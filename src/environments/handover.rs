//! A work item handed to this process rather than claimed by it: read from the variables the
//! official `worker poll --on-work` command sets, and the per-item credential its `secret`
//! carries (a base64url JSON payload whose `sessions_token` authorizes the item's calls).

use super::WorkItem;
use crate::error::{Error, Result};

impl WorkItem {
    /// Returns the already-claimed item a parent process handed over in the variables the official
    /// `worker poll --on-work` command sets: `ANTHROPIC_WORK_ID`, `ANTHROPIC_ENVIRONMENT_ID`,
    /// `ANTHROPIC_SESSION_ID` and, optionally, `ANTHROPIC_WORK_SECRET`.
    pub fn from_env() -> Result<WorkItem> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::invalid_input(name, format!("{name} is not set")))
        };
        let (id, environment_id, session_id) = (
            var("ANTHROPIC_WORK_ID")?,
            var("ANTHROPIC_ENVIRONMENT_ID")?,
            var("ANTHROPIC_SESSION_ID")?,
        );
        let secret = var("ANTHROPIC_WORK_SECRET").ok();
        let raw = serde_json::json!({
            "id": id, "environment_id": environment_id, "type": "work",
            "data": {"type": "session", "id": session_id},
        });
        let mut item = WorkItem::from_json(raw)?
            .ok_or_else(|| Error::invalid_input("ANTHROPIC_WORK_ID", "is empty"))?;
        item.secret = secret;
        Ok(item)
    }
}

/// Returns the `sessions_token` inside a work item's secret: base64url JSON, padded or not. `None`
/// when there is no secret, it does not decode, or it carries no token. Never log it.
pub fn sessions_token(secret: Option<&str>) -> Option<String> {
    use base64::engine::{
        general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig,
    };
    use base64::Engine;
    const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = URL_SAFE_ANY_PADDING.decode(secret?.trim()).ok()?;
    let payload: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    payload
        .get("sessions_token")?
        .as_str()
        .filter(|t| !t.is_empty())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sessions_token_comes_from_base64url_json_padded_or_not() {
        // {"sessions_token":"tok-1","ingress_token":"x"} in base64url, without its padding
        let secret = "eyJzZXNzaW9uc190b2tlbiI6InRvay0xIiwiaW5ncmVzc190b2tlbiI6IngifQ";
        assert_eq!(sessions_token(Some(secret)).as_deref(), Some("tok-1"));
        // {"sessions_token":"a?b>"} exercises the url-safe alphabet; padded
        let padded = "eyJzZXNzaW9uc190b2tlbiI6ImE_Yj4ifQ==";
        assert_eq!(sessions_token(Some(padded)).as_deref(), Some("a?b>"));
        for bad in [
            None,
            Some(""),
            Some("!!!"),
            Some("bnVsbA"),
            Some("eyJzZXNzaW9uc190b2tlbiI6IiJ9"),
        ] {
            assert_eq!(sessions_token(bad), None, "{bad:?}");
        }
    }
}
