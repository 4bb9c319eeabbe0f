//! The resource groups of the API that stand on their own, one file each; every group keeps
//! its objects in the generic [`Table`](super::store::Table) and adds only what is its own.
//! The groups that drive sessions (`sessions`, `events`, `deployments`) stand above them.

pub(crate) mod agents;
pub(crate) mod environments;
pub(crate) mod files;
pub(crate) mod memories;
pub(crate) mod memory_stores;
pub(crate) mod skills;
pub(crate) mod vaults;
pub(crate) mod work;
