//! The error table: what the official SDK raises for each (status, `error.details.error_code`),
//! taken from `x-error-classes`. It gives `ErrorCode` (an open enum, generated with the other
//! schemas) the status and the SDK class each code belongs to.

use super::model::ErrorClass;
use super::names::lit;
use super::template::fill;

const ERROR_CODE_IMPL: &str = r#"impl ErrorCode {
    /// The HTTP status the API answers with this code, as the official SDK's error table
    /// lists it; `None` for a code this version does not know.
    pub fn status(&self) -> Option<u16> {
        match self.as_str() {
{statuses}            _ => None,
        }
    }

    /// The name of the exception class the official SDKs raise for this code
    /// (`ThreadNotFoundError`, ...); `None` for a code this version does not know.
    pub fn sdk_class(&self) -> Option<&'static str> {
        match self.as_str() {
{classes}            _ => None,
        }
    }
}

/// The exception class the official SDKs raise for a status when the error's code is not
/// one they list (`NotFoundError` for 404, ...).
pub(crate) fn sdk_class_of_status(status: u16) -> Option<&'static str> {
    match status {
{status_classes}        _ => None,
    }
}
"#;

/// `impl ErrorCode { status, sdk_class }` and the status-only classes, as Rust source.
pub(crate) fn error_code_impl(table: &[ErrorClass]) -> String {
    let mut statuses = String::new();
    let mut classes = String::new();
    let mut status_classes = String::new();
    for e in table {
        let class = lit(&e.class);
        match &e.code {
            Some(code) => {
                let code = lit(code);
                statuses.push_str(&format!("            {code} => Some({}),\n", e.status));
                classes.push_str(&format!("            {code} => Some({class}),\n"));
            }
            None => status_classes.push_str(&format!("        {} => Some({class}),\n", e.status)),
        }
    }
    fill(
        ERROR_CODE_IMPL,
        &[
            ("statuses", &statuses),
            ("classes", &classes),
            ("status_classes", &status_classes),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::super::model::error_table;
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
