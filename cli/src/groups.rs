//! The process groups of the tool commands running now, so that all of them can be killed at
//! once (Ctrl-C, a signal, the deadline, the program leaving), and whether the user
//! interrupted (a tool killed from then on was killed by us).

use std::io;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The process groups of the tools running now.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Set once the user interrupted: tools killed from now on were killed by us.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn lock() -> std::sync::MutexGuard<'static, Vec<i32>> {
    GROUPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Spawns `cmd` (made the leader of its own process group) and registers its group, before
/// it can start children, so that a kill right now still reaches it.
pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let mut groups = lock();
    let child = cmd.spawn()?;
    groups.push(child.id() as i32);
    Ok(child)
}

/// Kills one process group.
pub fn kill(group: i32) {
    // SAFETY: killpg has no memory effects; a group that is gone gives ESRCH, ignored
    unsafe {
        libc::killpg(group, libc::SIGKILL);
    }
}

/// Kills a process group and forgets it (its command ended).
pub fn end(group: i32) {
    kill(group);
    lock().retain(|g| *g != group);
}

/// Kills every running tool's process group (Ctrl-C, the deadline, leaving).
pub fn kill_all() {
    for group in lock().iter() {
        kill(*group);
    }
}

/// Marks that the user interrupted, then kills every tool.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    kill_all();
}

/// Tells whether the user interrupted.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
