//! The code generator: `spec/openapi.json` in, the crate's types and operations out.
//!
//! `model` reads the spec once into a typed model (the only module that touches JSON); the
//! others write Rust source from that model with templates (`template::fill`). `generate` is
//! the entry point that build.rs and `tests/generator/` both call.

pub(crate) mod deserialize;
pub(crate) mod errors;
pub(crate) mod generate;
pub(crate) mod model;
pub(crate) mod names;
pub(crate) mod operations;
pub(crate) mod schema;
pub(crate) mod spans;
pub(crate) mod template;
pub(crate) mod types;
pub(crate) mod unions;
