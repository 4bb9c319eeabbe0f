//! `worker`: its help, and a missing environment key as a clear usage error (exit 2) before
//! anything is sent.

use super::BIN;
use std::process::Command;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn worker_help_lists_its_options() {
    let o = Command::new(BIN)
        .args(["worker", "--help"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let help = text(&o.stdout);
    for option in [
        "--environment <ID>",
        "--environment-key-env <VAR>",
        "ANTHROPIC_ENVIRONMENT_KEY",
        "--workdir <DIR>",
        "--concurrency <N>",
        "--tool <NAME=COMMAND>",
        "--once",
    ] {
        assert!(help.contains(option), "{option} missing from: {help}");
    }
}

#[test]
fn a_missing_environment_key_is_a_usage_error() {
    // nothing listens here: the key is checked before any request
    let o = Command::new(BIN)
        .args(["worker", "--environment", "env_1", "--once"])
        .args(["--environment-key-env", "MA_TEST_NO_SUCH_KEY"])
        .env_remove("MA_TEST_NO_SUCH_KEY")
        .env("ANTHROPIC_ENVIRONMENT_KEY", "not-this-one")
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("no environment key"), "{err}");
    assert!(err.contains("MA_TEST_NO_SUCH_KEY"), "{err}");
    assert!(!err.contains("not-this-one"), "{err}");
    // the default variable, empty, is refused the same way
    let o = Command::new(BIN)
        .args(["worker", "--environment", "env_1"])
        .env("ANTHROPIC_ENVIRONMENT_KEY", "")
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("ANTHROPIC_ENVIRONMENT_KEY"));
    // no environment at all is clap's usage error
    let o = Command::new(BIN).args(["worker"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}
