//! The generic keeper of the objects every resource has: ids, create, retrieve, update with a
//! metadata patch, list (newest first, with pagination and the archived filter), archive and
//! delete, written once for all of them; and the clock that stamps ids and times.

use super::reply::ApiError;
use super::reply::{json_body, not_found, page, Query, Reply, Routed};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// One kind of object, kept as the JSON the API returns, by id.
pub(crate) struct Table {
    /// The object's name in errors (`environment`, `memory store`).
    kind: &'static str,
    /// The `type` of the answer to a delete (`environment_deleted`).
    deleted: &'static str,
    /// The fields an update may change.
    fields: &'static [&'static str],
    objects: BTreeMap<String, Value>,
}

impl Table {
    /// Returns an empty table of `kind` objects (`deleted`: the `type` a delete answers;
    /// `fields`: the fields an update may set).
    pub(crate) fn new(
        kind: &'static str,
        deleted: &'static str,
        fields: &'static [&'static str],
    ) -> Table {
        Table {
            kind,
            deleted,
            fields,
            objects: BTreeMap::new(),
        }
    }

    /// Keeps a new object (by its `id`) and returns it.
    pub(crate) fn insert(&mut self, object: Value) -> Value {
        let id = object["id"].as_str().unwrap_or_default().to_string();
        self.objects.insert(id, object.clone());
        object
    }

    /// Returns the object, or the API's 404.
    pub(crate) fn get(&self, id: &str) -> Result<&Value, ApiError> {
        self.objects.get(id).ok_or_else(|| not_found(self.kind, id))
    }

    /// Returns the object to change, or the API's 404.
    pub(crate) fn get_mut(&mut self, id: &str) -> Result<&mut Value, ApiError> {
        self.objects
            .get_mut(id)
            .ok_or_else(|| not_found(self.kind, id))
    }

    /// Returns every object, oldest first.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Value> {
        self.objects.values()
    }

    /// Removes the object; the API's 404 when there is none.
    pub(crate) fn remove(&mut self, id: &str) -> Result<Value, ApiError> {
        self.objects
            .remove(id)
            .ok_or_else(|| not_found(self.kind, id))
    }

    /// Keeps only the objects `keep` says yes to.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Value) -> bool) {
        self.objects.retain(|_, o| keep(o));
    }

    /// Answers one page of the objects `keep` says yes to, newest first, leaving out archived ones
    /// unless `include_archived=true`.
    pub(crate) fn list(&self, query: &Query, keep: impl Fn(&Value) -> bool) -> Routed {
        let include_archived = query.get("include_archived") == Some("true");
        let newest_first: Vec<&Value> = self
            .objects
            .values()
            .rev()
            .filter(|o| include_archived || o.get("archived_at").is_none_or(Value::is_null))
            .filter(|o| keep(o))
            .collect();
        page(newest_first, query)
    }

    /// Applies an update body to the object (see [`update`]).
    pub(crate) fn update(
        &mut self,
        id: &str,
        body: &Value,
        now: String,
    ) -> Result<Value, ApiError> {
        let fields = self.fields;
        check_text(body)?;
        let o = self.get_mut(id)?;
        update(o, body, fields, now);
        Ok(o.clone())
    }

    /// Sets `archived_at`.
    pub(crate) fn archive(&mut self, id: &str, now: String) -> Result<Value, ApiError> {
        let o = self.get_mut(id)?;
        o["archived_at"] = json!(now);
        Ok(o.clone())
    }

    /// Removes the object; answers `{id, type: "..._deleted"}`.
    pub(crate) fn delete(&mut self, id: &str) -> Routed {
        self.remove(id)?;
        Ok(Reply::Json(json!({"id": id, "type": self.deleted})))
    }

    /// Answers the routes of one object: `GET`, `POST` (an update), `POST archive`, `DELETE`;
    /// `None` when the request is none of these (a sub-resource).
    pub(crate) fn object_routes(
        &mut self,
        id: &str,
        method: &str,
        rest: &[&str],
        body: &[u8],
        now: String,
    ) -> Option<Routed> {
        let result = match (method, rest) {
            ("GET", []) => self.get(id).cloned().map(Reply::Json),
            ("POST", []) => json_body(body)
                .and_then(|body| self.update(id, &body, now))
                .map(Reply::Json),
            ("POST", ["archive"]) => self.archive(id, now).map(Reply::Json),
            ("DELETE", []) => self.delete(id),
            _ => return None,
        };
        Some(result)
    }
}

