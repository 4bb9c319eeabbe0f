//! `emulator`: the embedded emulator on a port, with the agent's script and the faults read
//! from files (YAML or JSON) or flags, so a program in any language can test how it copes with
//! terminations, stops, dropped streams and 529s; and, given an endpoint, the webhook events
//! it sends.

use crate::cli::{duration, EmulatorArgs};
use crate::{exit, out, Failure};
use managed_agents::emulator::{Emulator, Faults, Script, Step, WebhookEndpoint};
use managed_agents::webhooks::SIGNING_KEY_ENV;
use serde_json::{Map, Value};
use std::time::Duration;

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

fn text(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(String::from)
        .ok_or_else(|| format!("{what}: expected a string"))
}

fn named(v: &Value, what: &str) -> Result<(String, Value), String> {
    let m = v
        .as_object()
        .ok_or(format!("{what}: expected {{name, input}}"))?;
    if let Some(k) = m.keys().find(|k| !["name", "input"].contains(&k.as_str())) {
        return Err(format!("{what}: unknown field `{k}`"));
    }
    let name = text(
        m.get("name").unwrap_or(&Value::Null),
        &format!("{what}.name"),
    )?;
    let input = m.get("input").cloned().unwrap_or(Value::Object(Map::new()));
    Ok((name, input))
}

/// One step of a script file.
fn step(v: &Value) -> Result<Step, String> {
    if let Some(s) = v.as_str() {
        return match s {
            "echo" => Ok(Step::Echo),
            "think" => Ok(Step::Think),
            "call_first_custom_tool" => Ok(Step::CallFirstCustomTool),
            "fail" => Ok(Step::FailRetriesExhausted),
            "terminate" => Ok(Step::Terminate),
            other => Err(format!("unknown step `{other}`")),
        };
    }
    let m = v
        .as_object()
        .filter(|m| m.len() == 1)
        .ok_or("a step is a word or a mapping of one key")?;
    let (k, v) = m.iter().next().ok_or("an empty step")?;
    match k.as_str() {
        "say" => Ok(Step::Say(text(v, "say")?)),
        "pause" => {
            let d = match v {
                Value::Number(n) => n
                    .as_u64()
                    .map(Duration::from_millis)
                    .ok_or("pause: milliseconds")?,
                _ => duration(&text(v, "pause")?).map_err(|e| format!("pause: {e}"))?,
            };
            Ok(Step::Pause(d))
        }
        "call_tool" => named(v, "call_tool").map(|(name, input)| Step::CallTool { name, input }),
        "ask_confirmation" => {
            named(v, "ask_confirmation").map(|(name, input)| Step::AskConfirmation { name, input })
        }
        "write_file" => {
            let m = v
                .as_object()
                .ok_or("write_file: expected {name, content}")?;
            if let Some(k) = m
                .keys()
                .find(|k| !["name", "content"].contains(&k.as_str()))
            {
                return Err(format!("write_file: unknown field `{k}`"));
            }
            Ok(Step::WriteFile {
                name: text(m.get("name").unwrap_or(&Value::Null), "write_file.name")?,
                content: text(
                    m.get("content").unwrap_or(&Value::Null),
                    "write_file.content",
                )?
                .into_bytes(),
            })
        }
        "delegate" => {
            let m = v
                .as_object()
                .ok_or("delegate: expected {agent, message, script}")?;
            if let Some(k) = m
                .keys()
                .find(|k| !["agent", "message", "script"].contains(&k.as_str()))
            {
                return Err(format!("delegate: unknown field `{k}`"));
            }
            let mut child = Script::new();
            let steps = m.get("script").and_then(Value::as_array);
            for (i, s) in steps.into_iter().flatten().enumerate() {
                let s = step(s).map_err(|e| format!("delegate.script step {}: {e}", i + 1))?;
                child = child.step(s);
            }
            let field = |k: &str| text(m.get(k).unwrap_or(&Value::Null), &format!("delegate.{k}"));
            Ok(Step::Delegate {
                agent: field("agent")?,
                message: field("message")?,
                script: child,
            })
        }
        other => Err(format!("unknown step `{other}`")),
    }
}

/// A script from a file: a list of steps (or `{steps: [...]}`).
pub fn script(path: &str) -> Result<Script, Failure> {
    let (name, v) = read_value(path)?;
    let steps = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(m) if m.len() == 1 && m.get("steps").is_some_and(Value::is_array) => {
            m["steps"].as_array().cloned().unwrap_or_default()
        }
        _ => {
            return Err(Failure(
                exit::USAGE,
                format!("{name}: a script is a list of steps"),
            ))
        }
    };
    let mut script = Script::new();
    for (i, s) in steps.iter().enumerate() {
        let s =
            step(s).map_err(|e| Failure(exit::USAGE, format!("{name}: step {}: {e}", i + 1)))?;
        script = script.step(s);
    }
    Ok(script)
}

/// Faults from a file.
pub fn faults(path: &str) -> Result<Faults, Failure> {
    let (name, v) = read_value(path)?;
    let m = v
        .as_object()
        .ok_or_else(|| Failure(exit::USAGE, format!("{name}: faults are a mapping")))?;
    let mut f = Faults::default();
    for (k, v) in m {
        let bad =
            |what: &str| Failure(exit::USAGE, format!("{name}: field `{k}`: expected {what}"));
        let count = || {
            v.as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| bad("a number"))
        };
        let time = || match v {
            Value::Number(n) => n
                .as_u64()
                .map(Duration::from_millis)
                .ok_or_else(|| bad("milliseconds")),
            Value::String(s) => duration(s).map_err(|_| bad("a duration")),
            _ => Err(bad("a duration")),
        };
        match k.as_str() {
            "drop_stream_after" => f.drop_stream_after = Some(count()?),
            "drop_mid_line" => f.drop_mid_line = v.as_bool().ok_or_else(|| bad("true or false"))?,
            "trickle" => f.trickle = Some(time()?),
            "stall" => f.stall = Some(time()?),
            "slow" => f.slow = Some(time()?),
            "fail_next" => f.fail_next = count()?,
            "fail_status" => f.fail_status = count()? as u16,
            "retry_after_ms" => f.retry_after_ms = count()? as u64,
            "fail_every" => f.fail_every = count()?,
            _ => return Err(Failure(exit::USAGE, format!("{name}: unknown field `{k}`"))),
        }
    }
    Ok(f)
}

/// The webhook endpoint of `--webhook-url`, its secret from `--webhook-secret` or the
/// environment.
fn webhook(url: &str, secret: Option<&str>) -> Result<WebhookEndpoint, Failure> {
    let secret = match secret {
        Some(s) => s.to_string(),
        None => std::env::var(SIGNING_KEY_ENV).map_err(|_| {
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
