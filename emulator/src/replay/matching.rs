//! How a request is matched to a recorded one: its method, its path (the same, or the same
//! with other ids), its query and its JSON body, with the values a new run may change (ids,
//! UUIDs and timestamps in bodies; the secrets a cassette holds as `[REDACTED]`) compared as
//! placeholders; and, when nothing matches, how far the closest recorded request is.

use super::cassette::Exchange;
use serde_json::Value;

/// What a cassette holds in place of a secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// A request as the replay compares it.
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The query pairs, decoded.
    pub(crate) query: Vec<(String, String)>,
    /// The body: JSON as JSON, `null` for none, `{"multipart": ..}` for a form.
    pub(crate) body: Value,
}

/// How well a recorded exchange fits a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Fit {
    /// The same path, query and body (placeholders aside).
    Exact,
    /// The same once the ids in the path are placeholders too.
    OtherIds,
}

/// Returns how a recorded exchange fits a request, if it does.
pub(crate) fn fits(x: &Exchange, req: &Incoming) -> Option<Fit> {
    if x.method != req.method
        || !same_query(&x.query, &req.query)
        || !same_body(&x.request_body, &req.body)
    {
        return None;
    }
    if text_fits(&x.path, &req.path) {
        Some(Fit::Exact)
    } else if same_shape(&x.path, &req.path) {
        Some(Fit::OtherIds)
    } else {
        None
    }
}

/// Whether a recorded string fits a sent one: equal, or equal around the `[REDACTED]` parts
/// the recording took out.
fn text_fits(recorded: &str, sent: &str) -> bool {
    if !recorded.contains(REDACTED) {
        return recorded == sent;
    }
    let parts: Vec<&str> = recorded.split(REDACTED).collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if !sent.starts_with(first) || sent.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &sent[first.len()..];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether two paths are the same once their ids are placeholders.
fn same_shape(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || placeholder(x).is_some_and(|p| Some(p) == placeholder(y)))
}

fn same_query(recorded: &[(String, String)], sent: &[(String, String)]) -> bool {
    if recorded.len() != sent.len() {
        return false;
    }
    let mut r: Vec<&(String, String)> = recorded.iter().collect();
    let mut s: Vec<&(String, String)> = sent.iter().collect();
    r.sort();
    s.sort();
    r.iter()
        .zip(&s)
        .all(|(a, b)| a.0 == b.0 && (text_fits(&a.1, &b.1) || same_id(&a.1, &b.1)))
}

fn same_id(a: &str, b: &str) -> bool {
    placeholder(a).is_some_and(|p| Some(p) == placeholder(b))
}

/// Whether a sent body is the recorded one, placeholders aside.
pub(crate) fn same_body(recorded: &Value, sent: &Value) -> bool {
    let mut out = Vec::new();
    differences(recorded, sent, String::new(), &mut out, 1);
    out.is_empty()
}

