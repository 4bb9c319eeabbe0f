//! How an API error answer becomes an [`Error`], and what it says: its type, its code, the
//! official SDKs' exception class for it and the `is_*` checks of its status.

use super::{Error, ErrorCode, ErrorType};
use crate::error::excerpt;

impl Error {
    /// The error of an API answer with a status that is not 2xx; reads at most 64 KiB of its body.
    pub(crate) fn from_response(r: ureq::http::Response<ureq::Body>) -> Self {
        let status = r.status().as_u16();
        let request_id = request_id(r.headers());
        let bytes = r
            .into_body()
            .with_config()
            .limit(API_ERROR_BODY_LIMIT)
            .read_to_vec()
            .unwrap_or_default();
        Error::from_api_body(status, request_id, &bytes)
    }

    /// Creates the error an API answer with this status, `request-id` and body stands for: the error
    /// type and message of the API's error JSON, or the start of the body when it is not that.
    ///
    /// ```
    /// use managed_agents::Error;
    ///
    /// let e = Error::from_api_body(404, None, br#"{"type":"error","error":{"type":"not_found_error","message":"no"},"request_id":"req_1"}"#);
    /// assert_eq!((e.status(), e.request_id()), (Some(404), Some("req_1")));
    /// let e = Error::from_api_body(502, Some("req_2".into()), b"<html>Bad Gateway</html>");
    /// assert!(e.to_string().contains("Bad Gateway"));
    /// ```
    pub fn from_api_body(status: u16, request_id: Option<String>, body: &[u8]) -> Self {
        let body = &body[..body.len().min(API_ERROR_BODY_LIMIT as usize)];
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let err = parsed.as_ref().and_then(|v| v.get("error"));
        let error_type = err
            .and_then(|e| e.get("type"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(ErrorType::from);

        let message = err
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(String::from)
            .unwrap_or_else(|| {
                if body.is_empty() {
                    "(empty body)".into()
                } else {
                    excerpt(body, 200)
                }
            });
        let request_id = request_id.or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| v.get("request_id"))
                .and_then(|t| t.as_str())
                .map(String::from)
        });
        Error::Api {
            status,
            error_type,
            message,
            request_id,
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// Returns the error's `type` (`not_found_error`, ...) of an [`Error::Api`] or [`Error::Stream`].
    pub fn error_type(&self) -> Option<&ErrorType> {
        match self {
            Error::Api { error_type, .. } | Error::Stream { error_type, .. } => error_type.as_ref(),
            _ => None,
        }
    }

    /// Returns the error's code (`error.details.error_code`) of an [`Error::Api`]: a stable name of the
    /// cause. A code this version does not know is [`ErrorCode::Other`]; treat it as its
    /// [`error_type`](Error::error_type).
    ///
    /// ```
    /// use managed_agents::{Error, ErrorCode};
    ///
    /// let e = Error::from_api_body(404, None, br#"{"type":"error","error":{"type":"not_found_error","message":"no thread","details":{"error_code":"thread_not_found"}}}"#);
    /// assert_eq!(e.error_code(), Some(ErrorCode::ThreadNotFound));
    /// assert!(e.is_not_found());
    /// assert_eq!(e.sdk_class(), Some("ThreadNotFoundError"));
    /// ```
    pub fn error_code(&self) -> Option<ErrorCode> {
        // read from the kept body when asked: an error stays small for the path that never asks
        let Error::Api { body, .. } = self else {
            return None;
        };
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        v.get("error")?
            .get("details")?
            .get("error_code")?
            .as_str()
            .filter(|c| !c.is_empty())
            .map(ErrorCode::from)
    }

    /// Returns the name of the exception class the official SDKs raise for this answer, by their error
    /// table: the class of its (status, code) when they list it, else the class of its status
    /// (`NotFoundError`, `RateLimitError`, ...), else `InternalServerError` for a 5xx and
    /// `APIStatusError` for the rest. `None` when the error is not an API answer.
    pub fn sdk_class(&self) -> Option<&'static str> {
        let Error::Api { status, .. } = self else {
            return None;
        };
        let by_code = self
            .error_code()
            .filter(|c| c.status() == Some(*status))
            .and_then(|c| c.sdk_class());
        Some(
            by_code
                .or_else(|| crate::types::sdk_class_of_status(*status))
                .unwrap_or(if *status >= 500 {
                    "InternalServerError"
                } else {
                    "APIStatusError"
                }),
        )
    }
}

