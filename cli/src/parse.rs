//! The pure parsing of the user's input: durations, definitions read strictly (a key given
//! twice, an unknown field, an unknown kind or a wrong type is an error naming the field and
//! its line, with the name meant when one is near), and task lines. It depends only on
//! crates, never on the rest of the tool, so the fuzz targets can include it.

use managed_agents::types::SessionCreateParamsResource;
use serde::de::{DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

/// Reads a duration as `90s`, `10m`, `1h 30m`, `500ms`: more than zero, at most a year.
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

/// Reads a definition's text as a JSON value: JSON when `is_json`, else YAML (which takes JSON too);
/// a key given twice in one map is an error (neither YAML nor JSON says which one wins). The
/// error has the line when it is known.
pub fn value(text: &str, is_json: bool) -> Result<Value, (Option<usize>, String)> {
    let twice = |msg: &str| {
        // the line of the second one, when the parser did not say
        let key = msg
            .split("duplicate key `")
            .nth(1)
            .and_then(|k| k.split('`').next())
            .unwrap_or_default();
        nth_line_of(text, key, 2)
    };
    if is_json {
        let mut de = serde_json::Deserializer::from_str(text);
        Unique::deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v.0))
            .map_err(|e| {
                let msg = e.to_string();
                if let Some(what) = duplicate(&msg) {
                    (twice(&what).or(Some(e.line())), what)
                } else {
                    (Some(e.line()), format!("not valid JSON: {e}"))
                }
            })
    } else {
        let de = serde_norway::Deserializer::from_str(text);
        Unique::deserialize(de).map(|v| v.0).map_err(|e| {
            let msg = e.to_string();
            if let Some(what) = duplicate(&msg) {
                let line = twice(&what).or(e.location().map(|l| l.line()));
                (line, what)
            } else {
                (
                    e.location().map(|l| l.line()),
                    format!("not valid YAML: {e}"),
                )
            }
        })
    }
}

/// Rewrites the message of a key given twice, with the path the parser put before it as a field.
fn duplicate(msg: &str) -> Option<String> {
    let at = msg.find("duplicate key `")?;
    let what = msg[at..].split(" at line").next().unwrap_or_default();
    let path = msg[..at].trim_end_matches([' ', ':']);
    Some(if path.is_empty() {
        what.to_string()
    } else {
        format!("field `{path}`: {what}")
    })
}

/// A JSON value read from any self-describing format, refusing a map with a key twice.
struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Unique::deserialize(d).map(|u| u.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde::de::Error;
        let mut m = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if m.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "duplicate key `{key}`: a key may be given once"
                )));
            }
            let Unique(v) = map.next_value()?;
            m.insert(key, v);
        }
        Ok(Value::Object(m))
    }
}

/// Finds the candidate closest to `word`, when one is close enough to be what was meant.
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
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            format!("not valid JSON: {inner}")
        } else if path == "." || path == "?" {
            inner.to_string()
        } else {
            format!("field `{path}`: {inner}")
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

/// Reads `value` as a `T`, refusing unknown fields, unknown kinds and wrong types; the error has the
/// line in `text` where the field is (when it can be found) and a message naming the field,
/// in words (never a Rust type's name), with the name meant when one is near.
pub fn strict<T: DeserializeOwned + Serialize + std::fmt::Debug>(
    value: Value,
    text: &str,
) -> Result<T, (Option<usize>, String)> {
    let typed: T = serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        let inner = plain_words(&e.inner().to_string());
        // a required field missing next to one spelled almost like it: that one was meant
        if let Some(missing) = inner
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            let here = if path == "." {
                &value
            } else {
                at(&value, &path)
            };
            if let Some(near) = here.as_object().and_then(|o| {
                o.keys()
                    .find(|k| did_you_mean(k, [missing]).is_some())
                    .cloned()
            }) {
                let field = if path == "." {
                    near.clone()
                } else {
                    format!("{path}.{near}")
                };
                return (
                    line_of(text, &near),
                    format!("unknown field `{field}`, did you mean `{missing}`?"),
                );
            }
        }
        let key = last_key(&path);
        let msg = if path == "." {
            inner
        } else {
            format!("field `{path}`: {inner}")
        };
        (key.and_then(|k| line_of(text, k)), msg)
    })?;
    let back = serde_json::to_value(&typed).map_err(|e| (None, e.to_string()))?;
    let mut path = String::new();
    if let Some(unknown) = unknown_field(&value, &back, &mut path) {
        let key = last_key(&unknown).unwrap_or_default();
        // a name one edit away that the type keeps is the field meant
        let meant = near_known(key, |name| {
            let mut probe = value.clone();
            rename(&mut probe, &unknown, name);
            serde_json::from_value::<T>(probe).ok().is_some_and(|t| {
                serde_json::to_value(&t)
                    .ok()
                    .is_some_and(|b| has_path(&b, &renamed_path(&unknown, name)))
            })
        });
        let hint = meant.map_or(String::new(), |m| format!(", did you mean `{m}`?"));
        return Err((
            line_of(text, key),
            format!("unknown field `{unknown}`{hint}"),
        ));
    }
    if let Some((path, tag, meant)) = unknown_kind(&value, &typed) {
        return Err((
            line_of_value(text, &tag),
            format!("field `{path}`: unknown type \"{tag}\", did you mean {meant}?"),
        ));
    }
    Ok(typed)
}

