//! Skills and their versions: created from an uploaded folder (multipart `files`, one
//! top-level directory with a `SKILL.md` whose front matter names and describes the skill),
//! listed, retrieved, deleted, and each version's content downloaded as a zip archive.

use super::super::multipart::{self, Part};
use super::super::reply::Request;
use super::super::reply::{bad, not_found, page, ApiError, Reply, Routed};
use super::super::shared::Shared;
use super::super::state::State;
use serde_json::{json, Value};

/// Answers `/v1/skills/...` (`segs` is what follows `skills`).
pub(crate) fn route(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => {
            let source = r.query.get("source");
            s.skills.list(r.query, |k| {
                source.is_none_or(|src| k["source"]["type"] == src)
            })
        }
        ("POST", []) => {
            let parts = multipart::parts(r.content_type, r.body)?;
            let display_name = parts
                .iter()
                .find(|p| p.name == "display_name" && p.filename.is_none())
                .map(|p| String::from_utf8_lossy(&p.bytes).trim().to_string())
                .filter(|n| !n.is_empty());
            let upload = Upload::read(parts)?;
            let id = s.id("skill");
            let now = s.now();
            let version = add_version(&mut s, &id, upload.clone(), &now);
            let skill = json!({
                "id": id, "type": "skill", "source": {"type": "custom"},
                "display_name": display_name.unwrap_or(upload.name),
                "latest_version_id": version["id"], "created_at": now, "updated_at": now,
            });
            Ok(Reply::Json(s.skills.insert(skill)))
        }
        ("GET", [id]) => s.skills.get(id).cloned().map(Reply::Json),
        ("DELETE", [id]) => {
            s.skills.get(id)?;
            let gone: Vec<String> = versions_of(&s, id)
                .filter_map(|v| v["id"].as_str().map(String::from))
                .collect();
            for v in gone {
                s.skill_files.remove(&v);
            }
            s.skill_versions.retain(|v| v["skill_id"] != *id);
            s.skills.delete(id)
        }
        (m, [id, "versions", rest @ ..]) => {
            s.skills.get(id)?;
            versions(&mut s, r, m, id, rest)
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Answers `/v1/skills/{id}/versions/...`
fn versions(s: &mut State, r: &Request, method: &str, skill: &str, segs: &[&str]) -> Routed {
    match (method, segs) {
        ("GET", []) => page(versions_of(s, skill).cloned().collect(), r.query),
        ("POST", []) => {
            let upload = Upload::read(multipart::parts(r.content_type, r.body)?)?;
            let first = versions_of(s, skill).last().map(|v| v["name"].clone());
            if first.as_ref().is_some_and(|n| *n != upload.name) {
                return Err(bad(format!(
                    "the skill is named {}; an upload named {:?} cannot be a version of it",
                    first.unwrap_or_default(),
                    upload.name
                )));
            }
            let now = s.now();
            let version = add_version(s, skill, upload, &now);
            let k = s.skills.get_mut(skill)?;
            k["latest_version_id"] = version["id"].clone();
            k["updated_at"] = json!(now);
            Ok(Reply::Json(version))
        }
        ("GET", [v]) => version(s, skill, v).map(Reply::Json),
        ("GET", [v, "content"]) => {
            let v = version(s, skill, v)?;
            let vid = v["id"].as_str().unwrap_or_default();
            if let Some(bytes) = s.faults.skill_content.clone() {
                return Ok(Reply::Bytes("application/zip", bytes));
            }
            let files = s.skill_files.get(vid).cloned().unwrap_or_default();
            Ok(Reply::Bytes("application/zip", zip(&files)?))
        }
        ("DELETE", [v]) => {
            let v = version(s, skill, v)?;
            let vid = v["id"].as_str().unwrap_or_default().to_string();
            if versions_of(s, skill).count() == 1 {
                return Err(bad(format!(
                    "version {vid} is the skill's only version; delete the skill instead"
                )));
            }
            s.skill_files.remove(&vid);
            let done = s.skill_versions.delete(&vid);
            let latest = versions_of(s, skill).next().map(|v| v["id"].clone());
            if let (Ok(k), Some(latest)) = (s.skills.get_mut(skill), latest) {
                k["latest_version_id"] = latest;
            }
            done
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Returns a skill's versions, newest first.
fn versions_of<'a>(s: &'a State, skill: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    let mut all: Vec<&Value> = s
        .skill_versions
        .values()
        .filter(|v| v["skill_id"] == skill)
        .collect();
    all.reverse();
    all.into_iter()
}

/// Returns one version of a skill, by id or `latest`.
fn version(s: &State, skill: &str, v: &str) -> Result<Value, ApiError> {
    let id = if v == "latest" {
        s.skills.get(skill)?["latest_version_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    } else {
        v.to_string()
    };
    match s.skill_versions.get(&id) {
        Ok(found) if found["skill_id"] == skill => Ok(found.clone()),
        _ => Err(not_found("skill version", v)),
    }
}

fn add_version(s: &mut State, skill: &str, upload: Upload, now: &str) -> Value {
    // versions are named by a number that grows with time, as the API's are
    let id = s.clock.stamp().to_string();
    let v = json!({
        "id": id, "type": "skill_version", "skill_id": skill, "name": upload.name,
        "description": upload.description, "created_at": now,
    });
    s.skill_files.insert(id, upload.files);
    s.skill_versions.insert(v)
}

/// An uploaded skill folder.
#[derive(Clone)]
struct Upload {
    name: String,
    description: String,
    /// Each file's path (under the top-level directory) and bytes.
    files: Vec<(String, Vec<u8>)>,
}

impl Upload {
    fn read(parts: Vec<Part>) -> Result<Upload, ApiError> {
        let files: Vec<(String, Vec<u8>)> = parts
            .into_iter()
            .filter(|p| p.name == "files" || p.name == "files[]")
            .map(|p| (p.filename.unwrap_or_default().replace('\\', "/"), p.bytes))
            .collect();
        if files.is_empty() {
            return Err(bad("files: Field required"));
        }
        let top = |path: &str| path.split('/').next().unwrap_or("").to_string();
        let dir = top(&files[0].0);
        for (path, _) in &files {
            let inside = path.split('/').skip(1).collect::<Vec<_>>();
            if dir.is_empty() || top(path) != dir || inside.is_empty() || inside.contains(&"..") {
                return Err(bad(format!(
                    "files: {path:?} is not in the one top-level directory {dir:?}"
                )));
            }
        }
        let skill_md = files
            .iter()
            .find(|(p, _)| *p == format!("{dir}/SKILL.md"))
            .ok_or_else(|| bad(format!("files: no SKILL.md at the root of {dir:?}")))?;
        let text = String::from_utf8_lossy(&skill_md.1).into_owned();
        let field = |k: &str| front_matter(&text, k);
        Ok(Upload {
            name: field("name").unwrap_or(dir),
            description: field("description").unwrap_or_default(),
            files,
        })
    }
}

/// Returns a field of a `SKILL.md`'s YAML front matter (`---` lines around `key: value` lines).
fn front_matter(text: &str, key: &str) -> Option<String> {
    let mut lines = text.lines();
    if lines.next()?.trim() != "---" {
        return None;
    }
    lines
        .take_while(|l| l.trim() != "---")
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_string())
        })
        .filter(|v| !v.is_empty())
}

/// Packs the files in a zip archive, as the API serves a version's content.
fn zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, ApiError> {
    use std::io::Write;
    let fail = |e: &dyn std::fmt::Display| ApiError(500, "api_error", format!("zip: {e}"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, bytes) in files {
        w.start_file(path.as_str(), options).map_err(|e| fail(&e))?;
        w.write_all(bytes).map_err(|e| fail(&e))?;
    }
    Ok(w.finish().map_err(|e| fail(&e))?.into_inner())
}
