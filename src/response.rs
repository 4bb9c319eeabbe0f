//! A 2xx answer of the API: a JSON body already read (within the call's retries and size
//! limit), or a stream (a download, an event stream) read on demand, with the connection it
//! comes on.

use crate::error::{Error, Result};
use crate::sockets::Held;
use serde::de::DeserializeOwned;
use std::io::{Read, Write};
use std::path::Path;

/// An answer of the API, status 2xx.
///
/// A JSON answer arrives read whole; a download or an event stream is read as the caller
/// goes, with no size limit.
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
    body: Payload,
    /// The size limit of [`Response::json`] on a body not yet read.
    limit: u64,
    /// The span of the call, kept while a streamed body is read.
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
    /// The connection a body not yet read comes on, for a reader that lets go of it early.
    held: Option<Held>,
}

enum Payload {
    Read(Vec<u8>),
    Unread(ureq::Body),
    /// A body read through a cassette's recorder.
    #[cfg(feature = "cassettes")]
    Tapped(Box<dyn Read + Send>),
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
    /// An answer whose body is read by the caller.
    pub(crate) fn streaming(
        parts: ureq::http::response::Parts,
        body: ureq::Body,
        limit: u64,
    ) -> Self {
        Response::new(parts, Payload::Unread(body), limit)
    }

    /// An answer whose body was read whole.
    pub(crate) fn read(parts: ureq::http::response::Parts, body: Vec<u8>) -> Self {
        Response::new(parts, Payload::Read(body), u64::MAX)
    }

    fn new(parts: ureq::http::response::Parts, body: Payload, limit: u64) -> Self {
        Response {
            status: parts.status.as_u16(),
            request_id: crate::error::request_id(&parts.headers),
            headers: parts.headers,
            body,
            limit,
            #[cfg(feature = "tracing")]
            span: None,
            held: None,
        }
    }

    /// Returns the response, holding the connection its body comes on.
    pub(crate) fn holding(mut self, held: Option<Held>) -> Self {
        self.held = held;
        self
    }

    /// Takes the connection the body comes on, for a reader that cuts it when it lets go of
    /// the body early (an event stream).
    pub(crate) fn take_held(&mut self) -> Option<Held> {
        self.held.take()
    }

