//! The file tools `read`, `write` and `edit`, on confined paths.
//!
//! Every file is opened beneath its root's handle (see the confinement module), without
//! blocking (a FIFO swapped in cannot hang the call) and checked to be a regular file before
//! anything is read. Sizes are checked before loading: `read` returns a file whole up to
//! [`DEFAULT_MAX_FILE_BYTES`](super::DEFAULT_MAX_FILE_BYTES) (or the configured cap), or
//! streams the lines a `view_range` selects; images and PDFs come back as base64 content
//! blocks. `write` and `edit` replace the file atomically (a temporary file beside it,
//! renamed over it), keeping an existing file's permissions. Like the official tools they do not
//! `fsync`: a killed process loses nothing, a crash of the machine may.

use super::confine::Resolved;
use super::{fs_reason, nonce, AgentToolset, Outcome, ToolResult, DEFAULT_MAX_READ_BYTES};
use crate::types::{
    Base64DocumentSourceParam, Base64ImageSourceParam, DocumentBlockParam, ImageBlockParam,
};
use base64::Engine;
use cap_std::fs::{File, OpenOptions};
use serde::Deserialize;
use std::io::{self, Read, Write};
use std::path::Path;

/// The read tool's input (`BetaManagedAgentsAgentToolset20260401ReadInput`).
#[derive(Debug, Deserialize)]
pub(crate) struct ReadInput {
    file_path: String,
    view_range: Option<Vec<i64>>,
}

/// The write tool's input (`BetaManagedAgentsAgentToolset20260401WriteInput`).
#[derive(Debug, Deserialize)]
pub(crate) struct WriteInput {
    file_path: String,
    content: String,
}

/// The edit tool's input (`BetaManagedAgentsAgentToolset20260401EditInput`).
#[derive(Debug, Deserialize)]
pub(crate) struct EditInput {
    file_path: String,
    old_string: String,
    new_string: String,
    replace_all: Option<bool>,
}

/// Files `read` returns as content blocks rather than text, by extension.
const BINARY_MEDIA_TYPES: [(&str, &str); 6] = [
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("pdf", "application/pdf"),
];

/// The chunk `read` streams a large file in.
const READ_CHUNK_BYTES: usize = 64 * 1024;