/// Puts a serde message in a user's words: `EnvironmentCreateParamsConfig of type "cloud": ...`
/// becomes `type "cloud": ...`, `struct AgentCreateParams` becomes `an object`.
fn plain_words(msg: &str) -> String {
    let is_type_name = |w: &str| {
        w.len() > 1
            && w.starts_with(|c: char| c.is_ascii_uppercase())
            && w.chars().all(|c| c.is_ascii_alphanumeric())
            && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
    };
    let words: Vec<&str> = msg.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied().unwrap_or_default();
        if is_type_name(w) && next == "of" {
            // the union's name goes; `of type "x"` stays as `type "x"`
            i += 2;
            continue;
        }
        let name = next.trim_end_matches([',', ':']);
        if (w == "struct" || w == "enum") && is_type_name(name) {
            let said = if w == "struct" {
                "an object"
            } else {
                "one of its values"
            };
            out.push(format!("{said}{}", &next[name.len()..]));
            i += 2;
            continue;
        }
        out.push(w.to_string());
        i += 1;
    }
    out.join(" ")
}

/// Returns the value at a serde_path_to_error path (`a.b[2].c`), or null.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut here = v;
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            here = here.get(key).unwrap_or(&Value::Null);
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse::<usize>() {
                here = here.get(i).unwrap_or(&Value::Null);
            }
        }
    }
    here
}

/// Lists the words one edit away from `word` (a letter changed, added, removed or two swapped),
/// of the letters names are made of.
fn one_edit(word: &str) -> Vec<String> {
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyz_0123456789";
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::new();
    for i in 0..=chars.len() {
        for c in LETTERS.chars() {
            let mut w = chars.clone();
            w.insert(i, c);
            out.push(w.into_iter().collect());
            if i < chars.len() && chars[i] != c {
                let mut w = chars.clone();
                w[i] = c;
                out.push(w.into_iter().collect());
            }
        }
        if i < chars.len() {
            let mut w = chars.clone();
            w.remove(i);
            out.push(w.into_iter().collect());
        }
        if i + 1 < chars.len() {
            let mut w = chars.clone();
            w.swap(i, i + 1);
            out.push(w.into_iter().collect());
        }
    }
    out.retain(|w: &String| !w.is_empty() && w != word);
    out
}

/// Finds the name one edit away from `word` that `known` takes, if any.
fn near_known(word: &str, known: impl Fn(&str) -> bool) -> Option<String> {
    if word.is_empty() || word.len() > 64 {
        return None;
    }
    one_edit(word).into_iter().find(|w| known(w))
}

/// Renames the last key of `path` (as [`unknown_field`] writes it) to `name`.
fn rename(v: &mut Value, path: &str, name: &str) {
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (Some(p), k),
        None => (None, path),
    };
    let target = match parent {
        Some(p) => pointer_mut(v, p),
        None => Some(v),
    };
    if let Some(Value::Object(m)) = target {
        if let Some(x) = m.remove(key) {
            m.insert(name.to_string(), x);
        }
    }
}

fn pointer_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut here = v;
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            here = here.get_mut(key)?;
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse::<usize>() {
                here = here.get_mut(i)?;
            }
        }
    }
    Some(here)
}

fn renamed_path(path: &str, name: &str) -> String {
    match path.rsplit_once('.') {
        Some((p, _)) => format!("{p}.{name}"),
        None => name.to_string(),
    }
}

fn has_path(v: &Value, path: &str) -> bool {
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (at(v, p), k),
        None => (v, path),
    };
    parent.get(key).is_some()
}

