//! The acts of a scripted turn that the session's agent (`agent`) and a delegated child
//! thread (`delegate`) both play: events on the session, its status going `running` and
//! `idle` (the primary thread's status first), the files it writes, the inputs it makes up for
//! a tool and the text it reads from an answer.

use super::shared::Shared;
use serde_json::{json, Value};

/// Adds an event to the session's log and wakes its readers; returns the event as logged.
pub(crate) fn push(shared: &Shared, session: &str, event: Value) -> Value {
    let ev = shared.lock().push_event(session, event);
    shared.changed.notify_all();
    ev
}

/// Sets the session `idle` with `stop_reason` (the primary thread's status first).
pub(crate) fn idle(shared: &Shared, session: &str, stop_reason: Value) {
    super::threads::primary_status(shared, session, "idle", Some(&stop_reason));
    shared.lock().set_status(session, "idle");
    push(
        shared,
        session,
        json!({"type": "session.status_idle", "stop_reason": stop_reason}),
    );
}

/// Sets the session `running` (the primary thread's status first).
pub(crate) fn running(shared: &Shared, session: &str) {
    super::threads::primary_status(shared, session, "running", None);
    shared.lock().set_status(session, "running");
    push(shared, session, json!({"type": "session.status_running"}));
}

/// Makes an input for a tool from its schema: each property a short string.
pub(crate) fn input_for(schema: &Value) -> Value {
    let mut input = serde_json::Map::new();
    if let Some(props) = schema["properties"].as_object() {
        for (k, p) in props {
            let v = match p["type"].as_str() {
                Some("integer") | Some("number") => json!(1),
                Some("boolean") => json!(true),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ => json!(format!("example {k}")),
            };
            input.insert(k.clone(), v);
        }
    }
    Value::Object(input)
}

/// Returns the text blocks of a content array, joined by new lines.
pub(crate) fn text_of(content: &Value) -> String {
    content
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Writes a file to the session's outputs.
pub(crate) fn write_file(shared: &Shared, session: &str, name: &str, content: Vec<u8>) {
    let mut store = shared.lock();
    let id = store.id("file");
    let now = store.now();
    let meta = json!({
        "id": id, "type": "file", "filename": name, "mime_type": mime(name),
        "size_bytes": content.len(), "created_at": now, "downloadable": true,
        "scope": {"type": "session", "id": session}
    });
    store.file_bytes.insert(id, content);
    store.files.insert(meta);
}

/// Returns the MIME type of a file name, by its extension.
pub(crate) fn mime(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("txt") | Some("log") => "text/plain",
        Some("md") => "text/markdown",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
