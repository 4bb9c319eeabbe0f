//! The running emulator ([`Emulator`]): it starts the server on its own thread, sets the
//! script, faults, webhook endpoint and strictness the server follows, reads what the server
//! saw, and stops it when dropped.

use crate::agent;
use crate::contract::RecordedRequest;
use crate::faults::Faults;
use crate::http;
use crate::replay::cassette::Cassette;
use crate::replay::{Replay, Unplayed};
use crate::script::Script;
use crate::shared::Shared;
use crate::state::{work::WorkHolder, State};
use crate::webhooks::{self, WebhookEndpoint};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A running emulator; dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
    base_url: String,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Why the emulator could not start.
#[derive(Debug)]
pub struct StartError(String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the emulator could not start: {}", self.0)
    }
}

impl std::error::Error for StartError {}

impl Emulator {
    /// Starts on a free port of 127.0.0.1.
    pub fn start() -> Result<Emulator, StartError> {
        Emulator::start_on("127.0.0.1:0")
    }

    /// Starts on an address (`127.0.0.1:8080`).
    pub fn start_on(addr: &str) -> Result<Emulator, StartError> {
        let listener =
            std::net::TcpListener::bind(addr).map_err(|e| StartError(format!("{addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| StartError(e.to_string()))?;
        let host = if local.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            local.ip().to_string()
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stopped: AtomicBool::new(false),
            heartbeat: Duration::from_secs(1),
            thinking_us: AtomicU64::new(agent::THINKING.as_micros() as u64),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("emulator".into())
                .spawn(move || http::serve(&listener, &shared))
                .map_err(|e| StartError(e.to_string()))?
        };
        Ok(Emulator {
            shared,
            addr: local,
            base_url: format!("http://{host}:{}", local.port()),
            thread: Some(thread),
        })
    }

    /// Starts on a free port of 127.0.0.1, answering with a recorded session: each request
    /// gets the answer the cassette recorded for it, an event stream its recorded frames
    /// with their recorded gaps (see [`set_replay_speed`](Self::set_replay_speed)).
    ///
    /// A request is matched by its method, path, query and JSON body (ids, UUIDs and
    /// timestamps in the body compared as placeholders, a secret the recording took out
    /// matching anything), taking the earliest recorded exchange not served yet, so the
    /// exchanges of one resource are served in their recorded order. One that nothing fits is
    /// refused with `400 invalid_request_error`, whose message names the closest recorded
    /// request and how it differs (see [`set_replay_strict`](Self::set_replay_strict)).
    /// Faults still apply: a retried request gets the recorded answer, and a stream cut by a
    /// fault goes on where it was cut on the client's next connection, while the listings a
    /// reconnect makes are answered from the events shown so far.
    ///
    /// ```
    /// use managed_agents_emulator::{Cassette, Emulator};
    ///
    /// let cassette = Cassette::parse(concat!(
    ///     r#"{"kind":"header","format":"managed-agents-cassette","version":1,"client":"x","base_url":"http://x"}"#, "\n",
    ///     r#"{"kind":"exchange","id":1,"method":"GET","path":"/v1/agents/agent_011AAAAAAAA1","query":[],"request_body":null,"status":200,"response_headers":{},"body":{"id":"agent_011AAAAAAAA1","type":"agent"}}"#, "\n",
    /// ))?;
    /// let emu = Emulator::replay(cassette)?;
    /// assert_eq!(emu.unplayed().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay(cassette: Cassette) -> Result<Emulator, StartError> {
        Emulator::replay_on("127.0.0.1:0", cassette)
    }

    /// Starts on an address (`127.0.0.1:8080`), answering with a recorded session (see
    /// [`replay`](Self::replay)).
    pub fn replay_on(addr: &str, cassette: Cassette) -> Result<Emulator, StartError> {
        let emu = Emulator::start_on(addr)?;
        emu.lock().replay = Some(Replay::new(cassette));
        Ok(emu)
    }

    /// Sets the pace of a replay's streams and downloads: 1.0 keeps the recorded gaps (the
    /// default), 2.0 halves them, 0 (or infinity) plays them at once. Does nothing when the
    /// emulator replays no cassette.
    pub fn set_replay_speed(&self, speed: f64) {
        if let Some(r) = self.lock().replay.as_mut() {
            r.speed = speed;
        }
    }

    /// Sets how long a replay holds a recorded answer (or a stream's frame) for the requests it
    /// followed in the recording, when the client does not send them: at most this long
    /// (10 s by default), or the time the recording took for it at the replay's speed when
    /// that is longer. Then the request is refused with `400 invalid_request_error` (a stream
    /// gets an `error` event and ends) naming the exchange that could not be played and the
    /// request it waits for. Does nothing when the emulator replays no cassette.
    pub fn set_replay_hold(&self, hold: std::time::Duration) {
        if let Some(r) = self.lock().replay.as_mut() {
            r.hold = hold;
        }
    }

    /// Sets what a replay does with a request that no recorded exchange fits: refuse it with
    /// `400 invalid_request_error` naming the closest recorded request (`true`, the default),
    /// or let the emulator answer it as it answers without a cassette (`false`). Does nothing
    /// when the emulator replays no cassette.
    pub fn set_replay_strict(&self, strict: bool) {
        if let Some(r) = self.lock().replay.as_mut() {
            r.strict = strict;
        }
    }

    /// Returns the recorded exchanges the replay has not served yet, in the cassette's order
    /// (empty when the emulator replays no cassette): a program that replays to the end
    /// leaves none.
    pub fn unplayed(&self) -> Vec<Unplayed> {
        self.lock()
            .replay
            .as_ref()
            .map(Replay::unplayed)
            .unwrap_or_default()
    }

    /// Returns the URL to give a client (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sets the script the agent plays for every user message from now on.
    pub fn set_script(&self, script: Script) {
        self.lock().script = Some(script);
    }

    /// Sets how long the scripted agent takes before it starts a turn and before it goes on after
    /// a tool result (default 150 ms); zero measures a client's own time.
    pub fn set_thinking(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.shared.thinking_us.store(us, Ordering::Relaxed);
    }

    /// Sets the faults to inject from now on.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Sends webhook events to `endpoint` from now on (see [`WebhookEndpoint`]): session
    /// status changes and the objects created, updated, archived and deleted, signed with its
    /// secret, retried on failure, delivered by a thread of their own.
    pub fn set_webhook(&self, endpoint: WebhookEndpoint) {
        if let Err(e) = self.lock().webhooks.set(Some(endpoint)) {
            log::warn!("emulator: the webhook sender could not start: {e}");
        }
    }

    /// Sends no more webhook events (the try under way ends first).
    pub fn remove_webhook(&self) {
        let _ = self.lock().webhooks.set(None);
    }

    /// Holds clients to the exact contract of the official SDK it speaks for (off by default):
    /// a request whose `anthropic-version` is not [`API_VERSION`](crate::API_VERSION), or whose
    /// `anthropic-beta` names a beta that SDK does not send, is refused with
    /// `400 invalid_request_error`.
    /// Without it, a request with no `anthropic-version`, or without the beta its operation
    /// needs, is still refused, as the API refuses it.
    pub fn set_strict(&self, strict: bool) {
        self.lock().strict = strict;
    }

    /// Returns the requests received so far (at most the last 10,000), oldest first: method, path,
    /// query and headers, with the values of `x-api-key` and `authorization` redacted.
    pub fn request_log(&self) -> Vec<RecordedRequest> {
        self.lock().request_log.all()
    }

    /// Forgets the requests received so far.
    pub fn clear_request_log(&self) {
        self.lock().request_log.clear();
    }

    /// Returns how many requests the rate-limit fault has answered `429 rate_limit_error`
    /// (see [`Faults::rate_limit`]); each is also marked in the [`request_log`](Self::request_log).
    pub fn rate_limited(&self) -> usize {
        self.lock().rate_limited
    }

    /// Returns how many requests the emulator has answered.
    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    /// Returns every hand-out of a work item so far, oldest first: who held each item when, and
    /// when the holder's session requests arrived (see [`WorkHolder`]).
    pub fn work_holders(&self) -> Vec<WorkHolder> {
        self.lock().work.holders()
    }

    /// Returns how many connections the emulator has accepted.
    pub fn connections(&self) -> usize {
        self.lock().connections
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // wake the accept loop so that it sees the flag
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // outside the lock
        let sender = self.lock().webhooks.shut_down();
        if let Some(t) = sender {
            webhooks::finish(t);
        }
    }
}
