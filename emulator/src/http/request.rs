//! The emulator's request reader: one HTTP/1.1 request off a connection (request line,
//! headers, a body by `content-length` or chunked), bounded everywhere. Nothing is allocated
//! because the sender claims it will come: a body grows only as its bytes arrive, a chunk
//! size that does not fit is refused, and input past a bound is answered with a clear 4xx.
//!
//! Reachable from outside only through the hidden `__fuzz` module, for the fuzz target; the
//! emulator's server is its only other user.
//!
//! ```
//! use managed_agents_emulator::__fuzz::{read_request, Limits};
//!
//! let bytes = b"POST /v1/agents HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}";
//! let req = read_request(&mut &bytes[..], &Limits::default()).unwrap();
//! assert_eq!((req.method.as_str(), req.body.as_slice()), ("POST", &b"{}"[..]));
//! ```

use std::io::{BufRead, Read};

/// How much of a request the reader accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// The longest request line (the target included); longer is `414`.
    pub max_request_line: usize,
    /// The longest header line; longer is `431`.
    pub max_header_line: usize,
    /// The most header fields (trailers included); more is `431`.
    pub max_headers: usize,
    /// The largest body, however it is framed; larger is `413`.
    pub max_body: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_request_line: 16 * 1024,
            max_header_line: 8 * 1024,
            max_headers: 100,
            max_body: 64 * 1024 * 1024,
        }
    }
}

/// One request as read off the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The method, upper case (`GET`).
    pub method: String,
    /// The target: the path and its query string.
    pub target: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The header fields as sent (names as written, values trimmed).
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Request {
    /// Returns a header's value (the first, by case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Returns whether the connection may carry another request after this one: HTTP/1.1 unless the
    /// client said `connection: close`, HTTP/1.0 only with `connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let says = |word: &str| {
            self.header("connection")
                .is_some_and(|c| c.split(',').any(|t| t.trim().eq_ignore_ascii_case(word)))
        };
        if self.version == "HTTP/1.0" {
            says("keep-alive")
        } else {
            !says("close")
        }
    }
}

/// Why no request was read.
#[derive(Debug)]
pub enum RequestError {
    /// The connection ended before the first byte of a request.
    Closed,
    /// The connection failed or ended inside a request.
    Io(std::io::Error),
    /// The request is malformed or too large: answer `status` with `message`, then close.
    Invalid {
        /// `400`, `413`, `414`, `431` or `501`.
        status: u16,
        /// What was wrong, for the error body.
        message: String,
    },
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Closed => f.write_str("the connection closed"),
            RequestError::Io(e) => write!(f, "reading the request failed: {e}"),
            RequestError::Invalid { status, message } => write!(f, "{status}: {message}"),
        }
    }
}

impl std::error::Error for RequestError {}

fn invalid(status: u16, message: impl Into<String>) -> RequestError {
    RequestError::Invalid {
        status,
        message: message.into(),
    }
}

/// Reads one request. [`RequestError::Closed`] when the connection ended cleanly before it.
pub fn read_request(r: &mut impl BufRead, limits: &Limits) -> Result<Request, RequestError> {
    read_request_then(r, limits, |_| Ok(()))
}

