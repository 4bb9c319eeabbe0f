//! The generator's own rules (names, type mapping, what each kind of schema becomes), run as
//! unit tests of the modules build.rs is made of.
#![allow(dead_code)]

#[path = "../build/deserialize.rs"]
mod deserialize;
#[path = "../build/errors.rs"]
mod errors;
#[path = "../build/names.rs"]
mod names;
#[path = "../build/operations.rs"]
mod operations;
#[path = "../build/schema.rs"]
mod schema;
#[path = "../build/types.rs"]
mod types;
#[path = "../build/unions.rs"]
mod unions;
