//! The local agent toolset: `agent_toolset_20260401` (bash, read, write, edit, glob, grep) run
//! on this machine, in one work directory.
//!
//! A self-hosted environment runs the agent's built-in tools itself: each `agent.tool_use`
//! event names one of the six tools and carries its input; [`AgentToolset::call`] runs it and
//! gives the [`ToolResult`] to post back as a `user.tool_result`. Behaviour, limits and
//! messages follow the official SDKs' reference toolset.
//!
//! Trust model, as the official one has it — two tiers:
//! - The file tools (read, write, edit, glob, grep) are confined to the work directory (plus
//!   any [`AgentToolContext::allowed_root`]); the paragraph below says exactly what that
//!   guarantees. They are safe to run without a sandbox. An absolute path under an
//!   [`AgentToolContext::mount`] (the environment worker mounts each memory store's
//!   `mount_path`, `/mnt/memory/<name>`, on its folder `mnt/memory/<name>` of the work
//!   directory) is mapped to that folder first; any other absolute path outside is refused.
//!   bash is not mapped: it sees the store at the relative `mnt/memory/<name>` from its
//!   working directory, not at `/mnt/memory/<name>`.
//! - `bash` runs an unrestricted `/bin/bash` in the work directory: it can read and write
//!   anything the process can. Confine it with the operating system (a container, a user
//!   without rights, a VM). What this crate does guarantee for it: its time limit, its output
//!   cap, no `ANTHROPIC_*` variable (nor a variable holding the value of one) in its
//!   environment, no inherited standard input, and the
//!   shell's whole process group killed at the time limit, on restart and when the toolset is
//!   closed or dropped.
//!
//! Confinement of the file tools: a path is made absolute against the work directory, `.` and
//! `..` are collapsed, every symbolic link on it is followed (the last one too, even one that
//! leads nowhere), and the result must lie inside a permitted root, or the call is refused.
//! The operation then runs on that resolved path **relative to a handle of the root opened
//! once**, one component at a time, refusing any step that leaves it (`cap-std`; `openat2`
//! with `RESOLVE_BENEATH` where Linux has it). So a directory swapped for a symbolic link
//! between the check and the operation makes the operation fail; it never reaches outside.
//! glob and grep walk the tree through the same handles and never follow a symbolic link
//! into a directory. What it does not cover: a hard link inside the work directory to a
//! file outside it is that file (the operating system's `protected_hardlinks` limits who can
//! make one), and a mount inside the work directory is inside it.
//!
//! ```
//! use managed_agents::toolset::{AgentToolContext, AgentToolset};
//! use managed_agents::Deadline;
//! use serde_json::json;
//! use std::time::Duration;
//!
//! let dir = std::env::temp_dir().join(format!("toolset-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let tools = AgentToolset::new(AgentToolContext::new(&dir))?;
//! let deadline = Deadline::after(Duration::from_secs(60));
//!
//! let input = json!({"file_path": "notes.txt", "content": "hello\n"});
//! let wrote = tools.call("write", input.as_object().unwrap(), deadline);
//! assert!(!wrote.is_error, "{}", wrote.text());
//!
//! let input = json!({"command": "cat notes.txt"});
//! let ran = tools.call("bash", input.as_object().unwrap(), deadline);
//! assert_eq!(ran.text(), "hello");
//!
//! let input = json!({"file_path": "../outside.txt", "content": "no"});
//! let refused = tools.call("write", input.as_object().unwrap(), deadline);
//! assert!(refused.is_error);
//! # tools.close();
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

#[cfg(unix)]
mod bash;
#[cfg(unix)]
mod bash_output;
pub(crate) mod confine;
mod files;
mod search;

