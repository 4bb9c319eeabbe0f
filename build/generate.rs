//! The generator as a function: the spec's text in, the generated files out. build.rs writes
//! them to `OUT_DIR`; `tests/generator/` compares them with the snapshot in `spec/generated/`.

use super::errors::error_code_impl;
use super::model::Api;
use super::schema::Gen;

/// The generated files, `(file name, Rust source)`, from the text of `spec/openapi.json` and
/// `spec/deprecated.json`.
pub(crate) fn generate(openapi: &str, deprecated: &str) -> Vec<(&'static str, String)> {
    let api = Api::parse(openapi, deprecated);
    let mut gen = Gen::new(&api);
    let (operations, queries) = gen.operations();
    let types = gen.types() + &queries + &error_code_impl(&api.errors);
    vec![("types.rs", types), ("operations.rs", operations)]
}
