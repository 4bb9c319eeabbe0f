//! The client: the entry point to every resource, and what its calls share. Its
//! configuration is `builder`.

use crate::error::{Error, Result};
use crate::hook::AttemptHook;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

mod builder;
pub use builder::ClientBuilder;

/// The default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The official SDKs' default deadline for one call: 10 minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The official SDKs' default number of retries.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The default size limit of a JSON answer's body: 64 MiB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 64 * 1024 * 1024;
/// The default number of idle connections a client keeps open for reuse: 100, the official
/// Python SDK's `max_keepalive_connections`.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 100;

/// The input buffer of each connection: what one read of the socket may bring. Allocated
/// whole with the connection and kept while it is pooled, so it is most of what a connection
/// costs; a response head longer than it is refused (the transport's default is 128 KiB).
pub(crate) const INPUT_BUFFER: usize = 32 * 1024;
/// The output buffer of each connection: a request's head, and its body in pieces of at most
/// this size (the transport's default is 128 KiB).
pub(crate) const OUTPUT_BUFFER: usize = 16 * 1024;

/// A blocking client for the Managed Agents API.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`: share one across threads and they share
/// one connection pool. Resources hang off it as in the Python SDK:
/// `client.sessions().events().send(..)`.
///
/// ```no_run
/// use managed_agents::Client;
///
/// let client = Client::from_env()?;
/// let page = client.agents().list(&Default::default())?;
/// for agent in page.data {
///     println!("{} {}", agent.id, agent.name);
/// }
/// # Ok::<(), managed_agents::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) credential: Credential,
    pub(crate) base_url: String,
    /// The connection pool, event streams' connections included (see `sockets.rs`).
    pub(crate) agent: ureq::Agent,
    pub(crate) max_retries: u32,
    pub(crate) timeout: Duration,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) user_agent: String,
    pub(crate) max_body_size: u64,
    /// What sees every attempt of every call, if anything.
    pub(crate) hook: Option<Arc<dyn AttemptHook>>,
    /// Where this client's traffic is recorded, if anywhere.
    #[cfg(feature = "cassettes")]
    pub(crate) recorder: Option<Arc<crate::cassette::Recorder>>,
    /// What this client's spans record.
    #[cfg(feature = "tracing")]
    pub(crate) traces: crate::trace::TraceConfig,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field(self.inner.credential.kind(), &"<redacted>")
            .field("max_retries", &self.inner.max_retries)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

impl Client {
    /// Creates a client configured from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` (default
    /// `https://api.anthropic.com`), as the official SDKs do.
    pub fn from_env() -> Result<Client> {
        Client::builder().build()
    }

    /// Creates a builder, for everything `from_env` does not set.
    ///
    /// ```
    /// use managed_agents::Client;
    /// use std::time::Duration;
    ///
    /// let client = Client::builder()
    ///     .api_key("sk-ant-...")
    ///     .base_url("http://127.0.0.1:8080")
    ///     .max_retries(5)
    ///     .timeout(Duration::from_secs(30))
    ///     .build()?;
    /// assert!(!format!("{client:?}").contains("sk-ant"));
    /// # Ok::<(), managed_agents::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Returns the base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }
}

/// How a client authenticates: the API key as `x-api-key`, or a self-hosted environment's key
/// as `Authorization: Bearer` (and no `x-api-key`).
#[derive(Clone)]
pub(crate) enum Credential {
    ApiKey(String),
    EnvironmentKey(String),
}

impl Credential {
    /// The header that carries the credential, and its value.
    pub(crate) fn header(&self) -> (&'static str, String) {
        match self {
            Credential::ApiKey(k) => ("x-api-key", k.clone()),
            Credential::EnvironmentKey(k) => ("authorization", format!("Bearer {k}")),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Credential::ApiKey(_) => "api_key",
            Credential::EnvironmentKey(_) => "environment_key",
        }
    }
}

impl Client {
    /// Returns a client like this one (base URL, retries, deadlines, headers, connection pool) that
    /// authenticates with a self-hosted environment's key: `Authorization: Bearer <key>` and
    /// no `x-api-key`, as the work queue's endpoints (poll, ack, heartbeat, stop) require.
    /// An `authorization` or `x-api-key` header set on this client is not carried over.
    ///
    /// ```
    /// let client = managed_agents::Client::builder().api_key("sk-ant-...").build()?;
    /// let worker = client.with_environment_key("envkey-...")?;
    /// assert!(!format!("{worker:?}").contains("envkey"));
    /// # Ok::<(), managed_agents::Error>(())
    /// ```
    pub fn with_environment_key(&self, key: impl Into<String>) -> Result<Client> {
        let key = key.into();
        if key.trim().is_empty() {
            return Err(Error::invalid_input("environment_key", "must not be empty"));
        }
        #[cfg(feature = "cassettes")]
        if let Some(recorder) = &self.inner.recorder {
            recorder.learn(&key);
        }
        Ok(self.derived(|inner| {
            inner.headers = without_credentials(&inner.headers);
            inner.credential = Credential::EnvironmentKey(key);
        }))
    }
}

impl Client {
    /// A client like this one on connections of its own: [`shut_down`](Client::shut_down)
    /// fails its calls under way at once and every later one, and touches no other client.
    #[cfg(feature = "worker")]
    pub(crate) fn with_own_connections(&self) -> Client {
        self.derived(|inner| inner.agent = crate::sockets::agent(inner.agent.config().clone()))
    }

    /// Shuts this client's connections down: a call under way fails at once, and no
    /// connection is made after (for a client of [`with_own_connections`](Client::with_own_connections)).
    #[cfg(feature = "worker")]
    pub(crate) fn shut_down(&self) {
        self.inner.agent.clone().shutdown();
    }

    /// A client like this one that also sends `headers` on every call (credential headers
    /// are left out): the self-hosted worker's extra headers.
    #[cfg(feature = "worker")]
    pub(crate) fn with_headers(&self, headers: &[(String, String)]) -> Client {
        if headers.is_empty() {
            return self.clone();
        }
        self.derived(|inner| inner.headers.extend(without_credentials(headers)))
    }

    /// Returns a client like this one with `change` made to its settings.
    fn derived(&self, change: impl FnOnce(&mut Inner)) -> Client {
        let mut inner = Inner::clone(&self.inner);
        change(&mut inner);
        Client {
            inner: Arc::new(inner),
        }
    }
}

/// Headers less any that would carry another credential beside the environment key.
fn without_credentials(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("authorization") && !k.eq_ignore_ascii_case("x-api-key")
        })
        .cloned()
        .collect()
}