use crate::deadline::Deadline;
use crate::types::{
    TextBlockParam, UserCustomToolResultEventParamsContent, UserToolResultEventParams,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::sync::TryLockError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The type of the toolset in an agent's configuration.
pub const TOOLSET_TYPE: &str = "agent_toolset_20260401";
/// The names of the six tools, in the official order.
pub const TOOL_NAMES: [&str; 6] = ["bash", "read", "write", "edit", "glob", "grep"];
/// The most output one bash command returns, in characters (UTF-16 code units, as the API
/// counts them): a longer output is cut after this many, and saved whole (up to 32 MiB) in a
/// file of the work directory whose path the result names.
pub const BASH_OUTPUT_LIMIT: usize = 30_000;
/// A bash command's time limit when its input gives none, and the most a `timeout_ms` may
/// ask for (295 s).
pub const BASH_DEFAULT_TIMEOUT: Duration = Duration::from_secs(295);
/// The largest file `edit` loads (256 KiB), unless configured.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024;
/// The largest file `read` returns whole (110,000 bytes; the API cuts a longer result
/// without saying how to read the rest), unless configured: a larger one asks for a
/// `view_range`.
pub const DEFAULT_MAX_READ_BYTES: u64 = 110_000;
/// The largest image `read` returns, measured base64-encoded (5 MiB), unless configured.
pub const DEFAULT_MAX_IMAGE_BASE64_BYTES: u64 = 5 * 1024 * 1024;
/// The largest PDF `read` returns (20 MiB), unless configured.
pub const DEFAULT_MAX_PDF_BYTES: u64 = 20 * 1024 * 1024;
/// The most output one grep returns.
pub const GREP_OUTPUT_LIMIT: usize = 100 * 1024;
/// The most paths one glob returns (the newest first).
pub const GLOB_RESULT_LIMIT: usize = 200;
/// The text of a result that has none (an empty file, a silent command).
pub const NO_OUTPUT: &str = "(no output)";
/// The most directory entries one glob or grep looks at.
pub const WALK_MAX_ENTRIES: usize = 50_000;

/// Where the toolset works and what it may reach: the work directory and its policy.
///
/// ```
/// use managed_agents::toolset::AgentToolContext;
///
/// let ctx = AgentToolContext::new("/srv/work/session-1")
///     .mount("/mnt/memory/notes", "/srv/work/session-1/mnt/memory/notes")
///     .allowed_root("/srv/memories/store-1")
///     .read_only_root("/srv/memories/store-1")
///     .max_file_bytes(Some(1024 * 1024));
/// assert_eq!(ctx.workdir().to_str(), Some("/srv/work/session-1"));
/// ```
#[derive(Debug, Clone)]
pub struct AgentToolContext {
    workdir: PathBuf,
    allowed_roots: Vec<PathBuf>,
    read_only_roots: Vec<PathBuf>,
    mounts: Vec<(PathBuf, PathBuf)>,
    env: Option<Vec<(OsString, OsString)>>,
    max_file_bytes: Option<u64>,
    max_file_bytes_set: bool,
    max_image_base64_bytes: Option<u64>,
    max_pdf_bytes: Option<u64>,
    hooks: Hooks,
}

/// Saves a file the file tools write, `(path, content, replacing)`, somewhere first (the
/// environment worker's memory stores): `Ok(false)` when `path` is not its to save, `Ok(true)`
/// when it saved it and wrote the file, an error (for the agent) when it did not.
pub(crate) type WriteFileHook =
    dyn Fn(&Path, &str, Option<&str>) -> Result<bool, String> + Send + Sync;

/// What the environment worker asks of the tools.
#[derive(Clone, Default)]
#[cfg_attr(not(feature = "worker"), allow(dead_code))]
pub(crate) struct Hooks {
    /// `write` and `edit` hand the new text of a file to it before it goes to disk.
    pub write_file: Option<Arc<WriteFileHook>>,
    /// Called after a bash command was cut off (its time limit, the call's deadline, a
    /// close): it may have moved files away and not put them back.
    pub call_stopped: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("write_file", &self.write_file.is_some())
            .field("call_stopped", &self.call_stopped.is_some())
            .finish()
    }
}

impl AgentToolContext {
    /// Creates a context for `workdir` (which must exist when the toolset is made), with the
    /// official defaults.
    pub fn new(workdir: impl Into<PathBuf>) -> Self {
        AgentToolContext {
            workdir: workdir.into(),
            allowed_roots: Vec::new(),
            read_only_roots: Vec::new(),
            mounts: Vec::new(),
            env: None,
            max_file_bytes: Some(DEFAULT_MAX_FILE_BYTES),
            max_file_bytes_set: false,
            max_image_base64_bytes: Some(DEFAULT_MAX_IMAGE_BASE64_BYTES),
            max_pdf_bytes: Some(DEFAULT_MAX_PDF_BYTES),
            hooks: Hooks::default(),
        }
    }

    /// The hooks of the environment worker.
    #[cfg_attr(not(feature = "worker"), allow(dead_code))]
    pub(crate) fn hooks(mut self, hooks: Hooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// Another directory outside the work directory that the file tools may reach (the
    /// environment worker adds the session's memory-store folders). Does not constrain bash.
    pub fn allowed_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.allowed_roots.push(dir.into());
        self
    }

