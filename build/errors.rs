//! The error table: what the official SDK raises for each (status, `error.details.error_code`),
//! taken from `x-error-classes`. It gives `ErrorCode` (an open enum, generated with the other
//! schemas) the status and the SDK class each code belongs to.

use crate::names::lit;
use serde_json::Value;
use std::fmt::Write as _;

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
            code: e["code"].as_str().map(String::from),
            class: e["class"]
                .as_str()
                .expect("x-error-classes: class")
                .to_string(),
        })
        .collect()
}

/// `impl ErrorCode { status, sdk_class }` and the status-only classes, as Rust source.
pub(crate) fn error_code_impl(table: &[ErrorClass]) -> String {
    let mut out = String::new();
    out.push_str("impl ErrorCode {\n");
    out.push_str("    /// The HTTP status the API answers with this code, as the official SDK's error table\n");
    out.push_str("    /// lists it; `None` for a code this version does not know.\n");
    out.push_str("    pub fn status(&self) -> Option<u16> {\n        match self.as_str() {\n");
    for e in table {
        if let Some(code) = &e.code {
            let _ = writeln!(out, "            {} => Some({}),", lit(code), e.status);
        }
    }
    out.push_str("            _ => None,\n        }\n    }\n\n");
    out.push_str("    /// The name of the exception class the official SDKs raise for this code\n");
    out.push_str(
        "    /// (`ThreadNotFoundError`, ...); `None` for a code this version does not know.\n",
    );
    out.push_str(
        "    pub fn sdk_class(&self) -> Option<&'static str> {\n        match self.as_str() {\n",
    );
    for e in table {
        if let Some(code) = &e.code {
            let _ = writeln!(out, "            {} => Some({}),", lit(code), lit(&e.class));
        }
    }
    out.push_str("            _ => None,\n        }\n    }\n}\n\n");
    out.push_str("/// The exception class the official SDKs raise for a status when the error's code is not\n");
    out.push_str("/// one they list (`NotFoundError` for 404, ...).\n");
    out.push_str("pub(crate) fn sdk_class_of_status(status: u16) -> Option<&'static str> {\n    match status {\n");
    for e in table.iter().filter(|e| e.code.is_none()) {
        let _ = writeln!(out, "        {} => Some({}),", e.status, lit(&e.class));
    }
    out.push_str("        _ => None,\n    }\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_table_gives_each_code_its_status_and_class() {
        let spec = json!({"x-error-classes": [
            {"status": 404, "code": null, "class": "NotFoundError"},
            {"status": 404, "code": "thread_not_found", "class": "ThreadNotFoundError"}
        ]});
        let table = error_table(&spec);
        assert_eq!(table.len(), 2);
        let code = error_code_impl(&table);
        assert!(
            code.contains("\"thread_not_found\" => Some(404),"),
            "{code}"
        );
        assert!(
            code.contains("\"thread_not_found\" => Some(\"ThreadNotFoundError\"),"),
            "{code}"
        );
        assert!(code.contains("404 => Some(\"NotFoundError\"),"), "{code}");
        assert!(!code.contains("null"), "{code}");
    }
}
