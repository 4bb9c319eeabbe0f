//! The API client of the commands that call the API with the API key: made from the key taken
//! at start and `ANTHROPIC_BASE_URL`, its errors said in the command line's terms.

use crate::exit::{Exit, Failure};
use crate::secrets;
use managed_agents::{AttemptHook, Error};
use std::sync::Arc;

/// Makes a client from the API key taken at start and `ANTHROPIC_BASE_URL`; a missing key is a
/// usage error.
pub fn client() -> Result<managed_agents::Client, Failure> {
    client_with(None)
}

/// Makes a client as [`client`] does, with an attempt hook that sees all of its requests (the
/// batch's rate-limit controller).
pub fn client_with(hook: Option<Arc<dyn AttemptHook>>) -> Result<managed_agents::Client, Failure> {
    let mut builder = managed_agents::Client::builder();
    if let Some(hook) = hook {
        builder = builder.attempt_hook(hook);
    }
    if let Some(key) = secrets::var(secrets::API_KEY_VAR) {
        builder = builder.api_key(key);
    }
    builder.build().map_err(|e| match e {
        // said in the CLI's terms: the variable it came from, no builder method
        Error::InvalidInput { param, message, .. } if param == "base_url" => Failure(
            Exit::Usage,
            format!(
                "ANTHROPIC_BASE_URL: {}",
                message.trim_end_matches(", or allow_plain_http(true)")
            ),
        ),
        e => Failure::from(e),
    })
}
