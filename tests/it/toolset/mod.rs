//! The local agent toolset on real files and real processes: each tool's behaviour, and every
//! way out of the work directory refused or cut off, with nothing outside it changed.

#![cfg(unix)]

mod bash;
mod escapes;
mod files;
mod input;
mod limits;
mod search;

use managed_agents::toolset::{
    AgentToolContext, AgentToolset, ToolResult, BASH_OUTPUT_LIMIT, GLOB_RESULT_LIMIT,
    GREP_OUTPUT_LIMIT,
};
use managed_agents::types::UserCustomToolResultEventParamsContent;
use managed_agents::Deadline;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// A work directory with a sibling directory outside it, removed when dropped.
pub(crate) struct Sandbox {
    pub(crate) base: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) outside: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    pub(crate) fn new(name: &str) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix(&format!("managed-agents-toolset-{name}-"))
            .tempdir()
            .unwrap();
        let base = dir.path().to_path_buf();
        let work = base.join("work");
        let outside = base.join("outside");
        fs::create_dir_all(work.join("sub")).unwrap();
        fs::create_dir_all(outside.join("dir")).unwrap();
        fs::write(outside.join("secret.txt"), "top secret\n").unwrap();
        fs::write(outside.join("dir/inner.txt"), "inner secret\n").unwrap();
        Sandbox {
            base,
            work,
            outside,
            _dir: dir,
        }
    }

    pub(crate) fn toolset(&self) -> AgentToolset {
        AgentToolset::new(AgentToolContext::new(&self.work)).unwrap()
    }

    /// Everything under the outside directory: each path's kind, contents or link target.
    pub(crate) fn outside_snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        snapshot(&self.outside, &mut out);
        out
    }
}

pub(crate) fn snapshot(dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode();
        let what = if meta.file_type().is_symlink() {
            format!("link {:?}", fs::read_link(&path).unwrap())
        } else if meta.is_dir() {
            snapshot(&path, out);
            format!("dir {mode:o}")
        } else {
            format!("file {mode:o} {:?}", fs::read(&path).unwrap())
        };
        out.insert(path, what);
    }
}

pub(crate) fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(120))
}

pub(crate) fn call(ts: &AgentToolset, name: &str, input: Value) -> ToolResult {
    ts.call(name, input.as_object().unwrap(), deadline())
}

#[track_caller]
pub(crate) fn ok(result: ToolResult) -> String {
    assert!(!result.is_error, "unexpected error: {}", result.text());
    result.text()
}

#[track_caller]
pub(crate) fn err(result: ToolResult) -> String {
    assert!(result.is_error, "expected an error, got: {}", result.text());
    result.text()
}
