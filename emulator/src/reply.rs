//! What a route reads and answers: the parts of a request it reads ([`Request`]), its answer (a
//! JSON object, bytes, a stream, or the API's error), and the helpers every route reads its
//! input with (the query string, a JSON body, one page of a list).

use serde_json::{json, Value};

/// What a route reads of a request.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) query: &'a Query,
    pub(crate) content_type: &'a str,
    /// The `Anthropic-Worker-ID` header, which a work poll carries.
    pub(crate) worker_id: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

/// What a route answers.
pub(crate) enum Reply {
    /// A JSON object, `200`.
    Json(Value),
    /// Bytes with a content type, `200`.
    Bytes(&'static str, Vec<u8>),
    /// `204`, no body.
    NoContent,
    /// A JSON body with another status (a 412 whose error carries `details`).
    Status(u16, Value),
    /// A session's live event stream.
    Stream { session: String, previews: bool },
}

/// An error answer: status, error type, message.
#[derive(Debug)]
pub(crate) struct ApiError(pub(crate) u16, pub(crate) &'static str, pub(crate) String);

/// A route's answer.
pub(crate) type Routed = Result<Reply, ApiError>;

/// Returns `404 not_found_error`: `{what} {id} not found`.
pub(crate) fn not_found(what: &str, id: &str) -> ApiError {
    ApiError(404, "not_found_error", format!("{what} {id} not found"))
}

/// Returns `400 invalid_request_error`.
pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError(400, "invalid_request_error", message.into())
}

/// Returns a refusal that names its cause in `error.details.error_code`, which the SDKs read to
/// raise a specific error (`FileNotDownloadableError`, `BetaInvalidMetadataError`).
pub(crate) fn refused(status: u16, kind: &str, message: impl Into<String>, code: &str) -> Reply {
    Reply::Status(
        status,
        json!({"type": "error", "error": {"type": kind, "message": message.into(),
            "details": {"error_code": code}}}),
    )
}

/// Returns what is wrong with a `metadata` object of a request, as the API limits it: at most 16
/// pairs, keys of 1 to 64 characters, values strings of at most 512 (`null` removes a key).
pub(crate) fn metadata_problem(metadata: &Value) -> Option<String> {
    let m = metadata.as_object()?;
    if m.values().filter(|v| !v.is_null()).count() > 16 {
        return Some("metadata: at most 16 key-value pairs".into());
    }
    for (k, v) in m {
        let n = k.chars().count();
        if n == 0 || n > 64 {
            return Some(format!(
                "metadata: the key {k:?} is not 1 to 64 characters long"
            ));
        }
        match v {
            Value::Null => {}
            Value::String(v) if v.chars().count() <= 512 => {}
            Value::String(_) => {
                return Some(format!(
                    "metadata: the value of {k:?} is over 512 characters"
                ))
            }
            _ => return Some(format!("metadata: the value of {k:?} is not a string")),
        }
    }
    None
}

/// Parses a request body as a JSON object (`{}` when empty).
pub(crate) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(bad("the body must be a JSON object"));
    }
    Ok(v)
}

/// Returns a string field the request must have, not empty.
pub(crate) fn required_str<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    match body.get(field).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(format!("{field}: Field required"))),
    }
}

/// Percent-decodes a path segment or query part (`+` is a space).
pub(crate) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A parsed query string.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a query string (`a=1&b=2`), percent-decoding its keys and values.
    pub(crate) fn parse(q: &str) -> Query {
        Query(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    /// Returns the first value of a key.
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    /// Returns every value of a key (`types[]=a&types[]=b`).
    pub(crate) fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Returns the `limit` of a listing whose bound the API enforces (1 to `max`), or a 400.
pub(crate) fn limit_within(query: &Query, max: usize) -> Result<(), ApiError> {
    match query.get("limit").map(str::parse::<usize>) {
        None => Ok(()),
        Some(Ok(n)) if (1..=max).contains(&n) => Ok(()),
        Some(_) => Err(bad(format!("limit: must be an integer from 1 to {max}"))),
    }
}

/// Answers one page of a list: `limit` (default 20, at most 1000) and an opaque `page` cursor; only
/// the page's items are copied.
pub(crate) fn page<T: std::borrow::Borrow<Value>>(items: Vec<T>, query: &Query) -> Routed {
    let limit = match query.get("limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| bad("limit: must be an integer"))?
            .clamp(1, 1000),
        None => 20,
    };
    let offset = match query.get("page") {
        Some(p) => p
            .strip_prefix("page_")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad("page: invalid cursor"))?,
        None => 0,
    };
    let data: Vec<Value> = items
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| v.borrow().clone())
        .collect();
    let next =
        (offset.saturating_add(limit) < items.len()).then(|| format!("page_{}", offset + limit));
    Ok(Reply::Json(json!({"data": data, "next_page": next})))
}

/// A time bound of a listing: the query key and whether a time passes it.
type Bound = (&'static str, fn(&str, &str) -> bool);

/// The time bounds a listing may have.
const BOUNDS: [Bound; 4] = [
    ("created_at[gte]", |a, b| a >= b),
    ("created_at[gt]", |a, b| a > b),
    ("created_at[lte]", |a, b| a <= b),
    ("created_at[lt]", |a, b| a < b),
];

/// Returns whether a time (RFC 3339, as the emulator writes them) is within the query's
/// `created_at[gt|gte|lt|lte]` bounds.
pub(crate) fn created_within(query: &Query, at: &str) -> bool {
    BOUNDS
        .iter()
        .all(|(k, keep)| query.get(k).is_none_or(|v| keep(at, v)))
}