    /// Sets a directory that write and edit refuse to change (a read-only memory store).
    pub fn read_only_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.read_only_roots.push(dir.into());
        self
    }

    /// Sets an absolute path the agent is told about (a memory store's `mount_path`, such as
    /// `/mnt/memory/notes`) that the file tools map to `dir`, a directory inside the work
    /// directory or an allowed root: `/mnt/memory/notes/a.md` is then `dir/a.md`. The path is
    /// taken with `.` and `..` collapsed first, so one that climbs out of the mount is not
    /// mapped (and is refused unless it is inside the work directory); what it maps to is
    /// confined as any other path. Does not change bash, which sees only `dir`.
    pub fn mount(mut self, mount_path: impl Into<PathBuf>, dir: impl Into<PathBuf>) -> Self {
        self.mounts.push((mount_path.into(), dir.into()));
        self
    }

    /// Sets the whole environment of the bash shell, instead of this process's environment
    /// without its `ANTHROPIC_*` variables and any variable holding the value of one. It is used as given: nothing is merged in, so
    /// do not build it from this process's environment (that would hand the shell its
    /// credentials).
    pub fn env<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets the size cap of a whole-file `read` and of `edit` (unset: [`DEFAULT_MAX_READ_BYTES`]
    /// and [`DEFAULT_MAX_FILE_BYTES`]); `None` for no cap (a file of any size may then be
    /// loaded into memory). A `read` with `view_range` of a larger file streams it and caps
    /// the selected lines instead; a `replace_all` edit whose result would be larger is
    /// refused. A cap set here binds images and PDFs too.
    pub fn max_file_bytes(mut self, limit: Option<u64>) -> Self {
        self.max_file_bytes = limit;
        self.max_file_bytes_set = true;
        self
    }

    /// Sets the cap on an image `read` returns, measured base64-encoded; `None` for none.
    pub fn max_image_base64_bytes(mut self, limit: Option<u64>) -> Self {
        self.max_image_base64_bytes = limit;
        self
    }

    /// Sets the cap on a PDF `read` returns; `None` for none.
    pub fn max_pdf_bytes(mut self, limit: Option<u64>) -> Self {
        self.max_pdf_bytes = limit;
        self
    }

    /// Returns the work directory, as given.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }
}

/// What a tool call returns: content blocks to post as the `user.tool_result`, and whether
/// the call failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The result's content: text, or an image or document block from `read`.
    pub content: Vec<UserCustomToolResultEventParamsContent>,
    /// Whether the call failed (a refused path, a bad input, a command that exited non-zero
    /// or ran out of time).
    pub is_error: bool,
}

impl ToolResult {
    /// Creates a successful result of one text block; empty text reads `(no output)`, as the
    /// official runner posts it (the API takes no empty text block).
    pub fn text_result(text: impl Into<String>) -> Self {
        ToolResult {
            content: vec![text_block(text.into())],
            is_error: false,
        }
    }

    /// Creates a failed result of one text block; empty text reads `(no output)`.
    pub fn error(text: impl Into<String>) -> Self {
        ToolResult {
            content: vec![text_block(text.into())],
            is_error: true,
        }
    }

    /// Returns the text blocks' text, joined by newlines.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                UserCustomToolResultEventParamsContent::Text(t) => Some(t.text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Returns the `user.tool_result` event that answers the `agent.tool_use` event `tool_use_id`.
    pub fn into_event(self, tool_use_id: impl Into<String>) -> UserToolResultEventParams {
        UserToolResultEventParams::new(tool_use_id)
            .content(self.content)
            .is_error(self.is_error)
    }
}

fn text_block(text: String) -> UserCustomToolResultEventParamsContent {
    let text = if text.is_empty() {
        NO_OUTPUT.to_string()
    } else {
        text
    };
    TextBlockParam::new(text).into()
}

/// A tool's failure: the text of its error result.
pub(crate) type Outcome = Result<ToolResult, String>;

/// The agent's built-in tools, run in one work directory.
///
/// `bash` keeps one shell for the toolset's life (its working directory, variables and
/// background jobs carry over from call to call, as the official toolset's do); calls to
/// bash run one at a time. [`close`](Self::close), or dropping the toolset, ends the shell
/// and everything it started. One toolset serves one session.
pub struct AgentToolset {
    ctx: AgentToolContext,
    roots: confine::Roots,
    #[cfg(unix)]
    bash: Mutex<Option<bash::BashSession>>,
    #[cfg(unix)]
    group: Arc<bash::Group>,
    #[cfg(not(unix))]
    bash: Mutex<Option<()>>,
}

impl std::fmt::Debug for AgentToolset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentToolset")
            .field("workdir", &self.roots.workdir())
            .finish_non_exhaustive()
    }
}

impl AgentToolset {
    /// Creates the toolset for `ctx`: opens the work directory and the other permitted roots, which
    /// must exist. The shell starts at the first bash call.
    pub fn new(ctx: AgentToolContext) -> io::Result<Self> {
        let roots = confine::Roots::open(&ctx)?;
        Ok(AgentToolset {
            ctx,
            roots,
            bash: Mutex::new(None),
            #[cfg(unix)]
            group: Arc::default(),
        })
    }

