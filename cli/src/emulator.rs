//! `emulator`: the embedded emulator on a port, with the agent's script and the faults read
//! from files (YAML or JSON) or flags, so a program in any language can test how it copes with
//! terminations, stops, dropped streams and 529s; and, given an endpoint, the webhook events
//! it sends.

use crate::cli::EmulatorArgs;
use crate::{exit, out, Failure};
use managed_agents::webhooks::SIGNING_KEY_ENV;
use managed_agents_emulator::{Emulator, Faults, Script, WebhookEndpoint};
use serde_json::Value;

fn read_value(path: &str) -> Result<(String, Value), Failure> {
    let src = crate::input::read(path)?;
    let v: Value = if path.ends_with(".json") {
        serde_json::from_str(&src.text)
            .map_err(|e| Failure(exit::USAGE, format!("{}:{}: {e}", src.name, e.line())))?
    } else {
        serde_norway::from_str(&src.text)
            .map_err(|e| Failure(exit::USAGE, format!("{}: {e}", src.name)))?
    };
    Ok((src.name, v))
}

/// A script from a file: the library's [`Script::from_json`], the file named in its errors.
pub fn script(path: &str) -> Result<Script, Failure> {
    let (name, v) = read_value(path)?;
    Script::from_json(&v).map_err(|e| Failure(exit::USAGE, format!("{name}: {e}")))
}

/// Faults from a file: the library's [`Faults::from_json`], the file named in its errors.
pub fn faults(path: &str) -> Result<Faults, Failure> {
    let (name, v) = read_value(path)?;
    Faults::from_json(&v).map_err(|e| Failure(exit::USAGE, format!("{name}: {e}")))
}

/// The webhook endpoint of `--webhook-url`, its secret from `--webhook-secret` or the
/// environment.
fn webhook(url: &str, secret: Option<&str>) -> Result<WebhookEndpoint, Failure> {
    let secret = match secret {
        Some(s) => s.to_string(),
        None => crate::secrets::var(SIGNING_KEY_ENV)
            .map(String::from)
            .ok_or_else(|| {
                Failure(
                    exit::USAGE,
                    format!("--webhook-url needs --webhook-secret or {SIGNING_KEY_ENV}"),
                )
            })?,
    };
    WebhookEndpoint::new(url, &secret).map_err(|e| Failure(exit::USAGE, e))
}

pub fn emulator(a: EmulatorArgs) -> Result<u8, Failure> {
    let script = match (&a.script, &a.say) {
        (Some(p), _) => Some(script(p)?),
        (None, Some(t)) => Some(Script::new().say(t.as_str())),
        (None, None) => None,
    };
    let mut f = match &a.faults {
        Some(p) => faults(p)?,
        None => Faults::default(),
    };
    if a.drop_stream_after.is_some() {
        f.drop_stream_after = a.drop_stream_after;
    }
    f.drop_mid_line |= a.drop_mid_line;
    f.trickle = a.trickle.or(f.trickle);
    f.stall = a.stall.or(f.stall);
    f.slow = a.slow.or(f.slow);
    f.fail_next = a.fail_next.unwrap_or(f.fail_next);
    f.fail_status = a.fail_status.unwrap_or(f.fail_status);
    f.retry_after_ms = a.retry_after_ms.unwrap_or(f.retry_after_ms);
    f.fail_every = a.fail_every.unwrap_or(f.fail_every);
    let webhook = match &a.webhook_url {
        Some(url) => Some(webhook(url, a.webhook_secret.as_deref())?),
        None => None,
    };
    let emu = Emulator::start_on(&format!("127.0.0.1:{}", a.port))
        .map_err(|e| Failure(exit::API, e.to_string()))?;
    if let Some(s) = script {
        emu.set_script(s);
    }
    emu.set_strict(a.strict);
    emu.set_faults(f);
    let webhook_url = webhook.as_ref().map(|w| w.url().to_string());
    if let Some(w) = webhook {
        emu.set_webhook(w);
    }
    out(&format!("emulator listening on {}", emu.base_url()));
    if let Some(url) = webhook_url {
        out(&format!("sending webhook events to {url}"));
    }
    loop {
        std::thread::park();
    }
}
