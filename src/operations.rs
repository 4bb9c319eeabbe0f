//! The resources and their operations, generated from `spec/openapi.json`: one blocking method
//! per operation, grouped as the Python SDK groups them (`client.sessions().events().send(..)`),
//! each with a `_with` form that takes [`RequestOptions`], and the crate's table of every
//! operation.
#![allow(clippy::too_many_arguments)]

use crate::client::{Client, RequestOptions};
use crate::error::Result;
use crate::multipart::Multipart;
pub(crate) use crate::op::{Operation, QueryValue};
use crate::pagination::Page;
use crate::path::path_segment;
use crate::response::Response;
use crate::transport::Body;
#[allow(unused_imports)]
use crate::types::*;

include!(concat!(env!("OUT_DIR"), "/operations.rs"));
