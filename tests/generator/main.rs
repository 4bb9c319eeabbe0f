//! The generator's tests, one binary apart from the library's suite because it compiles the
//! build script's own sources (`build/`): its rules run as unit tests, the generated code is
//! compared with its checked-in copy (`snapshot`), and the operation table with the spec and
//! the reference list (`coverage`).
#![allow(dead_code)]

#[path = "../../build/mod.rs"]
mod generator;

mod coverage;
mod snapshot;
