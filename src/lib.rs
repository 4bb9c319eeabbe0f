//! A blocking client for the Claude Managed Agents API.
//!
//! Environments, agents, sessions, events, files, vaults, memory stores, skills and
//! deployments, from plain synchronous Rust: no async runtime, hard deadlines on every call.
//!
//! ```no_run
//! use managed_agents::{types::*, Client};
//!
//! let client = Client::from_env()?;
//! let env = client.environments().create(&EnvironmentCreateParams::cloud("my-dev-env"))?;
//! let agent = client.agents().create(
//!     &AgentCreateParams::new("Coding Assistant", "claude-opus-4-5").tool(AgentToolset20260401Params::enabled()),
//! )?;
//! let session = client.sessions().create(&SessionCreateParams::new(&agent, env.id))?;
//! client.sessions().events().send(
//!     &session.id,
//!     &EventSendParams::one(UserMessageEventParams::text("Review the auth module")),
//! )?;
//! # Ok::<(), managed_agents::Error>(())
//! ```
//!
//! # Logging and keys
//!
//! The crate logs through the [`log`](https://docs.rs/log) facade (retries, reconnections,
//! the worker's items), never a key or token. The HTTP library under it is another matter: at
//! `trace` level `ureq` and `ureq_proto` dump the raw bytes of every request, headers (the API
//! key, an environment key, a session's token) and bodies (a vault credential's token)
//! included. A program that installs a logger must keep the targets `ureq`, `ureq_proto` (and
//! `rustls`) at `debug` or below whatever else it enables: with `env_logger`, for example,
//! `Builder::filter_module("ureq", LevelFilter::Debug)` and the same for `ureq_proto` after
//! reading `RUST_LOG`, or a `log::Log` wrapper that drops their trace records. At `debug` the
//! HTTP library redacts every header but a few harmless ones and the URL's path. The
//! `managed-agents` command-line tool drops those trace records whatever `RUST_LOG` says.
//!
//! # Spans
//!
//! With the `tracing` feature the client emits spans through the
//! [`tracing`](https://docs.rs/tracing) crate, named and attributed as the official Python
//! SDK's OpenTelemetry spans: one per API call (`anthropic.sessions.create`, ...), per event
//! stream connection, per runner turn (`invoke_agent`), per tool call (`execute_tool`) and per
//! work item (`anthropic.environment.work`), with no content unless asked. The module
//! `managed_agents::telemetry` lists them; without the feature none of it is compiled.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod cancel;
#[cfg(feature = "cassettes")]
#[cfg_attr(docsrs, doc(cfg(feature = "cassettes")))]
pub mod cassette;
mod client;
mod deadline;
pub mod environments;
mod error;
mod hook;
mod multipart;
mod op;
mod operations;
mod pagination;
mod path;
mod request_options;
mod response;
mod retry;
pub mod runner;
mod sockets;
pub mod sse;
mod stream;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod telemetry;
// the toolset needs a newer Rust than the default features (globset, std::io::pipe)
#[cfg(feature = "toolset")]
#[cfg_attr(docsrs, doc(cfg(feature = "toolset")))]
#[clippy::msrv = "1.88"]
pub mod toolset;
mod trace;
mod transport;
pub mod types;
mod version;
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
pub mod webhooks;

// the generated deserializers name `crate::fields`
use types::fields;

pub use cancel::StopSignal;
pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_IDLE_CONNECTIONS,
    DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT,
};
pub use deadline::Deadline;
pub use error::{ConnectionKind, Error, ErrorCode, ErrorType, Result};
pub use hook::{Attempt, AttemptHook, AttemptOutcome, RetryChoice};
pub use multipart::{Multipart, UploadFile};
pub use operations::{
    Agents, AgentsVersions, DeploymentRuns, Deployments, Environments, EnvironmentsWork, Files,
    MemoryStores, MemoryStoresMemories, MemoryStoresMemoryVersions, Sessions, SessionsEvents,
    SessionsResources, SessionsThreads, SessionsThreadsEvents, Skills, SkillsVersions, Vaults,
    VaultsCredentials,
};
pub use pagination::{AutoPaging, Page};
pub use request_options::RequestOptions;
pub use response::Response;
pub use stream::{EventStream, StreamItem, StreamOptions, UntilIdle, MAX_RECONNECT_DELAY};
pub use version::ANTHROPIC_VERSION;

/// The parsers of what a server sends, reachable by the fuzz targets; not a stable API.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::retry::{http_date, server_delay, should_retry};
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
