//! managed-agents
pub mod types {}
