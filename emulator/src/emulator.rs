//! The running emulator ([`Emulator`]): it starts the server on its own thread, sets the
//! script, faults, webhook endpoint and strictness the server follows, reads what the server
//! saw, and stops it when dropped.

use crate::agent;
use crate::contract::RecordedRequest;
use crate::faults::Faults;
use crate::http;
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
