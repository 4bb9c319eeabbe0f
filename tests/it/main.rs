//! The library's integration tests, one binary: each module is a topic, `support` holds what
//! they share (the scripted server beside mockito, fixtures on the emulator, the work queue's
//! wire fixtures, temporary folders). Two suites stay binaries of their own: the generator's
//! (`tests/generator/`), which compiles the build script's sources, and
//! `tests/worker_cancel.rs`, which counts its process's threads.

mod support;

mod cassettes;
mod connections;
mod decoding;
mod emulator;
mod environment_worker;
mod examples;
mod faults;
mod files_and_pages;
mod lease;
mod lease_rules;
mod misread;
mod poller;
mod reliability;
mod replay;
mod roundtrip;
mod runner;
mod runner_sessions;
mod sse;
mod stream;
mod telemetry;
mod toolset;
mod unknown;
mod webhooks;
mod wire;