/// The placeholder of a value a new run may change: an id (its prefix: `sesn_011...` is
/// `<sesn id>`), a UUID, or a timestamp.
fn placeholder(s: &str) -> Option<String> {
    if is_uuid(s) {
        return Some("<uuid>".into());
    }
    if is_timestamp(s) {
        return Some("<time>".into());
    }
    let (prefix, tail) = s.rsplit_once('_')?;
    let id_like = !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        && tail.len() >= 8
        && tail.bytes().all(|b| b.is_ascii_alphanumeric())
        && tail.bytes().any(|b| b.is_ascii_digit());
    id_like.then(|| format!("<{prefix} id>"))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An RFC 3339 time: `2026-12-06T09:29:21.262Z`, `2026-12-06T09:29:21+01:00`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

/// Collects where a sent value differs from the recorded one (JSON pointers, with both
/// values), at most `limit` of them.
pub(crate) fn differences(
    recorded: &Value,
    sent: &Value,
    at: String,
    out: &mut Vec<String>,
    limit: usize,
) {
    if out.len() >= limit {
        return;
    }
    match (recorded, sent) {
        (Value::String(r), Value::String(s)) => {
            if !(text_fits(r, s) || same_id(r, s)) {
                out.push(format!("{}: recorded {recorded}, sent {sent}", slash(&at)));
            }
        }
        // a secret taken out of the recording fits whatever was sent
        (Value::String(r), _) if r == REDACTED => {}
        (Value::Object(r), _) if r.contains_key("multipart") && r.len() == 1 => {
            if sent.get("multipart").is_none() {
                out.push(format!("{}: recorded a form, sent {sent}", slash(&at)));
            }
        }
        (Value::Object(r), Value::Object(s)) => {
            for (k, rv) in r {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match s.get(k) {
                    Some(sv) => differences(rv, sv, here, out, limit),
                    None => out.push(format!("{here}: recorded {rv}, sent nothing")),
                }
                if out.len() >= limit {
                    return;
                }
            }
            for (k, sv) in s {
                if !r.contains_key(k) && out.len() < limit {
                    out.push(format!("{at}/{k}: recorded nothing, sent {sv}"));
                }
            }
        }
        (Value::Array(r), Value::Array(s)) => {
            for (i, (rv, sv)) in r.iter().zip(s).enumerate() {
                differences(rv, sv, format!("{at}/{i}"), out, limit);
            }
            if r.len() != s.len() && out.len() < limit {
                out.push(format!(
                    "{}: recorded {} items, sent {}",
                    slash(&at),
                    r.len(),
                    s.len()
                ));
            }
        }
        (Value::Number(r), Value::Number(s)) => {
            if r != s && r.as_f64() != s.as_f64() {
                out.push(format!("{}: recorded {recorded}, sent {sent}", slash(&at)));
            }
        }
        _ => {
            if recorded != sent {
                out.push(format!("{}: recorded {recorded}, sent {sent}", slash(&at)));
            }
        }
    }
}

fn slash(at: &str) -> &str {
    if at.is_empty() {
        "the body"
    } else {
        at
    }
}

/// Describes how far a recorded exchange is from a request, and scores it (lower is closer).
pub(crate) fn distance(x: &Exchange, req: &Incoming) -> (usize, Vec<String>) {
    let mut notes = Vec::new();
    let mut score = 0;
    if x.method != req.method {
        score += 100;
        notes.push(format!(
            "method: recorded {}, sent {}",
            x.method, req.method
        ));
    }
    if !text_fits(&x.path, &req.path) {
        if same_shape(&x.path, &req.path) {
            score += 1;
        } else {
            let template_fits = x
                .path_template
                .as_deref()
                .is_some_and(|t| in_template(t, &req.path));
            score += if template_fits { 5 } else { 50 };
            notes.push(format!("path: recorded {}, sent {}", x.path, req.path));
        }
    }
    if !same_query(&x.query, &req.query) {
        score += 10;
        notes.push(format!(
            "query: recorded {}, sent {}",
            query_text(&x.query),
            query_text(&req.query)
        ));
    }
    let mut diffs = Vec::new();
    differences(&x.request_body, &req.body, String::new(), &mut diffs, 3);
    score += 10 * diffs.len();
    notes.extend(diffs);
    (score, notes)
}

fn query_text(q: &[(String, String)]) -> String {
    if q.is_empty() {
        return "none".into();
    }
    q.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether a concrete path fits a path template (`/v1/sessions/{session_id}`).
fn in_template(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_uuids_times_and_secrets_are_placeholders() {
        assert_eq!(
            placeholder("sesn_011CZxAbc123").as_deref(),
            Some("<sesn id>")
        );
        assert_eq!(
            placeholder("sesn_011EMU1111111112").as_deref(),
            Some("<sesn id>")
        );
        assert_eq!(placeholder("user_message"), None);
        assert_eq!(placeholder("claude-opus-4-5"), None);
        assert_eq!(
            placeholder("123e4567-e89b-12d3-a456-426614174000").as_deref(),
            Some("<uuid>")
        );
        assert_eq!(
            placeholder("2026-12-06T09:29:21.262Z").as_deref(),
            Some("<time>")
        );
        assert_eq!(placeholder("2026-12-06"), None);
        let rec = json!({"events": [{"type": "user.custom_tool_result",
            "custom_tool_use_id": "sevt_011AAAAAAAA1", "at": "2026-12-06T09:29:21.262Z",
            "token": "[REDACTED]"}]});
        let sent = json!({"events": [{"type": "user.custom_tool_result",
            "custom_tool_use_id": "sevt_011BBBBBBBB2", "at": "2027-01-01T00:00:00Z",
            "token": {"secret": 1}}]});
        assert!(same_body(&rec, &sent));
        let other = json!({"events": [{"type": "user.message",
            "custom_tool_use_id": "sevt_011BBBBBBBB2", "at": "2027-01-01T00:00:00Z",
            "token": "x"}]});
        let mut d = Vec::new();
        differences(&rec, &other, String::new(), &mut d, 3);
        assert_eq!(
            d,
            ["/events/0/type: recorded \"user.custom_tool_result\", sent \"user.message\""]
        );
        assert!(text_fits("/v1/x/[REDACTED]/y", "/v1/x/secret/y"));
        assert!(!text_fits("/v1/x/[REDACTED]/y", "/v1/z/secret/y"));
        assert!(same_shape(
            "/v1/sessions/sesn_011AAAAAAAA1",
            "/v1/sessions/sesn_011BBBBBBBB2"
        ));
        assert!(!same_shape(
            "/v1/sessions/sesn_011AAAAAAAA1",
            "/v1/agents/agent_011BBBBBBBB2"
        ));
    }
}
