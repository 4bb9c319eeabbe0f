//! A local Managed Agents API on loopback, for tests, examples and offline development; any
//! HTTP client can use it, the official SDKs included.
//!
//! It keeps environments, agents (with versions), sessions (with the status machine `idle` →
//! `running` → `idle`/`terminated`, and usage), their events (ids, `processed_at`, pagination,
//! a live SSE stream with heartbeats and `event_deltas` previews), session resources, vaults
//! and credentials, files, memory stores with memories and memory versions, deployments and
//! their runs, skills with versions, and the work queue of self-hosted environments (items
//! queued for their sessions, long polls, leases kept by heartbeats, stops), in memory. A
//! scripted agent plays the other side (see [`Script`]; in a self-hosted session it calls
//! built-in tools a worker must run, [`Script::agent_tool`]; in a multi-agent session it
//! delegates to child threads, [`Script::delegate`]), and faults can be switched on
//! (see [`Faults`]). The emulator checks no credential: any API key, environment key or
//! sessions token is accepted.
//!
//! It also replays a session recorded by the `managed-agents` client into a [`Cassette`]
//! ([`Emulator::replay`]): each request gets its recorded answer, an event stream its recorded
//! frames at the recorded pace (or faster), faults still on top, and a request the recording
//! does not have is refused naming the closest one it has.
//!
//! Layout, from the top down (no module imports one above it): `emulator` holds the running
//! [`Emulator`]; `http` (the HTTP/1.1 server, keep-alive and the request faults; its request
//! reader is `http::request`) hands each request to `router`, which calls `sessions`, `events`,
//! `deployments` or one file per API group in `resources`, and then `route_webhooks`, which
//! posts the webhook events of the answered request; `stream` serves the live event stream.
//! When a cassette is replayed, `http` asks `replay` first (it reads the cassette in
//! `replay::cassette`, matches requests in `replay::matching` and keeps the recorded event
//! logs in `replay::log`), and `replay_stream` plays its recorded streams and downloads.
//! `agent` plays the [`Script`] with the `acts` it shares with `delegate`, which plays a child
//! thread of a multi-agent session (`multiagent` reads the roster, `threads` serves the session
//! threads, `interrupt` stops a turn). All of them reach `state` (everything kept in memory;
//! its parts `state::work` and `state::threads` never see the whole) through `shared`; below it
//! lie the generic CRUD of `store`, the request log of `contract`, the `webhooks` outbox and
//! its sender, the [`Faults`] (the rate limit's token bucket in `rate_limit`), the
//! [`Script`], what a route reads and answers (`reply`) and the bytes on the wire (`wire`).
//! `fuzz` drives a replay without a server, for the fuzz targets.
//!
//! ```
//! use managed_agents_emulator::{Emulator, Script};
//! use managed_agents::{types::*, Client};
//!
//! let emu = Emulator::start()?;
//! emu.set_script(Script::new().say("Hello from the emulator."));
//! let client = Client::builder().api_key("test").base_url(emu.base_url()).build()?;
//! let env = client.environments().create(&EnvironmentCreateParams::cloud("dev"))?;
//! let agent = client.agents().create(&AgentCreateParams::new("Echo", "claude-opus-4-5"))?;
//! let session = client.sessions().create(&SessionCreateParams::new(&agent, env.id))?;
//! let outcome = client.run(&session.id).message("Hi").until_idle()?;
//! assert_eq!(outcome.text(), "Hello from the emulator.");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod acts;
mod agent;
mod contract;
mod delegate;
mod deployments;
mod emulator;
mod events;
mod faults;
mod fuzz;
mod http;
mod interrupt;
mod multiagent;
mod multipart;
mod rate_limit;
mod replay;
mod replay_stream;
mod reply;
mod resources;
mod route_webhooks;
mod router;
mod script;
mod sessions;
mod shared;
mod state;
mod store;
mod stream;
mod threads;
mod webhooks;
mod wire;

pub use contract::{RecordedRequest, API_VERSION};
pub use emulator::{Emulator, StartError};
pub use faults::Faults;
pub use replay::cassette::{Cassette, CassetteError};
pub use replay::Unplayed;
pub use script::{Script, Step};
pub use state::work::WorkHolder;
pub use state::LIST_COST_PER_MODEL_CALL;
pub use webhooks::{__webhook_samples, WebhookEndpoint};

/// The request reader and a cassette's replay without a server, for the fuzz targets; not a
/// stable API.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::fuzz::{replay_requests, Replayed};
    pub use crate::http::request::{
        read_request, read_request_then, Limits, Request, RequestError,
    };
}
