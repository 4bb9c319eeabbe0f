//! A cancelled session run lets go at once: when the item's lease ends while the runner is
//! blocked posting a result (the server holding the post), the runner's calls are cut, its
//! thread ends, and nothing keeps the item's credential busy after the item is done. (Alone in
//! its test binary: it counts the process's runner threads.)

use managed_agents::environments::PollerOptions;
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Faults, Script};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|name| name.starts_with(prefix))
                })
                .count()
        })
        .unwrap_or(0)
}

#[cfg(target_os = "linux")]
#[test]
fn a_runner_blocked_in_a_post_is_cut_when_the_item_is_stopped() {
    let emu = Arc::new(Emulator::start().unwrap());
    emu.set_strict(true);
    let client = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    emu.set_script(Script::new().call_tool("probe", json!({})).say("done"));
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::new("local").config(SelfHostedConfigParams::new()))
        .unwrap()
        .id;
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5"))
        .unwrap();
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.as_str()))
        .unwrap()
        .id;
    client
        .sessions()
        .events()
        .send(
            &session,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    emu.set_faults(Faults {
        lease_ttl: Some(Duration::from_secs(4)),
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let (scripted, stopper, env2) = (emu.clone(), client.clone(), env.clone());
    let stats = client
        .environments()
        .work()
        .worker()
        .environment_id(&env)
        .environment_key("env-key")
        .workdir(dir.path())
        .poller_options(
            PollerOptions::new()
                .drain(true)
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .tool("probe", move |_| {
            // the result's post will hang for 30 s; a second after it starts, someone stops
            // the item
            scripted.set_faults(Faults {
                lease_ttl: Some(Duration::from_secs(4)),
                slow_event_posts: Some(Duration::from_secs(30)),
                ..Faults::default()
            });
            let (stopper, env) = (stopper.clone(), env2.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(1));
                let work = stopper.environments().work();
                let id = work.list(&env, &WorkListParams::default()).unwrap().data[0]
                    .id
                    .clone();
                work.stop(&env, &id, &WorkStopParams::new()).unwrap();
            });
            Ok::<_, String>("probed")
        })
        .run()
        .unwrap();
    assert_eq!(stats.claimed, 1, "{stats:?}");
    // the runner's thread is gone soon after the item, long before the post would have ended
    let deadline = Instant::now() + Duration::from_secs(5);
    while threads_named("runner ") > 0 {
        assert!(
            Instant::now() < deadline,
            "the cancelled runner is still blocked in its post"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    emu.set_faults(Faults::default());
}
