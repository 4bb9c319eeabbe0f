//! `--tool` names checked against the agent's custom tools at start: an unknown name is a
//! warning (exit 2 with `--strict-tools`), a name given twice a usage error.

use crate::support::{run, setup, stderr};
use managed_agents_emulator::Script;
use serde_json::json;

#[test]
fn a_tool_the_agent_does_not_have_is_a_warning_or_with_strict_tools_an_error() {
    let (emu, _c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let o = run(&emu, &agent, &env, &["--tool", "shuot=cat"]);
    let err = stderr(&o);
    // the run goes on; the call of `shout` is answered as an error (no handler)
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning") && err.contains("shuot") && err.contains("did you mean shout"),
        "{err}"
    );
    let o = run(
        &emu,
        &agent,
        &env,
        &["--tool", "shuot=cat", "--strict-tools"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: ") && err.contains("shuot"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // a known name says nothing
    let o = run(
        &emu,
        &agent,
        &env,
        &["--tool", "shout=cat", "--strict-tools"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn a_tool_given_twice_is_a_usage_error() {
    let (emu, _c, agent, env) = setup(true);
    let o = run(
        &emu,
        &agent,
        &env,
        &["--tool", "shout=cat", "--tool", "shout=tr a-z A-Z"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: ") && err.contains("shout"), "{err}");
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn batch_checks_the_tool_names_against_each_agent_before_running() {
    let (emu, c, agent, env) = setup(true);
    let dir = crate::support::temp("toolnames");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
    let out = dir.join("results.jsonl");
    let o = crate::support::cli(
        &emu,
        &crate::support::batch_args(
            &tasks,
            &out,
            &agent,
            &env,
            &["--tool", "run_test=true", "--strict-tools"],
        ),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("run_test"), "{err}");
    // nothing ran
    let sessions = c.sessions().list(&Default::default()).unwrap();
    assert!(sessions.data.is_empty());
}
