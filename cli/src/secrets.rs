//! The keys the process was started with (`ANTHROPIC_API_KEY`, the environment key, the
//! other credential variables), taken out of its environment at start, before any thread or
//! child process exists, so that nothing it starts inherits them: every variable that names
//! a key, and every other variable whose value is one, is removed. On Linux the bytes of
//! those variables in the original environment block (what `/proc/PID/environ` shows, which
//! removing a variable does not change) are overwritten, and the process is made
//! non-dumpable, so that a child running as the same user can read neither that block nor
//! the process's memory (only root can).

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::sync::OnceLock;

/// The variables that hold a key or token, whatever the command.
const CREDENTIAL_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_ENVIRONMENT_KEY",
    "ANTHROPIC_WORK_SECRET",
    "ANTHROPIC_WEBHOOK_SIGNING_KEY",
];

/// The shortest value whose copies under other names are removed too.
const MIN_KEY_LEN: usize = 8;

/// The API key's variable.
pub const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";

static TAKEN: OnceLock<HashMap<String, String>> = OnceLock::new();

/// Takes the keys out of the environment: the credential variables, `extra` (the variable
/// `--environment-key-env` names), and every variable whose value equals one of them. Those
/// in `drop` are not kept either (the worker does not hold the API key). Call once, first
/// thing, while the process has one thread.
pub fn take(extra: Option<&str>, drop: &[&str]) {
    let mut names: Vec<&str> = CREDENTIAL_VARS.to_vec();
    names.extend(extra);
    let mut kept = HashMap::new();
    let mut values = HashSet::new();
    for name in &names {
        if let Some(v) = std::env::var_os(name) {
            // a copy of a key under another name is a key too (a value as short as `test`
            // or `1` is no key, and other variables holding it are left alone)
            if v.len() >= MIN_KEY_LEN {
                values.insert(v.clone());
            }
            // (the variable asked for is kept, even when it is one of those dropped)
            if !drop.contains(name) || Some(*name) == extra {
                kept.insert(name.to_string(), v.to_string_lossy().into_owned());
            }
        }
    }
    let removed: HashSet<OsString> = std::env::vars_os()
        .filter(|(k, v)| names.iter().any(|n| k == n) || values.contains(v))
        .map(|(k, _)| k)
        .collect();
    for name in &removed {
        // one thread so far: nothing reads the environment meanwhile
        std::env::remove_var(name);
    }
    #[cfg(target_os = "linux")]
    {
        wipe_original_block(&removed);
        // SAFETY: prctl(PR_SET_DUMPABLE) takes plain integers and touches no memory of ours
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
    }
    let _ = TAKEN.set(kept);
}

/// Returns a key taken from the environment, by its variable's name.
pub fn var(name: &str) -> Option<&'static str> {
    TAKEN.get()?.get(name).map(String::as_str)
}

/// Overwrites the variables `names` (name and value) in the environment block the process was
/// started with (from `env_start` to `env_end` of `/proc/self/stat`), which the kernel shows
/// as `/proc/PID/environ` whatever the C library's `environ` says now.
#[cfg(target_os = "linux")]
fn wipe_original_block(names: &HashSet<OsString>) {
    use std::os::unix::ffi::OsStrExt;
    if names.is_empty() {
        return;
    }
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // the fields after the command's name (which may hold spaces and parentheses) start with
    // the third, `state`; env_start and env_end are the 50th and 51st
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<usize>().ok());
    let (Some(start), Some(end)) = (field(50), field(51)) else {
        return;
    };
    if start == 0 || end <= start {
        return;
    }
    let block = start as *mut u8;
    // SAFETY: [start, end) is this process's original environment block, mapped read-write
    // (on the main thread's stack) for the process's whole life. No Rust value refers to it,
    // and the C library's `environ` no longer points at the entries overwritten (they were
    // removed above), so nothing reads them while, or after, they are written.
    let byte = |i: usize| unsafe { std::ptr::read_volatile(block.add(i)) };
    let mut i = 0;
    while i < end - start {
        let entry = i;
        while i < end - start && byte(i) != 0 {
            i += 1;
        }
        let bytes: Vec<u8> = (entry..i).map(byte).collect();
        if let Some(eq) = bytes.iter().position(|b| *b == b'=') {
            let name = std::ffi::OsStr::from_bytes(&bytes[..eq]);
            if names.iter().any(|n| n == name) {
                for k in entry..i {
                    // SAFETY: inside the block, as above
                    unsafe { std::ptr::write_volatile(block.add(k), 0) };
                }
            }
        }
        i += 1;
    }
}
