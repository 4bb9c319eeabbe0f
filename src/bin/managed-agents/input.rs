//! Reading the user's files strictly: definitions in YAML or JSON (by the file's extension;
//! `-` is stdin, read as YAML, which takes JSON too), where an unknown field or a wrong type is
//! an error naming the file, the line and the field, never a silent default.

use crate::{exit, Failure};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::io::Read;

/// A file's text and the name to give in errors.
pub struct Source {
    /// The path as given, or `<stdin>`.
    pub name: String,
    /// Its contents.
    pub text: String,
}

/// Reads a file, or stdin for `-`; a missing file is a usage error naming it.
pub fn read(path: &str) -> Result<Source, Failure> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure(exit::USAGE, format!("<stdin>: {e}")))?;
        return Ok(Source {
            name: "<stdin>".into(),
            text,
        });
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure(exit::USAGE, format!("{path}: {e}")))?;
    Ok(Source {
        name: path.to_string(),
        text,
    })
}

/// Reads a definition file into a request type, strictly.
pub fn definition<T: DeserializeOwned + Serialize>(path: &str) -> Result<T, Failure> {
    let src = read(path)?;
    let is_json = path.ends_with(".json");
    let value: Value = if is_json {
        serde_json::from_str(&src.text).map_err(|e| {
            Failure(
                exit::USAGE,
                format!("{}:{}: not valid JSON: {e}", src.name, e.line()),
            )
        })?
    } else {
        serde_norway::from_str(&src.text).map_err(|e| {
            let line = e
                .location()
                .map_or(String::new(), |l| format!("{}:", l.line()));
            Failure(
                exit::USAGE,
                format!("{}:{line} not valid YAML: {e}", src.name),
            )
        })?
    };
    strict(value, &src.text).map_err(|(line, msg)| {
        let at = line.map_or(String::new(), |l| format!("{l}:"));
        Failure(exit::USAGE, format!("{}:{at} {msg}", src.name))
    })
}

/// `value` as a `T`, refusing unknown fields and wrong types; the error has the line in `text`
/// where the field is (when it can be found) and a message naming the field.
pub fn strict<T: DeserializeOwned + Serialize>(
    value: Value,
    text: &str,
) -> Result<T, (Option<usize>, String)> {
    let typed: T = serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        let key = last_key(&path);
        let msg = if path == "." {
            e.inner().to_string()
        } else {
            format!("field `{path}`: {}", e.inner())
        };
        (key.and_then(|k| line_of(text, k)), msg)
    })?;
    let back = serde_json::to_value(&typed).map_err(|e| (None, e.to_string()))?;
    let mut path = String::new();
    if let Some(unknown) = unknown_field(&value, &back, &mut path) {
        let key = last_key(&unknown);
        return Err((
            key.and_then(|k| line_of(text, k)),
            format!("unknown field `{unknown}`"),
        ));
    }
    Ok(typed)
}

/// The first field of `input` that did not survive being read: a field the type does not know.
fn unknown_field(input: &Value, read: &Value, path: &mut String) -> Option<String> {
    match (input, read) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let found = match b.get(k) {
                    None if v.is_null() => None,
                    None => Some(path.clone()),
                    Some(w) => unknown_field(v, w, path),
                };
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = unknown_field(v, w, path);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        _ => None,
    }
}

/// `b` of `a.b[2]`, `a[0].b` or `b`.
fn last_key(path: &str) -> Option<&str> {
    let last = path.rsplit('.').next()?;
    let key = last.split('[').next()?;
    (!key.is_empty()).then_some(key)
}

/// The line (from 1) where `key` first appears as a key, in YAML or JSON.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let quoted = format!("\"{key}\"");
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(&format!("{key}:"))
                || l.contains(&quoted)
                || l.contains(&format!("{{{key}:"))
                || l.contains(&format!(" {key}:"))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_found_with_their_path_and_line() {
        let input = json!({"name": "x", "confg": {"networking": "limited"}});
        let back = json!({"name": "x"});
        assert_eq!(
            unknown_field(&input, &back, &mut String::new()),
            Some("confg".into())
        );
        let input = json!({"tools": [{"type": "t", "nmae": 1}]});
        let back = json!({"tools": [{"type": "t"}]});
        assert_eq!(
            unknown_field(&input, &back, &mut String::new()),
            Some("tools[0].nmae".into())
        );
        assert_eq!(
            unknown_field(&json!({"a": null}), &json!({}), &mut String::new()),
            None
        );
        assert_eq!(last_key("tools[0].nmae"), Some("nmae"));
        assert_eq!(line_of("name: x\nconfg:\n  a: 1\n", "confg"), Some(2));
        assert_eq!(line_of("{name: x, confg: 1}", "confg"), Some(1));
    }
}