pub(crate) fn read(ts: &AgentToolset, input: ReadInput) -> Outcome {
    let fp = input.file_path.as_str();
    let target = resolve(ts, "read", fp)?;
    let range = match input.view_range.as_deref() {
        None | Some([]) => None,
        Some(&[start, end]) => Some((start, end)),
        Some(_) => return Err("read: view_range must be [start_line, end_line]".into()),
    };
    let (file, size) = open_regular(&target, "read", fp)?;
    let ctx = &ts.ctx;
    if let Some(media_type) = media_type(&target.path) {
        if range.is_some() {
            return Err("read: view_range is not supported for image/PDF files".into());
        }
        return read_binary(ts, file, fp, size, media_type);
    }
    let read_cap = if ctx.max_file_bytes_set {
        ctx.max_file_bytes
    } else {
        Some(DEFAULT_MAX_READ_BYTES)
    };
    if let Some(limit) = read_cap.filter(|&limit| size > limit) {
        let Some((start, end)) = range else {
            return Err(format!(
                "read: {fp} is {size} bytes, exceeds {limit}-byte limit. \
                 Use the view_range parameter to read specific line ranges, e.g. view_range: [1, 500]."
            ));
        };
        let bytes = read_line_range(file, fp, start, end, limit)?;
        return utf8(bytes, fp).map(ToolResult::text_result);
    }
    let mut bytes = Vec::new();
    // A file that grew since the size check is still read only up to its cap.
    let cap = read_cap.unwrap_or(u64::MAX);
    file.take(cap)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read: {fp}: {}", fs_reason(&e)))?;
    let text = utf8(bytes, fp)?;
    let Some((start, end)) = range else {
        return Ok(ToolResult::text_result(text));
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let (from, to) = line_bounds(start, end, lines.len());
    Ok(ToolResult::text_result(
        lines.get(from..to).unwrap_or_default().join("\n"),
    ))
}

pub(crate) fn write(ts: &AgentToolset, input: WriteInput) -> Outcome {
    let fp = input.file_path.as_str();
    let target = resolve(ts, "write", fp)?;
    refuse_read_only(ts, &target, "write", fp)?;
    if let Some(parent) = target.rel().parent().filter(|p| !p.as_os_str().is_empty()) {
        target
            .dir()
            .create_dir_all(parent)
            .map_err(|e| format!("write: {fp}: mkdir: {}", fs_reason(&e)))?;
    }
    if !saved_first(ts, &target, &input.content, None, "write", fp)? {
        replace_file(&target, input.content.as_bytes())
            .map_err(|e| format!("write: {fp}: {}", fs_reason(&e)))?;
    }
    Ok(ToolResult::text_result(format!(
        "wrote {} bytes to {fp}",
        input.content.len()
    )))
}

pub(crate) fn edit(ts: &AgentToolset, input: EditInput) -> Outcome {
    let fp = input.file_path.as_str();
    if input.old_string.is_empty() {
        return Err("edit: old_string is required".into());
    }
    let target = resolve(ts, "edit", fp)?;
    refuse_read_only(ts, &target, "edit", fp)?;
    let (file, size) = open_regular(&target, "edit", fp)?;
    let limit = ts.ctx.max_file_bytes;
    if let Some(limit) = limit.filter(|&limit| size > limit) {
        return Err(format!(
            "edit: {fp} is {size} bytes, exceeds {limit}-byte limit. \
             The edit tool loads the whole file and cannot modify a file this large."
        ));
    }
    let mut bytes = Vec::new();
    file.take(limit.map_or(u64::MAX, |l| l + 1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("edit: {fp}: {}", fs_reason(&e)))?;
    if limit.is_some_and(|l| bytes.len() as u64 > l) {
        return Err(format!(
            "edit: {fp} grew past the size limit while being read"
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("edit: {fp}: not valid UTF-8 text (cannot edit binary files)"))?;
    let count = text.matches(input.old_string.as_str()).count();
    let replace_all = input.replace_all == Some(true);
    if count == 0 {
        return Err(format!("edit: old_string not found in {fp}"));
    }
    if count > 1 && !replace_all {
        return Err(format!(
            "edit: old_string appears {count} times in {fp} (must be unique)"
        ));
    }
    if let (true, Some(limit)) = (count > 1, limit) {
        let grows = input.new_string.len() as i128 - input.old_string.len() as i128;
        let size = text.len() as i128 + count as i128 * grows;
        if size > i128::from(limit) {
            return Err(format!(
                "edit: {count} replacements would make {fp} {size} bytes, exceeds {limit}-byte limit."
            ));
        }
    }
    let (updated, replaced) = if replace_all {
        (text.replace(&input.old_string, &input.new_string), count)
    } else {
        (text.replacen(&input.old_string, &input.new_string, 1), 1)
    };
    if !saved_first(ts, &target, &updated, Some(&text), "edit", fp)? {
        replace_file(&target, updated.as_bytes())
            .map_err(|e| format!("edit: {fp}: {}", fs_reason(&e)))?;
    }
    Ok(ToolResult::text_result(format!(
        "edited {fp} ({replaced} replacement(s))"
    )))
}

/// Hands the new text of a file to the worker's hook (a memory store saves it first, and
/// writes the file only if it took it): whether the hook wrote it.
fn saved_first(
    ts: &AgentToolset,
    target: &Resolved<'_>,
    text: &str,
    replacing: Option<&str>,
    op: &str,
    fp: &str,
) -> Result<bool, String> {
    match &ts.ctx.hooks.write_file {
        Some(hook) => hook(&target.path, text, replacing).map_err(|e| format!("{op}: {fp}: {e}")),
        None => Ok(false),
    }
}

fn resolve<'a>(ts: &'a AgentToolset, op: &str, fp: &str) -> Result<Resolved<'a>, String> {
    if fp.is_empty() {
        return Err(format!("{op}: file_path is required"));
    }
    ts.roots.resolve(fp).map_err(|e| format!("{op}: {e}"))
}

fn refuse_read_only(
    ts: &AgentToolset,
    target: &Resolved<'_>,
    op: &str,
    fp: &str,
) -> Result<(), String> {
    match ts.roots.read_only_root_of(&target.path) {
        Some(root) => Err(format!(
            "{op}: {fp} is inside read-only directory {}",
            root.display()
        )),
        None => Ok(()),
    }
}

/// Opens a regular file for reading without blocking on a FIFO or device: the file and
/// its size.
fn open_regular(target: &Resolved<'_>, op: &str, fp: &str) -> Result<(File, u64), String> {
    let file = target
        .dir()
        .open_with(target.rel(), &read_options())
        .map_err(|e| format!("{op}: {fp}: {}", fs_reason(&e)))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("{op}: {fp}: {}", fs_reason(&e)))?;
    if !meta.is_file() {
        return Err(format!("{op}: {fp}: not a regular file"));
    }
    Ok((file, meta.len()))
}

/// Options that open a file for reading without blocking on a FIFO or a device.
pub(crate) fn read_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    options
}

fn media_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    BINARY_MEDIA_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, media)| *media)
}

/// An image or PDF as a base64 content block, within its cap.
fn read_binary(ts: &AgentToolset, file: File, fp: &str, size: u64, media_type: &str) -> Outcome {
    let ctx = &ts.ctx;
    let pdf = media_type == "application/pdf";
    let mut limit = if pdf {
        ctx.max_pdf_bytes
    } else {
        // The image cap is on the encoded form: n bytes encode to 4 * ceil(n / 3).
        ctx.max_image_base64_bytes.map(|b64| b64 / 4 * 3)
    };
    if let (true, Some(cap)) = (ctx.max_file_bytes_set, ctx.max_file_bytes) {
        limit = Some(limit.map_or(cap, |l| l.min(cap)));
    }
    if let Some(limit) = limit.filter(|&limit| size > limit) {
        return Err(format!(
            "read: {fp} is {size} bytes, exceeds {limit}-byte limit for image/PDF files."
        ));
    }
    let mut bytes = Vec::new();
    file.take(limit.unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read: {fp}: {}", fs_reason(&e)))?;
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let block = if pdf {
        DocumentBlockParam::new(Base64DocumentSourceParam::new(data, media_type)).into()
    } else {
        ImageBlockParam::new(Base64ImageSourceParam::new(data, media_type)).into()
    };
    Ok(ToolResult {
        content: vec![block],
        is_error: false,
    })
}

fn utf8(bytes: Vec<u8>, fp: &str) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "read: {fp}: not valid UTF-8 text (binary files are only supported for image/PDF extensions)"
        )
    })
}

