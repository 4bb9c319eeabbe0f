//! What never reaches a cassette: secret headers and JSON keys, the user's pointers and
//! header names, and every secret value seen so far, wherever it shows up in a line.

use super::{Recorder, REDACTED};
use serde_json::{json, Value};

/// Headers whose values never reach a cassette.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// JSON keys (at any depth, in any body or event) whose values never reach a cassette.
const SECRET_KEYS: &[&str] = &[
    "api_key",
    "authorization_token",
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret",
    "secret_value",
    "sessions_token",
    "signing_secret",
    "webhook_secret",
    "password",
];

/// JSON keys that are secrets only in the bodies of a vault's credentials (an environment
/// variable credential's `value`).
const VAULT_SECRET_KEYS: &[&str] = &["value"];

/// Secret values shorter than this are not searched for in the text of a line (they would
/// match ordinary words); they are still taken out where they stand.
const MIN_SCRUBBED_LEN: usize = 8;

impl Recorder {
    /// Remembers a secret value, to be replaced wherever it shows up in a line.
    pub(crate) fn learn(&self, secret: &str) {
        if secret.len() < MIN_SCRUBBED_LEN || secret == REDACTED {
            return;
        }
        // kept as it stands in JSON text (quotes and backslashes escaped), as lines are searched
        let escaped = Value::String(secret.to_string()).to_string();
        let escaped = escaped[1..escaped.len() - 1].to_string();
        let mut known = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        if !known.contains(&escaped) {
            known.push(escaped);
        }
    }

    pub(super) fn header_value<'a>(&self, name: &str, value: &'a str) -> &'a str {
        let secret = SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s))
            || self.headers.iter().any(|s| name.eq_ignore_ascii_case(s));
        if secret {
            self.learn(value);
            if let Some(token) = value.strip_prefix("Bearer ") {
                self.learn(token);
            }
            REDACTED
        } else {
            value
        }
    }

    /// Takes the secrets out of a JSON value: the values of [`SECRET_KEYS`] at any depth
    /// (and of [`VAULT_SECRET_KEYS`] in a vault credential's bodies), then the user's pointers.
    pub(super) fn redact_json(&self, v: &mut Value, vault: bool) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    let secret = SECRET_KEYS.contains(&k.as_str())
                        || (vault && VAULT_SECRET_KEYS.contains(&k.as_str()));
                    if secret && !val.is_null() && !val.is_boolean() {
                        self.take(val);
                    } else {
                        self.redact_json(val, vault);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i, vault)),
            _ => {}
        }
        for p in &self.pointers {
            if let Some(val) = v.pointer_mut(p) {
                self.take(val);
            }
        }
    }

    /// Replaces a value with [`REDACTED`], remembering the strings it held.
    fn take(&self, val: &mut Value) {
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        strings(val, &mut found);
        for s in found {
            self.learn(&s);
        }
        *val = json!(REDACTED);
    }

    /// One line as it is written: every known secret replaced, the newline added.
    pub(super) fn scrubbed(&self, mut text: String) -> String {
        let known = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        for escaped in known.iter() {
            if text.contains(escaped.as_str()) {
                text = text.replace(escaped.as_str(), REDACTED);
            }
        }
        text.push('\n');
        text
    }

    /// Replaces every known secret in `text[from..]` (one line, or several) and ends it with
    /// a newline: [`scrubbed`](Self::scrubbed) in place, on bytes.
    pub(super) fn scrub_from(&self, text: &mut Vec<u8>, from: usize) {
        let known = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        for escaped in known.iter() {
            let finder = memchr::memmem::Finder::new(escaped.as_bytes());
            if finder.find(&text[from..]).is_none() {
                continue;
            }
            let mut replaced = Vec::with_capacity(text.len() - from);
            let mut rest = &text[from..];
            while let Some(i) = finder.find(rest) {
                replaced.extend_from_slice(&rest[..i]);
                replaced.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[i + escaped.len()..];
            }
            replaced.extend_from_slice(rest);
            text.truncate(from);
            text.extend_from_slice(&replaced);
        }
        text.push(b'\n');
    }

    /// Whether an event's data can be written as it came: one line of valid JSON, with no
    /// user pointer to apply, no `\u` escape (that could spell a key), and no key that could
    /// be a secret (every key of [`SECRET_KEYS`] ends in one of these).
    pub(super) fn needs_no_redaction(&self, data: &str, vault: bool) -> bool {
        use memchr::memmem::Finder;
        use std::sync::LazyLock;
        // built once: a finder's set-up costs about as much as a search of a short line
        static KEY_ENDS: LazyLock<[Finder<'static>; 6]> = LazyLock::new(|| {
            [
                Finder::new(b"\\u"),
                Finder::new(b"token\""),
                Finder::new(b"secret\""),
                Finder::new(b"secret_value\""),
                Finder::new(b"api_key\""),
                Finder::new(b"password\""),
            ]
        });
        let bytes = data.as_bytes();
        self.pointers.is_empty()
            && !vault
            && memchr::memchr2(b'\n', b'\r', bytes).is_none()
            && KEY_ENDS.iter().all(|k| k.find(bytes).is_none())
            && serde_json::from_str::<serde::de::IgnoredAny>(data).is_ok()
    }
}
