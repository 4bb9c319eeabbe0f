//! The model of the official SDK's error table (`x-error-classes`).

use super::text;
use serde_json::Value;

/// One entry of the SDK's error table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorClass {
    pub(crate) status: u16,
    pub(crate) code: Option<String>,
    pub(crate) class: String,
}

/// The table as the spec lists it.
pub(crate) fn error_table(spec: &Value) -> Vec<ErrorClass> {
    spec["x-error-classes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| ErrorClass {
            status: e["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .expect("x-error-classes: status"),
            code: text(&e["code"]),
            class: e["class"]
                .as_str()
                .expect("x-error-classes: class")
                .to_string(),
        })
        .collect()
}
