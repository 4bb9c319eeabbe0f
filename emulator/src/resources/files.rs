//! Files: multipart upload, metadata, content download, delete, and listing by `scope_id`
//! (the files a session wrote).

use super::super::reply::Request;
use super::super::reply::{bad, not_found, refused, Reply, Routed};
use super::super::shared::Shared;
use super::super::{acts, multipart};
use serde_json::json;

/// Answers `/v1/files/...` (`segs` is what follows `files`).
pub(crate) fn route(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => {
            let scope = r.query.get("scope_id");
            s.files
                .list(r.query, |m| scope.is_none_or(|id| m["scope"]["id"] == id))
        }
        ("POST", []) => {
            let file = multipart::parts(r.content_type, r.body)?
                .into_iter()
                .find(|p| p.name == "file")
                .ok_or_else(|| bad("file: Field required"))?;
            let filename = file
                .filename
                .as_deref()
                .and_then(|f| f.rsplit(['/', '\\']).next())
                .filter(|f| !f.is_empty())
                .unwrap_or("unnamed")
                .to_string();
            let id = s.id("file");
            let now = s.now();
            let meta = json!({"id": id, "type": "file", "filename": filename, "mime_type": file.content_type,
                "size_bytes": file.bytes.len(), "created_at": now, "downloadable": false});
            s.file_bytes.insert(id, file.bytes);
            Ok(Reply::Json(s.files.insert(meta)))
        }
        ("GET", [id]) => s.files.get(id).cloned().map(Reply::Json),
        ("GET", [id, "content"]) => {
            let meta = s.files.get(id)?;
            if meta["downloadable"] != true {
                return Ok(refused(
                    400,
                    "invalid_request_error",
                    format!("file {id} cannot be downloaded: only files the API created (a session's outputs) can be"),
                    "file_not_downloadable",
                ));
            }
            let ct = acts::mime(meta["filename"].as_str().unwrap_or(""));
            let bytes = s.file_bytes.get(*id).cloned().unwrap_or_default();
            Ok(Reply::Bytes(ct, bytes))
        }
        ("DELETE", [id]) => {
            s.file_bytes.remove(*id);
            s.files.delete(id)
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}
