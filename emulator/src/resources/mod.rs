//! The resource groups of the API, one file each; every group keeps its objects in the generic
//! [`Table`](super::store::Table) and adds only what is its own.

pub(crate) mod agents;
pub(crate) mod deployments;
pub(crate) mod environments;
pub(crate) mod files;
pub(crate) mod memories;
pub(crate) mod memory_stores;
pub(crate) mod skills;
pub(crate) mod vaults;
pub(crate) mod work;

use super::reply::Query;

/// What a route reads of a request.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) query: &'a Query,
    pub(crate) content_type: &'a str,
    /// The `Anthropic-Worker-ID` header, which a work poll carries.
    pub(crate) worker_id: Option<&'a str>,
    pub(crate) body: &'a [u8],
}
