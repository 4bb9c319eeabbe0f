//! The `managed-agents` command end to end, as one test binary: each module runs the binary
//! against the emulator (or a scripted server) for one topic; `support` holds what they share.

mod basics;
mod batch;
mod budget;
mod definitions;
mod downloads;
mod emulator;
mod front;
mod journal;
mod output;
mod proxy;
mod rate_limit;
mod record;
mod resources;
mod retry;
mod safety;
mod sandbox;
mod secrets;
mod shard;
mod signals;
mod support;
mod telemetry;
mod tool_names;
mod tool_output;
mod worker;
mod worker_leases;