/// Reads a request as [`read_request`] does, calling `before_body` with the request line and
/// headers once they are read and found acceptable, before a body is read (where a server
/// answers `Expect: 100-continue`).
pub fn read_request_then(
    r: &mut impl BufRead,
    limits: &Limits,
    before_body: impl FnOnce(&Request) -> std::io::Result<()>,
) -> Result<Request, RequestError> {
    let line = match read_line(r, limits.max_request_line)? {
        Line::Eof(true) => return Err(RequestError::Closed),
        Line::Eof(false) => return Err(eof()),
        Line::TooLong => return Err(invalid(414, "the request line is too long")),
        Line::Text(l) => l,
    };
    let line =
        std::str::from_utf8(&line).map_err(|_| invalid(400, "the request line is not UTF-8"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(
            400,
            "the request line is not `METHOD TARGET HTTP/1.1`",
        ));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid(400, "the method is not a token"));
    }
    if !target.starts_with('/') {
        return Err(invalid(400, "the target must be a path"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(invalid(
            400,
            format!("unsupported HTTP version {version:?}"),
        ));
    }
    let mut headers = Vec::new();
    read_fields(r, limits, &mut headers)?;
    let mut req = Request {
        method: method.to_ascii_uppercase(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body: Vec::new(),
    };
    let length = content_length(&req)?;
    match req.header("transfer-encoding") {
        Some(te) => {
            if length.is_some() {
                return Err(invalid(400, "both content-length and transfer-encoding"));
            }
            if !te.trim().eq_ignore_ascii_case("chunked") {
                return Err(invalid(
                    501,
                    format!("transfer-encoding {te:?} is not supported"),
                ));
            }
            before_body(&req).map_err(RequestError::Io)?;
            let mut trailers = std::mem::take(&mut req.headers);
            req.body = read_chunked(r, limits, &mut trailers)?;
            req.headers = trailers;
        }
        None => {
            if let Some(n) = length {
                if n > limits.max_body {
                    return Err(invalid(
                        413,
                        format!(
                            "the body of {n} bytes is larger than {} bytes",
                            limits.max_body
                        ),
                    ));
                }
                if n > 0 {
                    before_body(&req).map_err(RequestError::Io)?;
                }
                req.body = read_exact_growing(r, n)?;
            }
        }
    }
    Ok(req)
}

/// Reads `content-length`, if sent: digits only, every copy the same.
fn content_length(req: &Request) -> Result<Option<u64>, RequestError> {
    let mut length = None;
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let n = (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| invalid(400, format!("content-length {v:?} is not a length")))?;
        if length.is_some_and(|l| l != n) {
            return Err(invalid(
                400,
                "content-length is sent twice with different values",
            ));
        }
        length = Some(n);
    }
    Ok(length)
}

/// Reads header fields (or trailers) up to the empty line.
fn read_fields(
    r: &mut impl BufRead,
    limits: &Limits,
    fields: &mut Vec<(String, String)>,
) -> Result<(), RequestError> {
    loop {
        let line = match read_line(r, limits.max_header_line)? {
            Line::Eof(_) => return Err(eof()),
            Line::TooLong => return Err(invalid(431, "a header field is too long")),
            Line::Text(l) => l,
        };
        if line.is_empty() {
            return Ok(());
        }
        if fields.len() >= limits.max_headers {
            return Err(invalid(
                431,
                format!("more than {} header fields", limits.max_headers),
            ));
        }
        let line = String::from_utf8_lossy(&line);
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| invalid(400, "a header line has no colon"))?;
        if k.is_empty()
            || k.bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(invalid(400, format!("{k:?} is not a header name")));
        }
        fields.push((k.to_string(), v.trim().to_string()));
    }
}

/// Reads a chunked body (and its trailers, added to `fields`).
fn read_chunked(
    r: &mut impl BufRead,
    limits: &Limits,
    fields: &mut Vec<(String, String)>,
) -> Result<Vec<u8>, RequestError> {
    let mut body = Vec::new();
    loop {
        let line = match read_line(r, limits.max_header_line)? {
            Line::Eof(_) => return Err(eof()),
            Line::TooLong => return Err(invalid(400, "a chunk size line is too long")),
            Line::Text(l) => l,
        };
        let line = String::from_utf8_lossy(&line);
        let size = line.split(';').next().unwrap_or("").trim();
        // at most 16 hex digits fit a u64; from_str_radix refuses anything larger
        let n =
            (!size.is_empty() && size.len() <= 16 && size.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u64::from_str_radix(size, 16).ok())
                .flatten()
                .ok_or_else(|| invalid(400, format!("{size:?} is not a chunk size")))?;
        if n == 0 {
            read_fields(r, limits, fields)?;
            return Ok(body);
        }
        if n > limits.max_body.saturating_sub(body.len() as u64) {
            return Err(invalid(
                413,
                format!("the body is larger than {} bytes", limits.max_body),
            ));
        }
        body.extend_from_slice(&read_exact_growing(r, n)?);
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf).map_err(RequestError::Io)?;
        if &crlf != b"\r\n" {
            return Err(invalid(400, "a chunk does not end with CRLF"));
        }
    }
}