/// `is_*` for each status the official SDKs raise an exception class of its own for.
macro_rules! status_checks {
    ($( $(#[$doc:meta])* $name:ident => $status:pat, )*) => {
        impl Error {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> bool {
                    matches!(self, Error::Api { status: $status, .. })
                }
            )*
        }
    };
}

status_checks! {
    /// A 400 answer (`BadRequestError`): the request is wrong; sending it again will not help.
    is_bad_request => 400,
    /// A 401 answer (`AuthenticationError`): the key is missing, wrong or revoked.
    is_authentication => 401,
    /// A 402 answer (`PaymentRequiredError`).
    is_payment_required => 402,
    /// A 403 answer (`PermissionDeniedError`): the key may not do this.
    is_permission_denied => 403,
    /// A 404 answer (`NotFoundError`): the resource does not exist, or no longer does.
    is_not_found => 404,
    /// A 408 answer (`RequestTimeoutError`).
    is_request_timeout => 408,
    /// A 409 answer (`ConflictError`): the resource's state does not allow it now.
    is_conflict => 409,
    /// A 412 answer (`PreconditionFailedError`): a precondition (a lease, a hash) no longer holds.
    is_precondition_failed => 412,
    /// A 413 answer (`ContentTooLargeError`): the body is too large.
    is_content_too_large => 413,
    /// A 422 answer (`UnprocessableEntityError`).
    is_unprocessable_entity => 422,
    /// A 429 answer (`RateLimitError`): slow down (after the `retry-after` the answer gives).
    is_rate_limited => 429,
    /// A 5xx answer (`InternalServerError` and the classes below it).
    is_internal_server => 500..=599,
    /// A 503 answer (`ServiceUnavailableError`).
    is_service_unavailable => 503,
    /// A 529 answer (`OverloadedError`): the API is overloaded; retry later.
    is_overloaded => 529,
}

/// How much of an error answer's body is read and kept.
const API_ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The `request-id` header of an answer.
pub(crate) fn request_id(headers: &ureq::http::HeaderMap) -> Option<String> {
    headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> Error {
        Error::from_api_body(status, None, body.as_bytes())
    }

    #[test]
    fn the_type_and_code_are_open_enums_read_from_the_body() {
        let e = api(
            503,
            r#"{"type":"error","error":{"type":"api_error","message":"m","details":{"error_code":"storage_not_ready"}}}"#,
        );
        assert_eq!(e.error_type(), Some(&ErrorType::ApiError));
        assert_eq!(e.error_code(), Some(ErrorCode::StorageNotReady));
        assert_eq!(e.sdk_class(), Some("StorageNotReadyError"));
        assert!(e.is_service_unavailable() && e.is_internal_server() && e.is_retryable());
        assert_eq!(
            e.to_string(),
            "API error 503 api_error (storage_not_ready): m"
        );
        // a code or type this version does not know is kept as it came
        let e = api(
            400,
            r#"{"type":"error","error":{"type":"brand_new_error","message":"m","details":{"error_code":"brand_new"}}}"#,
        );
        assert_eq!(
            e.error_type(),
            Some(&ErrorType::Other("brand_new_error".into()))
        );
        assert_eq!(e.error_code(), Some(ErrorCode::Other("brand_new".into())));
        // an unknown code falls back to the status's class, as the SDKs' table does
        assert_eq!(e.sdk_class(), Some("BadRequestError"));
        assert!(e.is_bad_request());
    }

    #[test]
    fn the_sdk_class_follows_the_official_table() {
        let e = api(
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"m"}}"#,
        );
        assert_eq!(e.sdk_class(), Some("NotFoundError"));
        assert!(e.is_not_found() && !e.is_conflict());
        // a code listed under another status is not taken for this one
        let e = api(
            400,
            r#"{"type":"error","error":{"type":"x","message":"m","details":{"error_code":"thread_not_found"}}}"#,
        );
        assert_eq!(e.sdk_class(), Some("BadRequestError"));
        assert_eq!(api(502, "<html>").sdk_class(), Some("InternalServerError"));
        assert_eq!(api(418, "").sdk_class(), Some("APIStatusError"));
        assert_eq!(Error::timeout("t").sdk_class(), None);
        assert_eq!(ErrorCode::HeartbeatPreconditionFailed.status(), Some(412));
        let e = api(
            412,
            r#"{"error":{"type":"invalid_request_error","message":"m","details":{"error_code":"heartbeat_precondition_failed"}}}"#,
        );
        assert!(e.is_precondition_failed());
        assert_eq!(e.sdk_class(), Some("BetaHeartbeatPreconditionFailedError"));
        for (status, check) in [
            (401, Error::is_authentication as fn(&Error) -> bool),
            (403, Error::is_permission_denied),
            (409, Error::is_conflict),
            (413, Error::is_content_too_large),
            (429, Error::is_rate_limited),
            (529, Error::is_overloaded),
        ] {
            assert!(check(&api(status, "")), "{status}");
            assert!(!check(&api(200, "")), "{status}");
        }
    }
}
