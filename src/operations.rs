//! The resources and their operations, generated from `spec/openapi.json`: one blocking method
//! per operation, grouped as the Python SDK groups them (`client.sessions().events().send(..)`),
//! each with a `_with` form that takes [`RequestOptions`], and the crate's table of every
//! operation.
#![allow(clippy::too_many_arguments)]

use crate::body::Body;
use crate::client::Client;
use crate::error::Result;
use crate::multipart::Multipart;
pub(crate) use crate::op::Operation;
use crate::pagination::Page;
use crate::path::path_segment;
use crate::request_options::RequestOptions;
use crate::response::Response;
#[allow(unused_imports)]
use crate::types::*;

include!(concat!(env!("OUT_DIR"), "/operations.rs"));

// the version every request sends is the spec's
const _: () = assert!(
    same(SPEC_ANTHROPIC_VERSION, crate::version::ANTHROPIC_VERSION),
    "ANTHROPIC_VERSION differs from the spec's info.x-anthropic-version"
);

/// Whether two strings are equal, at compile time.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