    /// The body, if it was read whole.
    #[cfg(feature = "tracing")]
    pub(crate) fn read_body(&self) -> Option<&[u8]> {
        match &self.body {
            Payload::Read(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// Keeps the span of the call until the body has been read or dropped.
    #[cfg(feature = "tracing")]
    pub(crate) fn keep_span(&mut self, span: tracing::Span) {
        self.span = Some(span);
    }

    /// Takes the span of the call, for a reader that records more on it (an event stream).
    #[cfg(feature = "tracing")]
    pub(crate) fn take_span(&mut self) -> Option<tracing::Span> {
        self.span.take()
    }

    /// The headers, and the body if it was read whole.
    #[cfg(feature = "cassettes")]
    pub(crate) fn recorded_parts(&self) -> (&ureq::http::HeaderMap, Option<&[u8]>) {
        let body = match &self.body {
            Payload::Read(bytes) => Some(bytes.as_slice()),
            _ => None,
        };
        (&self.headers, body)
    }

    /// The response with a body not yet read passed through `tap`.
    #[cfg(feature = "cassettes")]
    pub(crate) fn tapped(
        mut self,
        tap: impl FnOnce(Box<dyn Read + Send>) -> Box<dyn Read + Send>,
    ) -> Self {
        self.body = match self.body {
            Payload::Unread(body) => Payload::Tapped(tap(Box::new(body.into_reader()))),
            other => other,
        };
        self
    }

    /// Returns the HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Returns the `request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Returns a header's value, if it is present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Returns the body as a reader.
    pub fn into_reader(self) -> impl Read + Send + 'static {
        #[cfg(feature = "tracing")]
        let span = self.span;
        let reader = match self.body {
            Payload::Read(bytes) => Box::new(std::io::Cursor::new(bytes)) as Box<dyn Read + Send>,
            Payload::Unread(body) => Box::new(body.into_reader()),
            #[cfg(feature = "cassettes")]
            Payload::Tapped(reader) => reader,
        };
        #[cfg(feature = "tracing")]
        let reader = match span {
            Some(span) => Box::new(SpanReader { reader, span }) as Box<dyn Read + Send>,
            None => reader,
        };
        reader
    }

    /// Returns the whole body (a download too, however large).
    pub fn bytes(self) -> Result<Vec<u8>> {
        self.read_all(u64::MAX)
    }

    fn read_all(self, limit: u64) -> Result<Vec<u8>> {
        match self.body {
            Payload::Read(bytes) => Ok(bytes),
            Payload::Unread(mut body) => {
                body.with_config().limit(limit).read_to_vec().map_err(|e| {
                    match Error::transport("reading the body", e) {
                        Error::BodyTooLarge { limit, .. } => Error::BodyTooLarge {
                            limit,
                            request_id: self.request_id,
                        },
                        other => other,
                    }
                })
            }
            #[cfg(feature = "cassettes")]
            Payload::Tapped(reader) => {
                let mut bytes = Vec::new();
                reader
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(|e| Error::reading("reading the body", e))?;
                if bytes.len() as u64 > limit {
                    return Err(Error::BodyTooLarge {
                        limit,
                        request_id: self.request_id,
                    });
                }
                Ok(bytes)
            }
        }
    }

    /// Returns the body decoded from JSON (at most the client's body size limit of it).
    pub fn json<T: DeserializeOwned>(self) -> Result<T> {
        let limit = self.limit;
        let bytes = self.read_all(limit)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(e, &bytes))
    }

    /// Reads the body to its end and drops it, so the connection can be reused.
    pub fn finish(self) -> Result<()> {
        self.write_to(&mut std::io::sink()).map(|_| ())
    }

    /// Streams the body into a writer; returns the number of bytes.
    pub fn write_to(self, w: &mut impl Write) -> Result<u64> {
        let mut r = self.into_reader();
        let mut buf = vec![0; 64 * 1024];
        let mut n = 0u64;
        loop {
            let got = match r.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::reading("reading the body", e)),
            };
            w.write_all(&buf[..got]).map_err(|e| Error::Io {
                message: "writing the body".into(),
                source: e,
            })?;
            n += got as u64;
        }
    }

    /// Streams the body into a file: written to a temporary file beside it, then renamed
    /// over `path`, so `path` holds either the whole body or what it held before (a failed
    /// or cut download leaves nothing behind).
    pub fn copy_to_path(self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let (tmp, mut f) = temporary_file(dir).map_err(|e| Error::Io {
            message: format!("creating a temporary file in {}", dir.display()),
            source: e,
        })?;
        // removes the temporary file unless it was renamed
        struct Cleanup<'a>(Option<&'a Path>);
        impl Drop for Cleanup<'_> {
            fn drop(&mut self) {
                if let Some(p) = self.0 {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        let mut cleanup = Cleanup(Some(&tmp));
        let writing = |e| Error::Io {
            message: format!("writing {}", path.display()),
            source: e,
        };
        let n = self.write_to(&mut f).map_err(|e| match e {
            Error::Io { source, .. } => writing(source),
            other => other,
        })?;
        f.flush().map_err(writing)?;
        f.sync_all().map_err(writing)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(writing)?;
        cleanup.0 = None;
        Ok(n)
    }
}

/// A new file of a short unused name (`.ma-download-<hex>.part`) in `dir`, opened to write.
fn temporary_file(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    use std::hash::{BuildHasher, Hasher};
    for _ in 0..16 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let name = format!(".ma-download-{:016x}.part", h.finish());
        let p = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free temporary name",
    ))
}

/// A body that holds its call's span until it is dropped, and sets the span's status when it
/// is read to its end (`ok`) or fails, as the Python SDK's span of a download.
#[cfg(feature = "tracing")]
struct SpanReader {
    reader: Box<dyn Read + Send>,
    span: tracing::Span,
}

#[cfg(feature = "tracing")]
impl Read for SpanReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.reader.read(buf) {
            Ok(0) if !buf.is_empty() => {
                self.span.record("otel.status_code", "ok");
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) => {
                self.span.record("otel.status_code", "error");
                self.span.record("error.type", "connection_error");
                Err(e)
            }
        }
    }
}