/// Checks that the text fields of an update body are strings (or null to clear them).
pub(crate) fn check_text(body: &Value) -> Result<(), ApiError> {
    for f in ["name", "description", "title", "display_name", "system"] {
        if body.get(f).is_some_and(|v| !v.is_string() && !v.is_null()) {
            return Err(super::reply::bad(format!("{f}: must be a string")));
        }
    }
    Ok(())
}

/// Applies the `fields` of an update body to an object: a field set to `null` is removed,
/// `metadata` is a patch (a key set to `null` is removed, others set); `updated_at` is now.
pub(crate) fn update(object: &mut Value, body: &Value, fields: &[&str], now: String) {
    for f in fields {
        let Some(v) = body.get(*f) else { continue };
        if *f == "metadata" {
            let mut m: Map<String, Value> =
                object["metadata"].as_object().cloned().unwrap_or_default();
            for (k, val) in v.as_object().into_iter().flatten() {
                if val.is_null() {
                    m.remove(k);
                } else {
                    m.insert(k.clone(), val.clone());
                }
            }
            object["metadata"] = Value::Object(m);
        } else if v.is_null() {
            if let Some(o) = object.as_object_mut() {
                o.remove(*f);
            }
        } else {
            object[*f] = v.clone();
        }
    }
    object["updated_at"] = json!(now);
}

/// Returns `metadata` from a create body, or `{}`.
pub(crate) fn metadata(body: &Value) -> Value {
    match body.get("metadata") {
        Some(Value::Object(m)) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => Value::Object(Map::new()),
    }
}

/// Ids with the API's prefixes and times that only go forward.
#[derive(Default)]
pub(crate) struct Clock {
    counter: u64,
    last_ms: u64,
}

impl Clock {
    /// Returns a new id with the API's prefix (`sesn`, `agent`, `env`, ...); ids sort as created.
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        // base-58-looking, unique, sortable
        const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        let mut tail = [0u8; 14];
        let mut x = self.counter;
        for t in tail.iter_mut().rev() {
            *t = ALPHABET[(x % 58) as usize];
            x /= 58;
        }
        format!("{prefix}_011EMU{}", String::from_utf8_lossy(&tail))
    }

    /// Returns now, as RFC 3339 with milliseconds; strictly increasing, so events sort by it.
    pub(crate) fn now(&mut self) -> String {
        rfc3339(self.tick())
    }

    /// Returns now, in microseconds since the epoch; strictly increasing (a version's number).
    pub(crate) fn stamp(&mut self) -> u64 {
        self.tick() * 1000
    }

    /// Returns now in milliseconds, after the last time given out.
    fn tick(&mut self) -> u64 {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let ms = ms.max(self.last_ms + 1);
        self.last_ms = ms;
        ms
    }
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn rfc3339(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // civil from days (Howard Hinnant's algorithm)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(784_111_777_123), "1994-11-06T08:49:37.123Z");
        assert_eq!(rfc3339(1_709_251_200_000), "2024-03-01T00:00:00.000Z");
    }

    #[test]
    fn ids_sort_in_creation_order() {
        let mut c = Clock::default();
        let ids: Vec<String> = (0..200).map(|_| c.id("x")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn an_update_patches_metadata_and_removes_nulls() {
        let mut t = Table::new(
            "thing",
            "thing_deleted",
            &["name", "description", "metadata"],
        );
        t.insert(
            json!({"id": "t1", "name": "a", "description": "d", "metadata": {"k": "v", "x": "y"}}),
        );
        let body = json!({"description": null, "metadata": {"k": null, "n": "1"}});
        let o = t.update("t1", &body, "now".into()).unwrap();
        assert_eq!(o["metadata"], json!({"x": "y", "n": "1"}));
        assert!(o.get("description").is_none());
        assert_eq!(
            (o["name"].as_str(), o["updated_at"].as_str()),
            (Some("a"), Some("now"))
        );
        assert_eq!(t.get("t2").unwrap_err().0, 404);
    }
}
