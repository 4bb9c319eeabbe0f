//! The resources and their operations, generated from `spec/openapi.json`: one blocking method
//! per operation, grouped as the Python SDK groups them (`client.sessions().events().send(..)`),
//! each with a `_with` form that takes [`RequestOptions`].
#![allow(clippy::too_many_arguments)]

use crate::client::{Client, RequestOptions};
use crate::error::Result;
use crate::multipart::Multipart;
use crate::pagination::Page;
use crate::path::path_segment;
use crate::response::Response;
use crate::transport::Body;
#[allow(unused_imports)]
use crate::types::*;

/// One HTTP operation of the API (the crate's own table; not public API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    /// `group.method`, as the Python SDK names it (`sessions.events.send`).
    #[allow(dead_code)]
    pub(crate) id: &'static str,
    /// The HTTP method.
    pub(crate) method: &'static str,
    /// The path template (`/v1/sessions/{session_id}/events`).
    #[allow(dead_code)]
    pub(crate) path: &'static str,
    /// The `anthropic-beta` value the operation sends.
    pub(crate) beta: &'static str,
}

/// A value that can stand in a query string.
pub(crate) trait QueryValue {
    /// The value as the query writes it.
    fn query_value(&self) -> String;
}

impl QueryValue for String {
    fn query_value(&self) -> String {
        self.clone()
    }
}

impl QueryValue for i64 {
    fn query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for f64 {
    fn query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for bool {
    fn query_value(&self) -> String {
        if *self { "true" } else { "false" }.to_string()
    }
}

include!(concat!(env!("OUT_DIR"), "/operations.rs"));
