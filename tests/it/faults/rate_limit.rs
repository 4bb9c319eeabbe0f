//! Rate limits: the emulator's 429s with `retry-after`, and the attempt hook that sees every
//! attempt of a client's calls (a shared rate limiter's place) and can have a 429 sent again
//! whatever the call's own retries say.

use managed_agents::types::*;
use managed_agents::{Attempt, AttemptHook, AttemptOutcome, Client, RetryChoice};
use managed_agents_emulator::{Emulator, Faults};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a hook saw: the operation, the retry number and how the attempt ended (`None`: before).
type Seen = (String, u32, Option<AttemptOutcome>);

/// Records every attempt; has a 429 tried again when `again`.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    again: bool,
}

impl AttemptHook for Recorder {
    fn before_attempt(&self, a: &Attempt<'_>) {
        assert!(a.path.starts_with("/v1/"), "{}", a.path);
        let mut seen = self.seen.lock().unwrap();
        seen.push((a.operation.to_string(), a.retry, None));
    }

    fn after_attempt(&self, a: &Attempt<'_>, outcome: &AttemptOutcome) -> RetryChoice {
        let mut seen = self.seen.lock().unwrap();
        seen.push((a.operation.to_string(), a.retry, Some(*outcome)));
        if self.again && outcome.is_rate_limited() {
            RetryChoice::Again
        } else {
            RetryChoice::AsPlanned
        }
    }
}

fn client(emu: &Emulator, hook: Option<Arc<Recorder>>) -> Client {
    let mut b = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .max_retries(0);
    if let Some(h) = hook {
        b = b.attempt_hook(h);
    }
    b.build().unwrap()
}

/// 2 requests a 2 s window: one more every second.
fn limited() -> Emulator {
    let emu = Emulator::start().unwrap();
    emu.set_faults(Faults {
        rate_limit: 2,
        rate_limit_window: Some(Duration::from_secs(2)),
        ..Faults::default()
    });
    emu
}

#[test]
fn a_hook_sees_every_attempt_and_can_have_a_429_sent_again() {
    let emu = limited();
    let hook = Arc::new(Recorder {
        again: true,
        ..Recorder::default()
    });
    let c = client(&emu, Some(hook.clone()));
    let started = Instant::now();
    for i in 0..3 {
        c.environments()
            .create(&EnvironmentCreateParams::cloud(format!("e{i}")))
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    // the third waited the retry-after (1 s), although the client retries nothing itself
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(emu.rate_limited(), 1);
    let seen = hook.seen.lock().unwrap().clone();
    let op = "environments.create".to_string();
    let ok = Some(AttemptOutcome::Success { status: 200 });
    let refused = Some(AttemptOutcome::Status {
        status: 429,
        retryable: true,
        server_wait: Some(Duration::from_secs(1)),
    });
    assert_eq!(
        seen,
        [
            (op.clone(), 0, None),
            (op.clone(), 0, ok),
            (op.clone(), 0, None),
            (op.clone(), 0, ok),
            (op.clone(), 0, None),
            (op.clone(), 0, refused),
            (op.clone(), 1, None),
            (op.clone(), 1, ok),
        ]
    );
    // the retry said it was one, as the official SDKs do
    let log = emu.request_log();
    let counts: Vec<_> = log
        .iter()
        .map(|q| {
            q.header("x-stainless-retry-count")
                .unwrap_or("-")
                .to_string()
        })
        .collect();
    assert_eq!(counts, ["0", "0", "0", "1"]);
    assert!(log[2].rate_limited && !log[3].rate_limited);
}

#[test]
fn without_a_say_from_the_hook_a_429_is_retried_as_the_client_plans() {
    let emu = limited();
    let hook = Arc::new(Recorder::default());
    let c = client(&emu, Some(hook.clone()));
    for i in 0..2 {
        c.environments()
            .create(&EnvironmentCreateParams::cloud(format!("e{i}")))
            .unwrap();
    }
    // max_retries(0): the 429 is the caller's
    let e = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e2"))
        .unwrap_err();
    assert!(e.is_rate_limited(), "{e}");
    assert_eq!(emu.rate_limited(), 1);
    // the clients made from it share its hook
    let worker = c.with_environment_key("envkey-1").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let _ = worker.environments().list(&Default::default());
    let seen = hook.seen.lock().unwrap();
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(seen[7].0, "environments.list");
}

#[test]
fn a_hook_sees_a_network_failure_as_failed_and_retryable() {
    // a port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = Arc::new(Recorder::default());
    let c = Client::builder()
        .api_key("k")
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(1)
        .attempt_hook(hook.clone())
        .build()
        .unwrap();
    assert!(c.agents().list(&Default::default()).is_err());
    let outcomes: Vec<_> = hook
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|s| s.2.map(|o| (s.1, o)))
        .collect();
    assert_eq!(
        outcomes,
        [
            (0, AttemptOutcome::Failed { retryable: true }),
            (1, AttemptOutcome::Failed { retryable: true })
        ]
    );
}

/// Holds every attempt 300 ms, recording what it saw.
#[derive(Default)]
struct Slow(Recorder);

impl AttemptHook for Slow {
    fn before_attempt(&self, a: &Attempt<'_>) {
        self.0.before_attempt(a);
        a.deadline.sleep(Duration::from_millis(300));
    }

    fn after_attempt(&self, a: &Attempt<'_>, outcome: &AttemptOutcome) -> RetryChoice {
        self.0.after_attempt(a, outcome)
    }
}

#[test]
fn an_attempt_held_past_its_deadline_is_told_after_too() {
    let emu = Emulator::start().unwrap();
    let hook = Arc::new(Slow::default());
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .timeout(Duration::from_millis(100))
        .attempt_hook(hook.clone())
        .build()
        .unwrap();
    let e = c.agents().list(&Default::default()).unwrap_err();
    assert!(matches!(e, managed_agents::Error::Timeout { .. }), "{e}");
    let seen = hook.0.seen.lock().unwrap().clone();
    let op = "agents.list".to_string();
    assert_eq!(
        seen,
        [
            (op.clone(), 0, None),
            (op, 0, Some(AttemptOutcome::Failed { retryable: false }))
        ]
    );
    assert_eq!(emu.requests(), 0, "nothing was sent");
}

#[test]
fn a_stream_let_go_of_while_its_opening_is_held_is_not_opened() {
    // failed before: the opening went out once the hook let it go, though the stream's
    // caller had given up on it (a rate limiter's held request spent for nothing)
    let emu = Emulator::start().unwrap();
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let session = crate::support::emulated::cloud_session(&c, None);
    let hook = Arc::new(Slow::default());
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .attempt_hook(hook.clone())
        .build()
        .unwrap();
    let before = emu.requests();
    let cancel = managed_agents::StopSignal::new();
    let opts = managed_agents::StreamOptions::new()
        .cancel(cancel.clone())
        .from_beginning();
    let setter = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cancel.set();
        })
    };
    let e = c.sessions().events().stream(&session.id, opts).unwrap_err();
    setter.join().unwrap();
    assert!(
        e.to_string().contains("cancelled before it was sent"),
        "{e}"
    );
    assert_eq!(emu.requests(), before, "nothing was sent");
    // the hook was told how the held attempt ended
    let seen = hook.0.seen.lock().unwrap().clone();
    assert_eq!(
        seen.last().map(|s| s.2),
        Some(Some(AttemptOutcome::Failed { retryable: false }))
    );
}
