//! Generates the crate's types and operations from `spec/openapi.json` into `$OUT_DIR`.
//!
//! - `types.rs`: one Rust item per component schema (structs, `type`-tagged unions with an
//!   `Unknown(Value)` catch-all, untagged unions, open string enums with an `Other(String)`
//!   catch-all), plus the zero-sized tags that stand for constant `type` values.
//! - `operations.rs`: the resource accessors (`client.sessions().events()`), one blocking
//!   method per operation (and a `_with` form taking `RequestOptions`), the query structs, and
//!   the operation table.
//!
//! The generator is deliberately plain: it reads JSON with serde_json and writes Rust source as
//! text, already laid out as rustfmt would, so the build needs no syn, quote or prettyplease.
//! spec/README.md explains the mapping rules and why typify and progenitor are not used here.

#[path = "build/deserialize.rs"]
mod deserialize;
#[path = "build/names.rs"]
mod names;
#[path = "build/operations.rs"]
mod operations;
#[path = "build/schema.rs"]
mod schema;
#[path = "build/types.rs"]
mod types;
#[path = "build/unions.rs"]
mod unions;

use schema::Gen;
use serde_json::Value;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=spec/openapi.json");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    let text = std::fs::read_to_string("spec/openapi.json").expect("read spec/openapi.json");
    let spec: Value = serde_json::from_str(&text).expect("spec/openapi.json is not JSON");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut gen = Gen::new(&spec);
    let (ops, queries) = gen.operations();
    let types = gen.types() + &queries;
    let files = [
        Path::new(&out).join("types.rs"),
        Path::new(&out).join("operations.rs"),
    ];
    std::fs::write(&files[0], types).expect("write types.rs");
    std::fs::write(&files[1], ops).expect("write operations.rs");
    // The text is already laid out; rustfmt, when the toolchain has it, makes it exactly
    // rustfmt's, for anyone reading it in their editor. Without it the code is the same.
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let _ = std::process::Command::new(rustfmt)
        .args(["--edition", "2021"])
        .args(&files)
        .stderr(std::process::Stdio::null())
        .status();
}
