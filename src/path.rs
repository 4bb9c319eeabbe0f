//! Path parameters: checked, then percent-encoded so that an ID can never change the path.

use crate::error::{Error, Result};

/// Checks one path parameter and percent-encodes it as a single path segment.
///
/// Everything but RFC 3986 unreserved characters is encoded, so `/`, `?`, `#` and `%` stay
/// inside the segment; `.` and `..` (which a server or proxy would resolve) and empty values are
/// refused.
pub(crate) fn path_segment(name: &str, value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::invalid_input(name, "must not be empty"));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid_input(
            name,
            format!("{value:?} is not an ID"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            name,
            "must not contain control characters",
        ));
    }
    Ok(encode(value))
}

/// Percent-encodes all but RFC 3986 unreserved characters (a space is `%20`, in a path and in a query).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789ABCDEF"[(b & 15) as usize]));
        }
    }
    out
}
