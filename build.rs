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
#[path = "build/errors.rs"]
mod errors;
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
    println!("cargo:rerun-if-changed=spec/deprecated.json");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    let text = std::fs::read_to_string("spec/openapi.json").expect("read spec/openapi.json");
    let mut spec: Value = serde_json::from_str(&text).expect("spec/openapi.json is not JSON");
    let kept = std::fs::read_to_string("spec/deprecated.json").expect("read spec/deprecated.json");
    let kept: Value = serde_json::from_str(&kept).expect("spec/deprecated.json is not JSON");
    keep_deprecated(&mut spec, &kept["values"]);
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut gen = Gen::new(&spec);
    let (ops, queries) = gen.operations();
    let types = gen.types() + &queries + &errors::error_code_impl(&errors::error_table(&spec));
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

/// Adds the values `spec/deprecated.json` keeps to their open enums, each marked
/// `x-deprecated-values` with its note, unless the spec lists it again.
fn keep_deprecated(spec: &mut Value, kept: &Value) {
    let Some(kept) = kept.as_object() else {
        return;
    };
    for (name, values) in kept {
        let schema = &mut spec["components"]["schemas"][name.as_str()];
        let Some(list) = schema["enum"].as_array().cloned() else {
            panic!("spec/deprecated.json names {name}, which is not an enum of the spec");
        };
        let mut list = list;
        for (value, note) in values.as_object().into_iter().flatten() {
            if list.iter().any(|v| v == value) {
                continue;
            }
            list.push(Value::String(value.clone()));
            schema["x-deprecated-values"][value.as_str()] = note.clone();
        }
        schema["enum"] = Value::Array(list);
    }
}
