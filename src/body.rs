//! The body of a request: nothing, JSON, or a multipart form.

use crate::error::{Error, Result};
use crate::multipart::Multipart;

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
