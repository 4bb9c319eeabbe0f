//! A response whose body is read on demand: decoded as JSON, or streamed to a writer.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use std::io::{Read, Write};
use std::path::Path;

/// An answer of the API, status 2xx, with its body not yet read.
///
/// ```no_run
/// # let client = managed_agents::Client::from_env()?;
/// let body = client.files().download("file_011CNha8iCJcU1wXNR6q4V8w")?;
/// body.copy_to_path("data.csv")?;
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub struct Response {
    status: u16,
    request_id: Option<String>,
    headers: ureq::http::HeaderMap,
    body: ureq::Body,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .finish()
    }
}

impl Response {
    pub(crate) fn new(r: ureq::http::Response<ureq::Body>) -> Self {
        let (parts, body) = r.into_parts();
        let request_id = parts
            .headers
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        Response {
            status: parts.status.as_u16(),
            request_id,
            headers: parts.headers,
            body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// A header's value, if it is present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a reader.
    pub fn into_reader(self) -> impl Read + Send + 'static {
        self.body.into_reader()
    }

    /// The whole body.
    pub fn bytes(mut self) -> Result<Vec<u8>> {
        self.body
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(crate::transport::body_error)
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(self) -> Result<T> {
        let bytes = self.bytes()?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(e, &bytes))
    }

    /// Reads the body to its end and drops it, so the connection can be reused.
    pub fn finish(self) -> Result<()> {
        let mut r = self.body.into_reader();
        std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| Error::Connection {
            message: e.to_string(),
        })?;
        Ok(())
    }

    /// Streams the body into a writer; returns the number of bytes.
    pub fn write_to(self, w: &mut impl Write) -> Result<u64> {
        let mut r = self.body.into_reader();
        std::io::copy(&mut r, w).map_err(|e| {
            if crate::transport::is_timeout(&e) {
                Error::Timeout {
                    message: "reading the body".into(),
                }
            } else {
                Error::Io {
                    message: "streaming the body".into(),
                    source: e,
                }
            }
        })
    }

    /// Streams the body into a file (created or truncated).
    pub fn copy_to_path(self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let mut f = std::fs::File::create(path).map_err(|e| Error::Io {
            message: format!("creating {}", path.display()),
            source: e,
        })?;
        let n = self.write_to(&mut f)?;
        f.flush().map_err(|e| Error::Io {
            message: format!("writing {}", path.display()),
            source: e,
        })?;
        Ok(n)
    }
}

/// An error status and its body, as an [`Error::Api`].
pub(crate) fn api_error(r: ureq::http::Response<ureq::Body>) -> Error {
    let status = r.status().as_u16();
    let request_id = r
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let mut body = r.into_body();
    let bytes = body
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    Error::from_api_body(status, request_id, &bytes)
}