/// The 0-based half-open range of lines that `view_range [start, end]` (1-based, inclusive,
/// `end` <= 0 for "to the end") selects of `count` lines.
fn line_bounds(start: i64, end: i64, count: usize) -> (usize, usize) {
    let from = usize::try_from(start.saturating_sub(1))
        .unwrap_or(0)
        .min(count);
    let to = if end > 0 {
        usize::try_from(end).unwrap_or(usize::MAX).min(count)
    } else {
        count
    };
    (from, to.max(from))
}

/// Lines `[start, end]` of a file too large to load, streamed, the selected bytes capped at
/// `limit`.
fn read_line_range(
    mut file: File,
    fp: &str,
    start: i64,
    end: i64,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let (from, to) = line_bounds(start, end, usize::MAX);
    let mut collected = Vec::new();
    let mut line = 0usize;
    let mut chunk = vec![0u8; READ_CHUNK_BYTES];
    while line < to {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read: {fp}: {}", fs_reason(&e))),
        };
        let mut rest = &chunk[..n];
        while !rest.is_empty() && line < to {
            let newline = memchr::memchr(b'\n', rest);
            let part = &rest[..newline.unwrap_or(rest.len())];
            if line >= from {
                collected.extend_from_slice(part);
                if newline.is_some() && line + 1 < to {
                    collected.push(b'\n');
                }
                if collected.len() as u64 > limit {
                    return Err(if to - from == 1 {
                        format!(
                            "read: line {} of {fp} alone exceeds {limit}-byte limit. \
                             The read tool cannot return part of a line, so view_range cannot narrow this further.",
                            from + 1
                        )
                    } else {
                        format!(
                            "read: view_range [{start}, {end}] of {fp} exceeds {limit}-byte limit. \
                             Narrow the view_range to read a smaller portion."
                        )
                    });
                }
            }
            match newline {
                Some(at) => {
                    line += 1;
                    rest = &rest[at + 1..];
                }
                None => break,
            }
        }
    }
    Ok(collected)
}

/// Replaces the file at `target` with `contents` atomically: a temporary file beside it,
/// renamed over it. An existing file's permissions are kept.
fn replace_file(target: &Resolved<'_>, contents: &[u8]) -> io::Result<()> {
    let dir = target.dir();
    let rel = target.rel();
    let name = rel
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::IsADirectory, "is a directory"))?;
    let existing = dir.metadata(rel).ok();
    if existing.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".agenttoolset-{}", nonce()));
    let tmp = rel.with_file_name(tmp_name);
    let result = (|| {
        let mut file = dir.open_with(&tmp, OpenOptions::new().write(true).create_new(true))?;
        file.write_all(contents)?;
        if let Some(meta) = existing.as_ref().filter(|m| m.is_file()) {
            file.set_permissions(meta.permissions())?;
        }
        drop(file);
        dir.rename(&tmp, dir, rel)
    })();
    if result.is_err() {
        let _ = dir.remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::{open_regular, replace_file};
    use crate::toolset::{AgentToolContext, AgentToolset};
    use std::fs;

    /// A path checked inside the work directory whose directory is then swapped for a link
    /// to the outside, before the operation: the operation runs beneath the root's handle,
    /// so it fails instead of reaching the outside.
    #[cfg(unix)]
    #[test]
    fn a_directory_swapped_for_a_link_after_the_check_does_not_lead_out() {
        struct Cleanup(std::path::PathBuf);
        impl Drop for Cleanup {
            fn drop(&mut self) {
                let _ = fs::remove_dir_all(&self.0);
            }
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let base = std::env::temp_dir().join(format!(
            "managed-agents-toolset-swap-{}-{nanos}",
            std::process::id()
        ));
        let _cleanup = Cleanup(base.clone());
        let (work, outside) = (base.join("work"), base.join("outside"));
        fs::create_dir_all(work.join("d")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret.txt"), "top secret").unwrap();
        let ts = AgentToolset::new(AgentToolContext::new(&work)).unwrap();

        let target = ts.roots.resolve("d/secret.txt").unwrap();
        fs::rename(work.join("d"), work.join("d_before")).unwrap();
        std::os::unix::fs::symlink(&outside, work.join("d")).unwrap();

        assert!(replace_file(&target, b"leaked").is_err());
        assert!(open_regular(&target, "read", "d/secret.txt").is_err());
        assert_eq!(
            fs::read_to_string(outside.join("secret.txt")).unwrap(),
            "top secret"
        );
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
    }
}