/// Finds a `type` this version does not know, one edit away from one it knows (a typo, surely):
/// its path, the tag, and the tag meant. A kind the crate does not know but the API may is
/// left alone when nothing known is near.
fn unknown_kind<T: DeserializeOwned + std::fmt::Debug>(
    value: &Value,
    typed: &T,
) -> Option<(String, String, String)> {
    let seen = format!("{typed:?}");
    // nothing was read as a kind unknown to this version: nothing to look for
    if !seen.contains("Unknown(") {
        return None;
    }
    let mut tagged = Vec::new();
    tagged_objects(value, &mut String::new(), &mut tagged);
    for (path, tag) in tagged {
        let as_read = |v: &Value| serde_json::from_value::<T>(v.clone()).map(|t| format!("{t:?}"));
        let with = |t: &str| {
            let mut probe = value.clone();
            if let Some(Value::Object(m)) = pointer_mut(&mut probe, &path) {
                m.insert("type".into(), Value::String(t.to_string()));
            }
            probe
        };
        // the tag is unknown when any other unknown tag reads the same way
        let sentinel = "zz-not-a-kind";
        let unknown = as_read(&with(sentinel)).is_ok_and(|d| {
            d == seen.replace(
                &format!("String(\"{tag}\")"),
                &format!("String(\"{sentinel}\")"),
            )
        });
        if !unknown {
            continue;
        }
        let meant = near_known(&tag, |t| match as_read(&with(t)) {
            // a known kind whose fields do not fit is still a known kind
            Err(_) => true,
            Ok(d) => d != seen.replace(&format!("String(\"{tag}\")"), &format!("String(\"{t}\")")),
        });
        if let Some(meant) = meant {
            let field = if path.is_empty() {
                "type".to_string()
            } else {
                format!("{path}.type")
            };
            return Some((field, tag, meant));
        }
    }
    None
}

/// Collects every object in `v` with a string `type`: its path and its tag.
fn tagged_objects(v: &Value, path: &mut String, found: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let Some(t) = m.get("type").and_then(Value::as_str) {
                found.push((path.clone(), t.to_string()));
            }
            for (k, x) in m {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                tagged_objects(x, path, found);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                tagged_objects(x, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Finds the line (from 1) where `text` first has `word` as a value.
fn line_of_value(text: &str, word: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .any(|w| w == word)
        })
        .map(|i| i + 1)
}

/// Finds the first field of `input` that did not survive being read: a field the type does not know.
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

/// Returns `b` of `a.b[2]`, `a[0].b` or `b`.
fn last_key(path: &str) -> Option<&str> {
    let last = path.rsplit('.').next()?;
    let key = last.split('[').next()?;
    (!key.is_empty()).then_some(key)
}

/// Finds the line (from 1) where `key` first appears as a key, in YAML or JSON.
fn line_of(text: &str, key: &str) -> Option<usize> {
    nth_line_of(text, key, 1)
}

/// Finds the line (from 1) where `key` appears as a key for the `n`th time, in YAML or JSON.
fn nth_line_of(text: &str, key: &str, n: usize) -> Option<usize> {
    let quoted = format!("\"{key}\"");
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(&format!("{key}:"))
                || l.contains(&quoted)
                || l.contains(&format!("{{{key}:"))
                || l.contains(&format!(" {key}:"))
        })
        .nth(n.checked_sub(1)?)
        .map(|(i, _)| i + 1)
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

    #[test]
    fn messages_speak_of_fields_and_kinds_not_types() {
        assert_eq!(
            plain_words("EnvironmentCreateParamsConfig of type \"cloud\": missing field `x`"),
            "type \"cloud\": missing field `x`"
        );
        assert_eq!(
            plain_words("invalid type: integer `7`, expected struct AgentCreateParams"),
            "invalid type: integer `7`, expected an object"
        );
        assert_eq!(plain_words("Hello of course"), "Hello of course");
        assert!(one_edit("modle").contains(&"model".to_string()));
        assert!(one_edit("clowd").contains(&"cloud".to_string()));
        assert_eq!(
            did_you_mean("run_test", ["run_tests", "shout"]),
            Some("run_tests")
        );
        assert_eq!(did_you_mean("zzz", ["run_tests"]), None);
    }

    #[test]
    fn a_key_twice_is_refused_with_its_second_line() {
        let (line, msg) = value("a: 1\nb:\n  c: 1\n  c: 2\n", false).unwrap_err();
        assert_eq!(line, Some(4));
        assert!(msg.contains("duplicate key `c`"), "{msg}");
        let (line, msg) = value("{\"a\": 1,\n\"a\": 2}", true).unwrap_err();
        assert_eq!(line, Some(2));
        assert!(msg.starts_with("duplicate key `a`"), "{msg}");
        assert!(value("{\"a\": {\"a\": 1}}", true).is_ok());
    }
}
