//! Many threads on one client against the emulator over keep-alive, faults on: every answer
//! right, every fault absorbed, connections reused; and the figures for BENCHMARKS.md.

use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Faults};
use std::time::{Duration, Instant};

/// What a soak did: requests answered (faults included), connections accepted, time taken.
struct Soak {
    requests: usize,
    connections: usize,
    elapsed: Duration,
}

/// `threads` threads on one client, `per_thread` requests each, mixed across environments,
/// agents, vaults and memory stores; every answer checked against what was asked.
fn soak(threads: usize, per_thread: usize, faults: Faults) -> Soak {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    emu.set_faults(faults);
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .max_retries(8)
        .build()
        .unwrap();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut env: Option<Environment> = None;
                let mut agent: Option<Agent> = None;
                for i in 0..per_thread {
                    let name = format!("t{t}-{i}");
                    match (i % 8, &env, &agent) {
                        (1, Some(e), _) => {
                            let got = c.environments().retrieve(&e.id).unwrap();
                            assert_eq!((&got.id, &got.name), (&e.id, &e.name));
                        }
                        (2, Some(e), _) => {
                            let meta: std::collections::BTreeMap<String, Option<String>> =
                                [("i".to_string(), Some(i.to_string()))].into();
                            let got = c
                                .environments()
                                .update(&e.id, &EnvironmentUpdateParams::new().metadata(meta))
                                .unwrap();
                            assert_eq!(got.metadata.get("i"), Some(&i.to_string()));
                        }
                        (3, _, _) => {
                            let page = c
                                .environments()
                                .list(&EnvironmentListParams::default().limit(5))
                                .unwrap();
                            assert!(page.data.len() <= 5);
                        }
                        (4, _, _) => {
                            let a = c
                                .agents()
                                .create(&AgentCreateParams::new(name.as_str(), "claude-opus-4-5"))
                                .unwrap();
                            assert_eq!(a.name, name);
                            agent = Some(a);
                        }
                        (5, _, _) => {
                            let v = c
                                .vaults()
                                .create(&VaultCreateParams::new(name.as_str()))
                                .unwrap();
                            assert_eq!(v.display_name, name);
                        }
                        (6, _, _) => {
                            let m = c
                                .memory_stores()
                                .create(&MemoryStoreCreateParams::new(name.as_str()))
                                .unwrap();
                            assert_eq!(m.name, name);
                        }
                        (7, _, Some(a)) => {
                            let got = c.agents().retrieve(&a.id, &Default::default()).unwrap();
                            assert_eq!((&got.id, &got.name, got.version), (&a.id, &a.name, 1));
                        }
                        _ => {
                            let e = c
                                .environments()
                                .create(&EnvironmentCreateParams::cloud(name.as_str()))
                                .unwrap();
                            assert_eq!(e.name, name);
                            env = Some(e);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    Soak {
        requests: emu.requests(),
        connections: emu.connections(),
        elapsed: t0.elapsed(),
    }
}

/// 16 threads on one client over keep-alive, with 529s and dropped connections: every answer
/// right, every fault absorbed by the retries, connections reused.
#[test]
fn soak_sixteen_threads_on_one_client_keep_alive_with_faults() {
    let (threads, per_thread) = (16, 64);
    let s = soak(
        threads,
        per_thread,
        Faults {
            fail_every: 10,
            close_every: 37,
            retry_after_ms: 1,
            ..Faults::default()
        },
    );
    let asked = threads * per_thread;
    println!(
        "{} requests for {asked}, {} connections",
        s.requests, s.connections
    );
    // each 10th answer is a 529 and each 37th a drop; each is retried once more
    assert!(s.requests > asked, "{} requests for {asked}", s.requests);
    // without keep-alive every request (and every retry) would open a connection
    assert!(
        s.connections * 4 < s.requests,
        "{} connections for {} requests",
        s.connections,
        s.requests
    );
}

/// The figures for BENCHMARKS.md:
/// `cargo test --test it soak_figures -- --ignored --nocapture`
#[test]
#[ignore]
fn soak_figures_keep_alive_and_connection_close() {
    let runs = [
        ("keep-alive", 16, 313, Faults::default()),
        (
            "connection: close",
            16,
            313,
            Faults {
                no_keep_alive: true,
                ..Faults::default()
            },
        ),
        (
            "keep-alive, 529 every 10th, drop every 37th",
            50,
            400,
            Faults {
                fail_every: 10,
                close_every: 37,
                retry_after_ms: 1,
                ..Faults::default()
            },
        ),
    ];
    for (label, threads, per_thread, faults) in runs {
        let s = soak(threads, per_thread, faults);
        println!(
            "{label}: {} requests ({} asked) from {threads} threads in {:.2} s = {:.0} requests/s, {} connections",
            s.requests,
            threads * per_thread,
            s.elapsed.as_secs_f64(),
            s.requests as f64 / s.elapsed.as_secs_f64(),
            s.connections
        );
    }
}
