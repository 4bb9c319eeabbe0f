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
#![warn(missing_docs)]

pub mod builders;
pub mod client;
pub mod deadline;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod environments;
pub mod error;
mod event_helpers;
mod fields;
mod json_tag;
pub mod multipart;
mod op;
pub mod operations;
pub mod pagination;
mod path;
pub mod response;
mod retry;
pub mod runner;
pub mod sse;
pub mod stream;
mod tagged;
#[cfg(feature = "toolset")]
pub mod toolset;
mod transport;
pub mod types;
#[cfg(feature = "webhooks")]
pub mod webhooks;

pub use client::{Client, ClientBuilder, RequestOptions};
pub use deadline::Deadline;
pub use error::{Error, ErrorCode, ErrorType, Result};
pub use multipart::{Multipart, UploadFile};
pub use pagination::{AutoPaging, Page};
pub use response::Response;

/// The parsers of what a server sends, reachable by the fuzz targets; not a stable API.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::retry::{http_date, server_delay, should_retry};
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