/// Reads exactly `n` bytes, the buffer growing as they arrive (never sized by the claim).
fn read_exact_growing(r: &mut impl BufRead, n: u64) -> Result<Vec<u8>, RequestError> {
    let mut out = Vec::with_capacity(n.min(64 * 1024) as usize);
    r.take(n).read_to_end(&mut out).map_err(RequestError::Io)?;
    if (out.len() as u64) < n {
        return Err(eof());
    }
    Ok(out)
}

fn eof() -> RequestError {
    RequestError::Io(std::io::ErrorKind::UnexpectedEof.into())
}

enum Line {
    /// The end of input; `true` when no byte of the line was read.
    Eof(bool),
    TooLong,
    /// The line without its CRLF or LF.
    Text(Vec<u8>),
}

/// Reads one line of at most `max` bytes (its line end not counted).
fn read_line(r: &mut impl BufRead, max: usize) -> Result<Line, RequestError> {
    let mut line = Vec::new();
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RequestError::Io(e)),
        };
        if buf.is_empty() {
            return Ok(Line::Eof(line.is_empty()));
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                line.extend_from_slice(&buf[..i]);
                r.consume(i + 1);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(if line.len() > max {
                    Line::TooLong
                } else {
                    Line::Text(line)
                });
            }
            None => {
                let n = buf.len();
                line.extend_from_slice(buf);
                r.consume(n);
                // one byte of slack for a CR that the LF has not yet followed
                if line.len() > max + 1 {
                    return Ok(Line::TooLong);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Request, RequestError> {
        read_request(&mut &bytes[..], &Limits::default())
    }

    fn status(bytes: &[u8]) -> u16 {
        match read(bytes) {
            Err(RequestError::Invalid { status, .. }) => status,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bodies_by_length_and_by_chunks() {
        let r = read(b"POST /a?b=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").unwrap();
        assert_eq!(
            (r.target.as_str(), r.body.as_slice()),
            ("/a?b=1", &b"abc"[..])
        );
        let r = read(b"POST /a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nt: 1\r\n\r\n").unwrap();
        assert_eq!(
            (r.body.as_slice(), r.header("t")),
            (&b"abcde"[..], Some("1"))
        );
        assert!(r.keep_alive());
    }

    #[test]
    fn two_requests_on_one_connection_then_closed() {
        let bytes = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nconnection: close\r\n\r\n";
        let mut r = &bytes[..];
        let a = read_request(&mut r, &Limits::default()).unwrap();
        let b = read_request(&mut r, &Limits::default()).unwrap();
        assert_eq!((a.target.as_str(), b.target.as_str()), ("/a", "/b"));
        assert!(a.keep_alive() && !b.keep_alive());
        assert!(matches!(
            read_request(&mut r, &Limits::default()),
            Err(RequestError::Closed)
        ));
    }

    #[test]
    fn every_bound_is_a_clear_status() {
        let huge = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
        assert_eq!(status(huge.as_bytes()), 414);
        let long_header = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "a".repeat(9_000));
        assert_eq!(status(long_header.as_bytes()), 431);
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "x: 1\r\n".repeat(101));
        assert_eq!(status(many.as_bytes()), 431);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\ncontent-length: 99999999999999\r\n\r\n"),
            413
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\ncontent-length: 99999999999999999999999\r\n\r\n"),
            400
        );
        let chunk =
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffffff\r\n";
        assert_eq!(status(chunk), 400);
        let chunk = b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\n";
        assert_eq!(status(chunk), 413);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"),
            400
        );
        assert_eq!(status(b"GET / HTTP/2\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
    }

    #[test]
    fn a_body_shorter_than_claimed_is_an_io_error() {
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\nabc"),
            Err(RequestError::Io(_))
        ));
    }
}
