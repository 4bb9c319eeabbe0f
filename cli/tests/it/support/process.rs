//! The processes a test starts and watches: a tool command that leaves a grandchild running
//! (its pid in a file), waiting for that pid, telling whether a process is gone, signalling.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Makes a command that leaves a long sleep in the background, its pid in `pidfile`, and
/// waits for it.
pub fn lingering(pidfile: &Path) -> String {
    format!("sleep 300 & echo $! > {}; wait", pidfile.display())
}

/// Waits (up to a minute) for the pid a [`lingering`] command writes.
pub fn wait_for_pid(pidfile: &Path) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the tool never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Tells whether process `pid` is still running (a zombie is not).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
            !matches!(state, Some('Z' | 'X'))
        }
        Err(_) => false,
    }
}

/// Tells whether process `pid` is gone within 20 seconds.
pub fn gone_soon(pid: i32) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Sends signal `sig` (`TERM`, `HUP`, `INT`, ...) to a child.
pub fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
