//! Generates the crate's types and operations from `spec/openapi.json` into `$OUT_DIR`.
//!
//! - `types.rs`: one Rust item per component schema (structs, `type`-tagged unions with an
//!   `Unknown(Value)` catch-all, untagged unions, open string enums with an `Other(String)`
//!   catch-all), plus the zero-sized tags that stand for constant `type` values.
//! - `operations.rs`: the resource accessors (`client.sessions().events()`), one blocking
//!   method per operation (and a `_with` form taking `RequestOptions`), the query structs, and
//!   the operation table.
//!
//! The generator is deliberately plain: `build/model/` reads the spec once into a typed model
//! with serde_json, and the other modules write Rust source from it with templates, already
//! laid out as rustfmt would, so the build needs no syn, quote or prettyplease. A copy of the
//! output is checked in under `spec/generated/` (`cargo test --test generator` compares).
//! spec/README.md explains the mapping rules and why typify and progenitor are not used here.

#[path = "build/mod.rs"]
mod generator;

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=spec/openapi.json");
    println!("cargo:rerun-if-changed=spec/deprecated.json");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    let openapi = std::fs::read_to_string("spec/openapi.json").expect("read spec/openapi.json");
    let deprecated =
        std::fs::read_to_string("spec/deprecated.json").expect("read spec/deprecated.json");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut files = Vec::new();
    for (name, code) in generator::generate::generate(&openapi, &deprecated) {
        let file = Path::new(&out).join(name);
        std::fs::write(&file, code).unwrap_or_else(|e| panic!("write {name}: {e}"));
        files.push(file);
    }
    // The text is already laid out; rustfmt, when the toolchain has it, makes it exactly
    // rustfmt's, for anyone reading it in their editor. Without it the code is the same.
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let _ = std::process::Command::new(rustfmt)
        .args(["--edition", "2021"])
        .args(&files)
        .stderr(std::process::Stdio::null())
        .status();
}
