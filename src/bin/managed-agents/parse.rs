//! The pure parsing of the user's input: durations, definitions read strictly (an unknown
//! field or a wrong type is an error naming the field and its line), and task lines. It
//! depends only on crates, never on the rest of the tool, so the fuzz targets can include it.

use managed_agents::types::SessionCreateParamsResource;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// A duration as `90s`, `10m`, `1h 30m`, `500ms`: more than zero, at most a year.
pub fn duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (try 30s, 10m, 1h)"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    // beyond a year is surely a mistake, and would overflow the clock
    if d > Duration::from_secs(366 * 24 * 3600) {
        return Err("more than a year".into());
    }
    Ok(d)
}

/// A definition's text as a JSON value: JSON when `is_json`, else YAML (which takes JSON too);
/// the error has the line when it is known.
pub fn value(text: &str, is_json: bool) -> Result<Value, (Option<usize>, String)> {
    if is_json {
        serde_json::from_str(text).map_err(|e| (Some(e.line()), format!("not valid JSON: {e}")))
    } else {
        serde_norway::from_str(text).map_err(|e| {
            (
                e.location().map(|l| l.line()),
                format!("not valid YAML: {e}"),
            )
        })
    }
}

/// The candidate closest to `word`, when one is close enough to be what was meant.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// One line of the tasks file, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskLine {
    id: String,
    message: String,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    vault_ids: Vec<String>,
    #[serde(default)]
    resources: Vec<Value>,
}

/// A task line that was read and checked; the agent and environment may still come from flags.
pub struct ParsedTask {
    pub id: String,
    pub message: String,
    pub agent: Option<String>,
    pub environment: Option<String>,
    pub title: Option<String>,
    pub vault_ids: Vec<String>,
    pub resources: Vec<SessionCreateParamsResource>,
}

/// Reads one task line (a JSON object); the error names the field.
pub fn parse_task_line(line: &str) -> Result<ParsedTask, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    let t: TaskLine = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("field `{path}`: {}", e.inner())
        }
    })?;
    if t.id.trim().is_empty() {
        return Err("field `id`: empty".into());
    }
    if t.message.trim().is_empty() {
        return Err("field `message`: the message is empty".into());
    }
    let mut resources = Vec::new();
    for (i, r) in t.resources.into_iter().enumerate() {
        let r: SessionCreateParamsResource =
            strict(r, "").map_err(|(_, m)| format!("field `resources[{i}]`: {m}"))?;
        resources.push(r);
    }
    Ok(ParsedTask {
        id: t.id,
        message: t.message,
        agent: t.agent,
        environment: t.environment,
        title: t.title,
        vault_ids: t.vault_ids,
        resources,
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
