//! A tool command's output in its result: at most 30,000 characters, the whole of a longer
//! output saved to a file the result names, and never all of it in memory.

use crate::support::{run, setup};
use managed_agents::types::*;
use managed_agents_emulator::Script;
use serde_json::json;

#[test]
fn a_tool_printing_100_mb_gets_a_capped_result_naming_the_whole_output() {
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let o = run(
        &emu,
        &agent,
        &env,
        &[
            "--tool",
            "shout=head -c 100000000 /dev/zero | tr '\\0' x",
            "--deadline",
            "60s",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let result = crate::support::custom_tool_results(&c).remove(0);
    assert_ne!(result["is_error"], true, "{}", result["content"][0]["text"]);
    let text = result["content"][0]["text"].as_str().unwrap();
    let (shown, note) = text.split_once('\n').unwrap();
    assert_eq!(shown, "x".repeat(30_000));
    assert!(
        note.starts_with(
            "[output truncated at 30000 characters of 100000000 bytes; saved whole in "
        ),
        "{note}"
    );
    let path = note
        .trim_end_matches(']')
        .rsplit_once("saved whole in ")
        .unwrap()
        .1;
    let size = std::fs::metadata(path).unwrap().len();
    let _ = std::fs::remove_file(path);
    assert_eq!(size, 100_000_000);
}

#[test]
fn an_output_under_the_cap_is_the_result_as_it_was() {
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let o = run(&emu, &agent, &env, &["--tool", "shout=printf 'a\\nb\\n'"]);
    assert_eq!(o.status.code(), Some(0));
    let session = &c.sessions().list(&Default::default()).unwrap().data[0];
    let texts: Vec<String> = c
        .sessions()
        .events()
        .list(&session.id, &Default::default())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .filter_map(|e| match e {
            SessionEvent::UserCustomToolResult(r) => serde_json::to_value(r).unwrap()["content"][0]
                ["text"]
                .as_str()
                .map(String::from),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["a\nb"]);
}

#[test]
fn a_result_the_api_refuses_is_named_and_replaced_by_an_error_result() {
    use managed_agents_emulator::Faults;
    use std::time::{Duration, Instant};
    let (emu, _c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let dir = crate::support::temp("refused");
    let (ready, go) = (dir.join("ready"), dir.join("go"));
    let tool = format!(
        "shout=touch {}; while [ ! -e {} ]; do sleep 0.05; done; echo hi",
        ready.display(),
        go.display()
    );
    let child = {
        let (emu_url, agent, env) = (emu.base_url().to_string(), agent.clone(), env.clone());
        std::thread::spawn(move || {
            std::process::Command::new(crate::support::BIN)
                .args(crate::support::run_args(
                    &agent,
                    &env,
                    &["--tool", &tool, "--deadline", "60s"],
                ))
                .env("ANTHROPIC_API_KEY", "test")
                .env("ANTHROPIC_BASE_URL", emu_url)
                .output()
                .unwrap()
        })
    };
    let t = Instant::now();
    while !ready.exists() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ready.exists(), "the tool did not start");
    // the tool's result is the next request: refused as too large
    emu.set_faults(Faults {
        fail_next: 1,
        fail_status: 413,
        ..Faults::default()
    });
    std::fs::write(&go, "").unwrap();
    let o = child.join().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    // not the deadline (exit 4): the refusal is named at once, and the agent is told of it in
    // an error result carrying the API's message (as the official runner does), so the turn
    // goes on to its end
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("refused the result of tool 'shout'") && err.contains("413"),
        "{err}"
    );
    let c = managed_agents::Client::builder()
        .api_key("test")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let session = c.sessions().list(&Default::default()).unwrap().data[0]
        .id
        .clone();
    let results: Vec<_> = c
        .sessions()
        .events()
        .list(&session, &Default::default())
        .unwrap()
        .into_iter()
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .filter(|e| e["type"] == "user.custom_tool_result")
        .collect();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["is_error"], true);
    assert!(
        results[0]
            .to_string()
            .contains("The API refused the result of tool 'shout'"),
        "{results:?}"
    );
}