    /// Returns the work directory, resolved (symbolic links followed).
    pub fn workdir(&self) -> &Path {
        self.roots.workdir()
    }

    /// Returns whether `name` is one of this toolset's tools.
    pub fn handles(name: &str) -> bool {
        TOOL_NAMES.contains(&name)
    }

    /// Runs tool `name` with `input` (an `agent.tool_use` event's `name` and `input`), by
    /// `deadline` at the latest. Never panics on bad input: an unknown tool, an input that
    /// does not match the tool's schema, a refused path or a failed command is a result
    /// with `is_error` set, its text saying why.
    pub fn call(&self, name: &str, input: &Map<String, Value>, deadline: Deadline) -> ToolResult {
        if deadline.is_expired() {
            return ToolResult::error(format!("{name}: no time left to run the tool"));
        }
        let outcome = match name {
            "bash" => self.bash(input, deadline),
            "read" => parse(name, input).and_then(|i| files::read(self, i)),
            "write" => parse(name, input).and_then(|i| files::write(self, i)),
            "edit" => parse(name, input).and_then(|i| files::edit(self, i)),
            "glob" => parse(name, input).and_then(|i| search::glob(self, i, deadline)),
            "grep" => parse(name, input).and_then(|i| search::grep(self, i, deadline)),
            _ => Err(format!(
                "unknown tool {name:?}: the agent toolset has {}",
                TOOL_NAMES.join(", ")
            )),
        };
        outcome.unwrap_or_else(ToolResult::error)
    }

    /// Ends the bash shell and kills its whole process group (background jobs included), at
    /// once: a command running on another thread is cut off, and its call returns an error.
    /// The file holding the last long output is removed. The next bash call starts a new
    /// shell.
    pub fn close(&self) {
        #[cfg(unix)]
        self.group.kill();
        #[cfg(unix)]
        self.group.remove_saved();
        let mut guard = self.bash.lock().unwrap_or_else(|e| e.into_inner());
        *guard = None;
    }

    #[cfg(unix)]
    fn bash(&self, input: &Map<String, Value>, deadline: Deadline) -> Outcome {
        let input = parse("bash", input)?;
        // One command at a time: wait for the one running, but not past this call's deadline.
        let mut guard = loop {
            match self.bash.try_lock() {
                Ok(guard) => break guard,
                Err(TryLockError::Poisoned(e)) => break e.into_inner(),
                Err(TryLockError::WouldBlock) if deadline.is_expired() => {
                    return Err("bash: another command of this shell was still running when the call's deadline passed".into());
                }
                Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        let shell = bash::Shell {
            ctx: &self.ctx,
            workdir: self.roots.workdir(),
            group: &self.group,
        };
        bash::call(&mut guard, shell, input, deadline)
    }

    #[cfg(not(unix))]
    fn bash(&self, _input: &Map<String, Value>, _deadline: Deadline) -> Outcome {
        Err("bash: not available on this platform".to_string())
    }
}

impl Drop for AgentToolset {
    fn drop(&mut self) {
        self.close();
    }
}

/// `input` as tool `name`'s input type, or the error result's text.
fn parse<T: DeserializeOwned>(name: &str, input: &Map<String, Value>) -> Result<T, String> {
    serde_json::from_value(Value::Object(input.clone()))
        .map_err(|e| format!("invalid {name} input: {e}"))
}

/// A file-system error as one phrase, the same on every platform, naming no host path.
pub(crate) fn fs_reason(e: &io::Error) -> String {
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        NotADirectory => "not a directory".into(),
        IsADirectory => "is a directory".into(),
        PermissionDenied => "permission denied".into(),
        AlreadyExists => "file already exists".into(),
        _ if is_symlink_loop(e) => "too many levels of symbolic links".into(),
        _ => {
            let text = e.to_string();
            // "Some text (os error 5)" -> "some text"
            let text = text.split(" (os error").next().unwrap_or(&text);
            text.to_lowercase()
        }
    }
}

#[cfg(unix)]
fn is_symlink_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

#[cfg(not(unix))]
fn is_symlink_loop(_e: &io::Error) -> bool {
    false
}

/// 32 random hex digits (a sentinel no command can print ahead of time, a temporary name).
pub(crate) fn nonce() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if random.is_err() {
        // No /dev/urandom: the standard library's randomly keyed hashes instead.
        use std::hash::{BuildHasher, RandomState};
        let a = RandomState::new().hash_one(std::time::SystemTime::now());
        let b = RandomState::new().hash_one(std::process::id());
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
