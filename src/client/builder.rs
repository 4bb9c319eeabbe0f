//! The client's configuration ([`ClientBuilder`]): key, base URL, deadlines, retries,
//! headers, the proxy choice, connection limits, the attempt hook and recording, read from the
//! environment where unset.

use super::*;

/// Configuration for a [`Client`]. Unset values come from the environment, then the defaults.
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<String>,
    environment_key: Option<String>,
    base_url: Option<String>,
    max_retries: Option<u32>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    headers: Vec<(String, String)>,
    user_agent: Option<String>,
    allow_plain_http: bool,
    max_body_size: Option<u64>,
    max_idle_connections: Option<usize>,
    proxy: ProxyChoice,
    hook: Option<Arc<dyn AttemptHook>>,
    #[cfg(feature = "cassettes")]
    record_to: Option<std::path::PathBuf>,
    #[cfg(feature = "cassettes")]
    record_redact: Vec<String>,
    #[cfg(feature = "tracing")]
    trace_content: Option<bool>,
    #[cfg(feature = "tracing")]
    trace_propagation: Option<bool>,
}

/// Which proxy a client goes through.
#[derive(Clone, Default, PartialEq, Eq)]
enum ProxyChoice {
    /// The environment's (`HTTPS_PROXY`, `ALL_PROXY`, `HTTP_PROXY`, and `NO_PROXY`), except for
    /// a loopback base URL, which is never sent through a proxy.
    #[default]
    FromEnv,
    /// None.
    Off,
    /// This URL's.
    Url(String),
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field(
                "environment_key",
                &self.environment_key.as_ref().map(|_| "<redacted>"),
            )
            .field("base_url", &self.base_url)
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .field("max_body_size", &self.max_body_size)
            .field("max_idle_connections", &self.max_idle_connections)
            .field("attempt_hook", &self.hook.is_some())
            // a proxy URL may hold a password: only whether there is one is shown
            .field(
                "proxy",
                &match &self.proxy {
                    ProxyChoice::FromEnv => "from the environment",
                    ProxyChoice::Off => "off",
                    ProxyChoice::Url(_) => "<set>",
                },
            )
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Sets the API key (default: `ANTHROPIC_API_KEY`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Authenticates with a self-hosted environment's key instead of an API key: every request
    /// carries `Authorization: Bearer <key>` and no `x-api-key`, and `ANTHROPIC_API_KEY` is
    /// not read. The work queue's endpoints (poll, ack, heartbeat, stop) take this key.
    ///
    /// ```
    /// let client = managed_agents::Client::builder().environment_key("envkey-...").build()?;
    /// assert!(!format!("{client:?}").contains("envkey-"));
    /// # Ok::<(), managed_agents::Error>(())
    /// ```
    pub fn environment_key(mut self, key: impl Into<String>) -> Self {
        self.environment_key = Some(key.into());
        self
    }

    /// Sets the base URL (default: `ANTHROPIC_BASE_URL`, then `https://api.anthropic.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets how many times a failed call is tried again (default 2).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// Sets the default deadline of one call, retries included (default 10 minutes).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Sends every request through this proxy (`http://host:port`, `https://...`,
    /// `socks5://...`, with `user:password@` if it needs one), whatever the environment says.
    ///
    /// By default a client takes its proxy from the environment (`HTTPS_PROXY`, `ALL_PROXY`,
    /// `HTTP_PROXY`, minus the hosts of `NO_PROXY`), as the official SDKs do, but never for a
    /// loopback base URL (the emulator, a local gateway): a proxy would see that traffic, API
    /// key included, in clear text, and could not reach it anyway.
    ///
    /// ```
    /// let client = managed_agents::Client::builder()
    ///     .api_key("sk-ant-...")
    ///     .proxy("http://proxy.internal:3128")
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), managed_agents::Error>(())
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Sends every request directly, never through a proxy, whatever the environment says.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Off;
        self
    }

    /// Sets the time allowed to open a connection (default: bounded by the call's deadline only).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = Some(d);
        self
    }

    /// Sets the largest JSON answer read, in bytes (default 64 MiB, [`DEFAULT_MAX_BODY_SIZE`]);
    /// a larger one is [`Error::BodyTooLarge`]. Downloads and event streams are read as they
    /// come and have no limit.
    ///
    /// ```
    /// let client = managed_agents::Client::builder()
    ///     .api_key("sk-ant-...")
    ///     .max_body_size(256 * 1024 * 1024)
    ///     .build()?;
    /// # Ok::<(), managed_agents::Error>(())
    /// ```
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = Some(bytes);
        self
    }

    /// Sets how many idle connections the client keeps open for reuse (default 100,
    /// [`DEFAULT_MAX_IDLE_CONNECTIONS`], as the official Python SDK keeps; the TypeScript SDK
    /// sets no limit). A client shared by many threads reuses a connection when one of them
    /// finishes a call; past this many idle ones, a finished call's connection is closed, and
    /// the next call opens a new one. All of them go to the one API host. 0 keeps none.
    ///
    /// ```
    /// let client = managed_agents::Client::builder()
    ///     .api_key("sk-ant-...")
    ///     .max_idle_connections(200)
    ///     .build()?;
    /// # Ok::<(), managed_agents::Error>(())
    /// ```
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.max_idle_connections = Some(n);
        self
    }

    /// Sets what sees every attempt of every call of the client, and of the clients made from
    /// it (see [`AttemptHook`]): before each attempt goes out (it may hold it back) and after
    /// it, with how it ended (it may have a failed one tried again). One hook, shared by every
    /// thread: the place for a rate limiter that slows the whole program down on 429s instead
    /// of each call retrying on its own, for metrics or for logs. The default is none: each
    /// call retries as the official SDKs do.
    pub fn attempt_hook(mut self, hook: Arc<dyn AttemptHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Sets a header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Allows a plain `http://` base URL on a host other than loopback (default: refused, so
    /// the key never crosses a network unencrypted by mistake). Loopback is always allowed.
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    /// Sets the `user-agent` (default `managed-agents-rust/VERSION`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Records every request and answer of the client (and of the clients made from it by
    /// [`Client::with_environment_key`]) into a cassette at `path`, created or truncated by
    /// [`build`](Self::build): JSON lines, one per exchange as it happens, and one per event
    /// of an event stream as it arrives, with its delay from the one before (the stream is
    /// not buffered). The API key, environment keys, credentials and tokens in bodies, and the
    /// `authorization` and `x-api-key` headers are replaced by `[REDACTED]`; see
    /// [`record_redact`](Self::record_redact) for more. Recording never changes what the
    /// caller gets: a failure to write is logged at warn. The format is in `docs/cassettes.md`.
    ///
    /// ```no_run
    /// let client = managed_agents::Client::builder()
    ///     .record_to("session.cassette.jsonl")
    ///     .record_redact(["/metadata/customer", "x-internal-token"])
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), managed_agents::Error>(())
    /// ```
    #[cfg(feature = "cassettes")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cassettes")))]
    pub fn record_to(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.record_to = Some(path.into());
        self
    }

    /// More to keep out of the cassette of [`record_to`](Self::record_to): each item is a
    /// JSON pointer (`/metadata/customer`, applied to every request body, answer body and
    /// event's data) or else a header name (request or answer). The values taken out are
    /// also replaced wherever else they show up in the cassette. Adds to what was given before.
    #[cfg(feature = "cassettes")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cassettes")))]
    pub fn record_redact<I, S>(mut self, items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.record_redact.extend(items.into_iter().map(Into::into));
        self
    }

    /// Makes the client's spans carry content (messages, tool arguments and results) or not,
    /// whatever `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE` says: the Python SDK's
    /// `open_telemetry={"traces": {"content_mode": "content"}}`. Without this the variable
    /// decides (`content` records content); by default spans carry none. See
    /// [`telemetry`](crate::telemetry).
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub fn trace_content(mut self, on: bool) -> Self {
        self.trace_content = Some(on);
        self
    }

    /// Makes the client's requests carry the trace context of their call's span (W3C
    /// `traceparent` and `tracestate`, from the injector the program installed with
    /// [`telemetry::set_trace_context_injector`](crate::telemetry::set_trace_context_injector))
    /// or not, whatever `ANTHROPIC_OPEN_TELEMETRY_PROPAGATION` says: the Python SDK's
    /// `open_telemetry={"propagation": False}`. Without this the variable decides (`false`
    /// turns it off); by default requests carry it. Turn it off when an HTTP instrumentation
    /// already sends it, so that a request does not carry it twice; the spans are the same.
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub fn trace_propagation(mut self, on: bool) -> Self {
        self.trace_propagation = Some(on);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let credential = match (self.environment_key, self.api_key) {
            (Some(k), _) if k.trim().is_empty() => {
                return Err(Error::invalid_input("environment_key", "must not be empty"))
            }
            (Some(k), _) => Credential::EnvironmentKey(k),
            (None, key) => {
                let api_key = match key {
                    Some(k) => k,
                    None => std::env::var("ANTHROPIC_API_KEY").map_err(|_| {
                        Error::invalid_input(
                            "api_key",
                            "no API key: set ANTHROPIC_API_KEY or call ClientBuilder::api_key",
                        )
                    })?,
                };
                if api_key.trim().is_empty() {
                    return Err(Error::invalid_input("api_key", "must not be empty"));
                }
                Credential::ApiKey(api_key)
            }
        };
        let headers = match credential {
            Credential::EnvironmentKey(_) => without_credentials(&self.headers),
            Credential::ApiKey(_) => self.headers,
        };
        let base_url = self
            .base_url
            .or_else(|| {
                std::env::var("ANTHROPIC_BASE_URL")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let mut base_url = base_url.trim_end_matches('/').to_string();
        // a URL's scheme is case-insensitive (RFC 3986): `HTTP://` is `http://`
        if let Some(i) = base_url.find("://") {
            let scheme = base_url[..i].to_ascii_lowercase();
            base_url.replace_range(..i, &scheme);
        }
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::invalid_input(
                "base_url",
                format!("{base_url:?} is not an http(s) URL"),
            ));
        }
        if let Some(rest) = base_url.strip_prefix("http://") {
            if !self.allow_plain_http && !is_loopback(rest) {
                return Err(Error::invalid_input(
                    "base_url",
                    format!("{base_url:?} is plain http on a host that is not loopback; use https, or allow_plain_http(true)"),
                ));
            }
        }
        let idle = self
            .max_idle_connections
            .unwrap_or(DEFAULT_MAX_IDLE_CONNECTIONS);
        let proxy = match &self.proxy {
            ProxyChoice::Off => None,
            ProxyChoice::Url(url) => Some(ureq::Proxy::new(url).map_err(|e| {
                // the message names the scheme's problem, never the URL (it may hold a password)
                Error::invalid_input("proxy", format!("is not a proxy URL ({e})"))
            })?),
            ProxyChoice::FromEnv => {
                let host = base_url.split("://").nth(1).unwrap_or("");
                if is_loopback(host) {
                    None
                } else {
                    ureq::Proxy::try_from_env()
                }
            }
        };
        let config = {
            let config = ureq::Agent::config_builder();
            #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
            let config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .build(),
            );
            config
                .proxy(proxy.clone())
                .http_status_as_error(false)
                .max_idle_connections(idle)
                .max_idle_connections_per_host(idle)
                .timeout_connect(self.connect_timeout)
                .max_redirects(0)
                .input_buffer_size(INPUT_BUFFER)
                .output_buffer_size(OUTPUT_BUFFER)
                // a head that fills the input buffer is refused as too large, not as a stall
                .max_response_header_size(INPUT_BUFFER - 1)
                .build()
        };
        // event streams too: on an idle connection of the pool when there is one (see sockets.rs)
        let agent = crate::sockets::agent(config);
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| format!("managed-agents-rust/{}", env!("CARGO_PKG_VERSION")));
        #[cfg(feature = "cassettes")]
        let recorder = match &self.record_to {
            Some(path) => {
                let key = match &credential {
                    Credential::ApiKey(k) | Credential::EnvironmentKey(k) => k.clone(),
                };
                Some(crate::cassette::Recorder::create(
                    path,
                    &base_url,
                    &self.record_redact,
                    vec![key],
                )?)
            }
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                credential,
                base_url,
                agent,
                max_retries: self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
                timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
                headers,
                user_agent,
                max_body_size: self.max_body_size.unwrap_or(DEFAULT_MAX_BODY_SIZE),
                hook: self.hook,
                #[cfg(feature = "cassettes")]
                recorder,
                #[cfg(feature = "tracing")]
                traces: crate::trace::TraceConfig::from_env(
                    self.trace_content,
                    self.trace_propagation,
                ),
            }),
        })
    }
}

/// Whether the authority of a URL (`host:port/...`) is a loopback host.
fn is_loopback(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
