//! The exit codes a command ends with ([`Exit`]) and the error type of commands ([`Failure`]):
//! an exit code and a one-line message, made from the library's errors.

use managed_agents::Error;
use std::process::ExitCode;

/// Names the ways a command can end, each with its documented exit status.
///
/// For a Kubernetes Job's `podFailurePolicy` (docs/kubernetes/): [`Exit::Usage`] (2) and
/// [`Exit::Budget`] (6) mean "do not retry" (the same arguments and input fail the same way
/// again, a spent budget stays spent: `FailIndex`); every other failure is retryable (an API or connection error, a signal; a batch run again resumes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// The turn ended (or the command did what it was asked).
    Ok = 0,
    /// The API refused, or the connection failed; for a batch, failures remain. Retryable.
    Api = 1,
    /// Bad arguments, input files or local paths (a batch's tasks file, --shard, --out): not
    /// retryable, the one code a Kubernetes podFailurePolicy fails the index on.
    Usage = 2,
    /// The session terminated (or was deleted).
    Terminated = 3,
    /// The deadline passed.
    Deadline = 4,
    /// The session stopped otherwise (retries exhausted, budget, refusal).
    Stopped = 5,
    /// A batch's budget is spent (`--max-cost`: tasks were left not run), or its sessions
    /// ended on their budgets and nothing else failed. Not retryable: a run again has no more
    /// money to spend; a Kubernetes podFailurePolicy fails the index on it.
    Budget = 6,
    /// SIGHUP (128 + 1, as a shell reports a process the signal ended).
    Hangup = 129,
    /// Interrupted (Ctrl-C, SIGINT: 128 + 2).
    Interrupted = 130,
    /// Standard output was closed by its reader (`| head`), as a shell reports SIGPIPE.
    BrokenPipe = 141,
    /// SIGTERM (128 + 15).
    Terminate = 143,
}

impl Exit {
    /// Lists every exit code, in order.
    #[cfg(test)]
    pub const ALL: [Exit; 11] = [
        Exit::Ok,
        Exit::Api,
        Exit::Usage,
        Exit::Terminated,
        Exit::Deadline,
        Exit::Stopped,
        Exit::Budget,
        Exit::Hangup,
        Exit::Interrupted,
        Exit::BrokenPipe,
        Exit::Terminate,
    ];

    /// Returns the exit status.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Ends the process now with this status.
    pub fn exit(self) -> ! {
        std::process::exit(self.code().into())
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// Describes a command's failure: an exit code and a one-line message.
#[derive(Debug)]
pub struct Failure(pub Exit, pub String);

impl Failure {
    /// Makes a usage failure (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure(Exit::Usage, message.into())
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::InvalidInput { .. } | Error::Io { .. } => Exit::Usage,
            Error::Timeout { .. } => Exit::Deadline,
            _ => Exit::Api,
        };
        let message = match &e {
            // the library's hint names a builder method; the CLI has no way to set it
            Error::BodyTooLarge {
                limit, request_id, ..
            } => format!(
                "the answer's body is over the limit of {limit} bytes{}",
                request_id
                    .as_ref()
                    .map_or(String::new(), |id| format!(" (request-id {id})"))
            ),
            _ => e.to_string(),
        };
        Failure(code, message)
    }
}
