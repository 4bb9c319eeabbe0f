//! What the tests share: a scripted server beside mockito (`server`, its items re-exported
//! here), fixtures on the strict emulator (`emulated`), the work queue's wire fixtures
//! (`work`), temporary folders, waiting for a condition, and the built examples.
#![allow(dead_code)]

pub mod emulated;
mod server;
pub mod work;

pub use server::*;

use managed_agents::Client;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A client of a server on loopback at `url` that tries each request once.
pub fn no_retry_client(url: &str) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

/// A fresh folder, removed with everything in it when the value is dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("managed-agents-test-")
        .tempdir()
        .expect("a temporary folder")
}

/// Waits (generously) until `done` holds; fails naming `what` when it never does.
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The built example `name`, beside this test binary (`cargo test` builds the examples).
pub fn example_exe(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let bin = examples.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is not built (cargo test builds the examples)",
        bin.display()
    );
    bin
}
