//! Reading a `multipart/form-data` body into its parts (file uploads, skill folders).

use super::reply::{bad, ApiError};

/// One part of a form.
pub(crate) struct Part {
    /// The field's name.
    pub(crate) name: String,
    /// The file name, for a file.
    pub(crate) filename: Option<String>,
    /// The part's content type (`application/octet-stream` when it says none).
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

/// Splits a `multipart/form-data` body into its parts.
pub(crate) fn parts(content_type: &str, body: &[u8]) -> Result<Vec<Part>, ApiError> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| bad("the body must be multipart/form-data"))?;
    let delim = format!("--{boundary}").into_bytes();
    let mut end_delim = b"\r\n".to_vec();
    end_delim.extend_from_slice(&delim);
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0).ok_or_else(|| bad("no multipart boundary in the body"))?
        + delim.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        pos += 2; // CRLF
        let head_end = find(body, b"\r\n\r\n", pos)
            .ok_or_else(|| bad("a multipart part has no header end"))?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let start = head_end + 4;
        let end =
            find(body, &end_delim, start).ok_or_else(|| bad("a multipart part has no end"))?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or("");
        let param = |name: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(&format!("{name}=\""))
                    .map(|v| v.trim_end_matches('"').replace("%22", "\""))
            })
        };
        let content_type = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        parts.push(Part {
            name: param("name").unwrap_or_default(),
            filename: param("filename"),
            content_type,
            bytes: body[start..end].to_vec(),
        });
        pos = end + end_delim.len();
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)
        .and_then(|h| memchr::memmem::find(h, needle))
        .map(|p| p + from)
}
