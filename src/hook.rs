//! The attempt hook ([`AttemptHook`]): what a client tells its caller about every attempt of
//! every call (before it goes out, and how it ended) and the caller's say on trying it again.
//! The client sets it with [`ClientBuilder::attempt_hook`](crate::ClientBuilder::attempt_hook);
//! the transport calls it inside its retry loop, once per attempt, as the official Python
//! SDK's middleware runs. Shared by every thread of the client, it is the place for what
//! spans calls: a rate limiter that slows a whole program down on 429s, metrics, logs.

use crate::cancel::StopSignal;
use crate::deadline::Deadline;
use std::time::Duration;

/// One attempt of a call, as an [`AttemptHook`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Attempt<'a> {
    /// The operation, as the official Python SDK names it (`sessions.events.send`).
    pub operation: &'a str,
    /// The HTTP method (`POST`).
    pub method: &'a str,
    /// The path, its ids filled in (`/v1/sessions/sesn_011CZx/events`).
    pub path: &'a str,
    /// The retries before this attempt: 0 for the first (the `x-stainless-retry-count` it
    /// sends).
    pub retry: u32,
    /// The call's deadline, retries included: a hook that waits should wait no longer.
    pub deadline: Deadline,
    /// The caller's signal that it no longer wants the answer, if it gave one.
    pub(crate) cancel: Option<&'a StopSignal>,
}

impl<'a> Attempt<'a> {
    /// Makes an attempt as the client makes one: to test a hook with.
    ///
    /// ```
    /// use managed_agents::{Attempt, Deadline};
    ///
    /// let a = Attempt::new("sessions.create", "POST", "/v1/sessions", 0, Deadline::never());
    /// assert_eq!((a.operation, a.retry), ("sessions.create", 0));
    /// ```
    pub fn new(
        operation: &'a str,
        method: &'a str,
        path: &'a str,
        retry: u32,
        deadline: Deadline,
    ) -> Attempt<'a> {
        Attempt {
            operation,
            method,
            path,
            retry,
            deadline,
            cancel: None,
        }
    }

    /// Returns whether the caller no longer wants the answer (an event stream let go of
    /// before it opened): a hook that waits should stop waiting, and the client will not
    /// send the attempt.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_some_and(StopSignal::is_set)
    }
}

/// How an attempt ended, as an [`AttemptHook`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// An answer with a success status (2xx); a stream's or download's body is still to come.
    Success {
        /// The status.
        status: u16,
    },
    /// An answer with an error status.
    Status {
        /// The status (`429`).
        status: u16,
        /// Whether the official SDKs try it again: `x-should-retry` when the answer has it,
        /// else 408, 409, 429 and 5xx.
        retryable: bool,
        /// The wait the server asked for (`retry-after-ms`, then `retry-after` in seconds or
        /// as an HTTP date), when more than 0 (cut to about 49.7 days, as the official SDKs cut it).
        server_wait: Option<Duration>,
    },
    /// No answer the client could take: the network failed (`retryable`: connecting,
    /// sending, reading), or something no retry mends (a body over the size limit, a file of
    /// the upload that cannot be read).
    Failed {
        /// Whether the client tries it again (a network failure, with time left).
        retryable: bool,
    },
}

impl AttemptOutcome {
    /// Returns whether the server refused the attempt for a rate limit: a 429 answer the server
    /// lets the client try again (not `x-should-retry: false`).
    ///
    /// ```
    /// use managed_agents::AttemptOutcome;
    ///
    /// let limited = AttemptOutcome::Status { status: 429, retryable: true, server_wait: None };
    /// assert!(limited.is_rate_limited());
    /// assert!(!AttemptOutcome::Success { status: 200 }.is_rate_limited());
    /// ```
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self,
            AttemptOutcome::Status {
                status: 429,
                retryable: true,
                ..
            }
        )
    }
}

/// What the client does after an attempt that failed, as an [`AttemptHook`] chooses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryChoice {
    /// As the client plans it: the official SDKs' rule (a retryable failure, while retries
    /// are left; see [`ClientBuilder::max_retries`](crate::ClientBuilder::max_retries)).
    #[default]
    AsPlanned,
    /// Try it again whatever the retries left and the status say, after the server's wait
    /// (else the backoff), while the call's deadline allows and its body can be sent again.
    /// Only for an attempt that certainly did nothing, such as a 429 (the API acts on no
    /// request it refuses for a rate limit): a call sent once on purpose (the runner's user
    /// message is, with `max_retries(0)`) is then sent again.
    Again,
}

/// Sees every attempt of every call of a client, and may hold one back or have a failed one
/// tried again. Set with [`ClientBuilder::attempt_hook`](crate::ClientBuilder::attempt_hook);
/// the clients made from that one ([`Client::with_environment_key`](crate::Client::with_environment_key))
/// share it. Both methods run on the calling thread, inside the call (and its deadline):
/// keep them quick, or bounded by [`Attempt::deadline`] when they wait.
///
/// A hook that slows the whole program down when the API rate-limits it, where each call
/// alone would retry on its own (the `batch` command's controller does this, and more):
///
/// ```
/// use managed_agents::{Attempt, AttemptHook, AttemptOutcome, Client, RetryChoice};
/// use std::sync::{Arc, Mutex};
/// use std::time::{Duration, Instant};
///
/// /// Holds every request until the latest 429's `retry-after` has passed.
/// #[derive(Default)]
/// struct Hold(Mutex<Option<Instant>>);
///
/// impl AttemptHook for Hold {
///     fn before_attempt(&self, attempt: &Attempt<'_>) {
///         let until = *self.0.lock().unwrap();
///         if let Some(wait) = until.and_then(|u| u.checked_duration_since(Instant::now())) {
///             attempt.deadline.sleep(wait);
///         }
///     }
///
///     fn after_attempt(&self, _: &Attempt<'_>, outcome: &AttemptOutcome) -> RetryChoice {
///         if let AttemptOutcome::Status { server_wait, .. } = outcome {
///             if outcome.is_rate_limited() {
///                 let wait = server_wait.unwrap_or(Duration::from_secs(1));
///                 *self.0.lock().unwrap() = Some(Instant::now() + wait);
///                 // refused, so not acted on: safe to send again, however often
///                 return RetryChoice::Again;
///             }
///         }
///         RetryChoice::AsPlanned
///     }
/// }
///
/// let client = Client::builder()
///     .api_key("sk-ant-...")
///     .attempt_hook(Arc::new(Hold::default()))
///     .build()?;
/// # let _ = client;
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub trait AttemptHook: Send + Sync {
    /// Runs before each attempt goes out (the first and every retry, after the retry's wait);
    /// may block, as long as [`Attempt::deadline`] allows. Does nothing by default.
    fn before_attempt(&self, attempt: &Attempt<'_>) {
        let _ = attempt;
    }

    /// Runs after each attempt, with how it ended, and says what to do after a failure
    /// (ignored after a success, and after a failure no retry mends). Every
    /// [`before_attempt`](Self::before_attempt) has its `after_attempt`, on the same thread,
    /// before the next attempt: one that ends before it is sent (the deadline passed while the
    /// hook held it) ends [`Failed`](AttemptOutcome::Failed) and not retryable. By default,
    /// [`RetryChoice::AsPlanned`].
    fn after_attempt(&self, attempt: &Attempt<'_>, outcome: &AttemptOutcome) -> RetryChoice {
        let _ = (attempt, outcome);
        RetryChoice::AsPlanned
    }
}
