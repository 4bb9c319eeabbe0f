//! The delivery of webhook events: a thread of its own per endpoint that posts each event,
//! signed as Standard Webhooks do, in the order the events were made, trying again after a
//! failure (a connection error, a timeout, an answer other than 2xx) with a doubling pause,
//! up to the endpoint's number of tries; it stops when the emulator does.

use super::endpoint::WebhookEndpoint;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a stopping emulator waits for the try under way (a receiver that does not answer
/// is left to the try's own timeout).
pub(super) const STOP_WAIT: Duration = Duration::from_secs(2);
/// The longest pause between two tries, however many failed.
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// How much of a receiver's answer is read (the rest is not needed).
const MAX_ANSWER: u64 = 64 * 1024;
/// How many events may wait for delivery; more are dropped (a receiver that is down must not
/// make the emulator hold every event it makes).
pub(super) const QUEUE_LIMIT: usize = 10_000;

/// One event to deliver: its id (the `webhook-id` of every try) and its body.
struct Delivery {
    id: String,
    body: String,
}

/// Set when the sender must stop; waited on between tries.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    fn is_set(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self) {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }

    /// Waits `pause`, or less if the sender is stopped; `false` when stopped.
    fn pause(&self, pause: Duration) -> bool {
        let guard = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, pause, |stopped| !*stopped)
            .unwrap_or_else(|p| p.into_inner());
        !*guard
    }
}

/// The running sender of one endpoint.
pub(super) struct Sender {
    endpoint: Arc<WebhookEndpoint>,
    queue: mpsc::SyncSender<Delivery>,
    stop: Arc<Stop>,
    /// Whether a full queue was logged (once until it has room again).
    warned: AtomicBool,
    thread: Option<JoinHandle<()>>,
}

impl Sender {
    /// Starts the delivery thread of `endpoint`.
    pub(super) fn start(endpoint: WebhookEndpoint) -> std::io::Result<Sender> {
        let endpoint = Arc::new(endpoint);
        let (queue, deliveries) = mpsc::sync_channel(QUEUE_LIMIT);
        let stop = Arc::new(Stop::default());
        let thread = {
            let (endpoint, stop) = (endpoint.clone(), stop.clone());
            std::thread::Builder::new()
                .name("emulator webhooks".into())
                .spawn(move || deliver_all(&endpoint, &deliveries, &stop))?
        };
        Ok(Sender {
            endpoint,
            queue,
            stop,
            warned: AtomicBool::new(false),
            thread: Some(thread),
        })
    }

    /// Returns the endpoint it delivers to.
    pub(super) fn endpoint(&self) -> &WebhookEndpoint {
        &self.endpoint
    }

    /// Queues an event; never waits. `false` when it was dropped: [`QUEUE_LIMIT`] events
    /// already wait (logged once until the queue has room again).
    pub(super) fn post(&self, id: String, body: String) -> bool {
        // the thread only ends once stopped, when nothing is posted any more
        match self.queue.try_send(Delivery { id, body }) {
            Ok(()) => {
                self.warned.store(false, Ordering::Relaxed);
                true
            }
            Err(mpsc::TrySendError::Full(d)) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "emulator: {QUEUE_LIMIT} webhook events wait for {}; dropping {} and \
                         any more until the queue has room",
                        self.endpoint.url,
                        d.id
                    );
                }
                false
            }
            Err(mpsc::TrySendError::Disconnected(_)) => false,
        }
    }

    /// Stops sending: no try begins after this. The thread, to join when it has ended.
    pub(super) fn stop(mut self) -> Option<JoinHandle<()>> {
        self.stop.set();
        self.thread.take()
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.stop.set();
    }
}

fn deliver_all(endpoint: &WebhookEndpoint, deliveries: &mpsc::Receiver<Delivery>, stop: &Stop) {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(endpoint.timeout))
        .user_agent(format!(
            "managed-agents-emulator/{}",
            env!("CARGO_PKG_VERSION")
        ));
    let agent = config.build().new_agent();
    let hook = &endpoint.secret;
    // the queue ends when the sender is dropped; a stop ends it before
    while let Ok(delivery) = deliveries.recv() {
        if stop.is_set() {
            return;
        }
        deliver(&agent, hook, endpoint, &delivery, stop);
    }
}

/// Tries one delivery until it is accepted, the tries run out, or the sender is stopped.
fn deliver(
    agent: &ureq::Agent,
    hook: &super::signing::SigningKey,
    endpoint: &WebhookEndpoint,
    d: &Delivery,
    stop: &Stop,
) {
    let mut pause = endpoint.backoff;
    for attempt in 1..=endpoint.max_attempts {
        let failure = match try_once(agent, hook, endpoint, d) {
            Ok(()) => {
                log::debug!("emulator: webhook {} delivered (try {attempt})", d.id);
                return;
            }
            Err(failure) => failure,
        };
        if attempt == endpoint.max_attempts {
            log::warn!(
                "emulator: webhook {} to {} given up after {attempt} tries: {failure}",
                d.id,
                endpoint.url
            );
            return;
        }
        log::debug!(
            "emulator: webhook {} try {attempt}: {failure}; again in {pause:?}",
            d.id
        );
        if !stop.pause(pause) {
            return;
        }
        pause = pause.saturating_mul(2).min(MAX_PAUSE);
    }
}

/// Posts the event once, signed now; why it failed, if it did.
fn try_once(
    agent: &ureq::Agent,
    hook: &super::signing::SigningKey,
    endpoint: &WebhookEndpoint,
    d: &Delivery,
) -> Result<(), String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|t| t.as_secs() as i64)
        .unwrap_or(0);
    let mut request = agent
        .post(&endpoint.url)
        .header("content-type", "application/json");
    for (name, value) in hook.signed_headers(&d.id, now, &d.body) {
        request = request.header(name, value);
    }
    let mut answer = request.send(d.body.as_bytes()).map_err(|e| e.to_string())?;
    // read what little the receiver says, so that the connection can be used again
    let _ = answer
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_vec();
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_beyond_the_limit_wait_no_more() {
        // a receiver that takes the connection and never answers: the first try hangs
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/h", listener.local_addr().unwrap());
        let endpoint = WebhookEndpoint::new(&url, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap()
            .timeout(Duration::from_secs(5));
        let sender = Sender::start(endpoint).unwrap();
        let dropped = (0..QUEUE_LIMIT + 2)
            .filter(|i| !sender.post(format!("msg_{i}"), "{}".into()))
            .count();
        // one may have been taken off the queue for its try meanwhile
        assert!((1..=2).contains(&dropped), "{dropped} dropped");
        drop(sender);
    }
}
