//! The API version this crate speaks.

/// The `anthropic-version` header every request carries: the one the official SDK that the
/// checked-in spec was extracted from sends (`info.x-anthropic-version` of spec/openapi.json;
/// the build fails when the two differ).
pub const ANTHROPIC_VERSION: &str = "2026-10-21";
