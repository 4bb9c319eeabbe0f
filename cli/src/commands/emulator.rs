//! `emulator`: its arguments, help and `exec`: the embedded emulator on a port, with the
//! agent's script and the faults read from files (YAML or JSON) or flags, so a program in any
//! language can test how it copes with terminations, stops, dropped streams, 529s and rate
//! limits; and, given an endpoint, the webhook events it sends. Or, given a cassette the
//! client recorded, that session replayed offline at a speed, with the same faults on top.

use crate::exit::{Exit, Failure};
use crate::output::out;
use crate::parse::duration;
use clap::Args;
use managed_agents::webhooks::SIGNING_KEY_ENV;
use managed_agents_emulator::{Cassette, Emulator, Faults, Script, WebhookEndpoint};
use serde_json::Value;
use std::time::Duration;

/// Holds the arguments of `emulator`.
#[derive(Args, Debug)]
#[command(after_help = "\
A script file is YAML or JSON: a list of steps, each one of
  {say: TEXT} | echo | think | {call_tool: {name: N, input: {...}}} | call_first_custom_tool
  {ask_confirmation: {name: N, input: {...}}} | {write_file: {name: N, content: TEXT}}
  {agent_tool: {name: N, input: {...}}} (a built-in tool a worker runs)
  fail | terminate | {pause: DURATION or MS}
  {delegate: {agent: NAME, message: TEXT, script: [STEPS]}}  (a multi-agent session: a child
  thread runs the callable agent NAME, plays its own steps and reports back)
A faults file: {drop_stream_after, drop_mid_line, trickle, stall, slow, fail_next, fail_status,
retry_after_ms, fail_every, rate_limit, rate_limit_window} (the flags of the same names;
durations as 2s or milliseconds), and close_next, close_every, no_keep_alive, fail_polls,
fail_heartbeats, stop_heartbeats, lease_ttl, skill_content_base64 (the library's Faults fields).
The rate limit is a token bucket, full at start and refilled continuously, as the API's: every
request counts (event streams too); a refused one takes nothing.

Examples:
  managed-agents emulator --port 8080 --say 'Hello' &
  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=test managed-agents agents list
  managed-agents emulator --script script.yaml --fail-next 3 --fail-status 529
  managed-agents emulator --say 'Done.' --rate-limit 60 --rate-limit-window 6s
  managed-agents emulator --webhook-url http://127.0.0.1:9000/hooks --webhook-secret whsec_...
  managed-agents emulator --cassette session.cassette.jsonl --speed 0 --drop-stream-after 3
A receiver verifies each delivery with the secret: client.beta.webhooks.unwrap(body,
headers=headers, key=SECRET) with the official Python SDK, managed_agents::webhooks::unwrap in Rust.")]
pub struct EmulatorArgs {
    /// The port on 127.0.0.1 (a free one when not given).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Refuse any `anthropic-version` or `anthropic-beta` other than the official SDKs' (a
    /// request without a version, or without its operation's beta, is refused either way).
    #[arg(long)]
    pub strict: bool,
    /// The agent's script, from a YAML or JSON file.
    #[arg(long, value_name = "FILE")]
    pub script: Option<String>,
    /// Replay a cassette the client recorded (ClientBuilder::record_to): each request gets its
    /// recorded answer; one the cassette lacks is refused naming the closest recorded one.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["script", "say"])]
    pub cassette: Option<String>,
    /// The pace of a replay's streams: 1 keeps the recorded gaps, 2 halves them, 0 plays them
    /// at once.
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "cassette")]
    pub speed: f64,
    /// A script of one message (instead of --script).
    #[arg(long, value_name = "TEXT", conflicts_with = "script")]
    pub say: Option<String>,
    /// The faults, from a YAML or JSON file (flags below override it).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<String>,
    /// Close each event stream after this many events.
    #[arg(long, value_name = "N")]
    pub drop_stream_after: Option<usize>,
    /// Cut dropped streams in the middle of a line.
    #[arg(long)]
    pub drop_mid_line: bool,
    /// Send stream bytes one at a time with this pause.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub trickle: Option<Duration>,
    /// Say nothing this long before answering.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub stall: Option<Duration>,
    /// Wait this long before each answer.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub slow: Option<Duration>,
    /// Answer this many of the next requests with --fail-status.
    #[arg(long, value_name = "N")]
    pub fail_next: Option<usize>,
    /// The status of failed answers (429 or 529).
    #[arg(long, value_name = "STATUS")]
    pub fail_status: Option<u16>,
    /// The retry-after-ms of failed answers.
    #[arg(long, value_name = "MS")]
    pub retry_after_ms: Option<u64>,
    /// Fail every N-th request.
    #[arg(long, value_name = "N")]
    pub fail_every: Option<usize>,
    /// Let at most N requests through a --rate-limit-window (a minute), as the API's
    /// requests-per-minute limits: one over it is answered 429 rate_limit_error with
    /// retry-after (whole seconds until the next may go).
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<usize>,
    /// The window of --rate-limit (default 1m; shorter scales a limit down for tests).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub rate_limit_window: Option<Duration>,
    /// POST the API's webhook events (session status changes; objects created, updated,
    /// archived, deleted) to URL, signed, each tried up to 5 times until a 2xx answer.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The signing secret of the webhook deliveries, whsec_ and base64 (default: the
    /// ANTHROPIC_WEBHOOK_SIGNING_KEY variable).
    #[arg(long, value_name = "SECRET", requires = "webhook_url")]
    pub webhook_secret: Option<String>,
}

fn read_value(path: &str) -> Result<(String, Value), Failure> {
    let src = crate::input::read(path)?;
    let v: Value = if path.ends_with(".json") {
        serde_json::from_str(&src.text)
            .map_err(|e| Failure(Exit::Usage, format!("{}:{}: {e}", src.name, e.line())))?
    } else {
        serde_norway::from_str(&src.text)
            .map_err(|e| Failure(Exit::Usage, format!("{}: {e}", src.name)))?
    };
    Ok((src.name, v))
}

/// Reads a script from a file: the library's [`Script::from_json`], the file named in its errors.
pub fn script(path: &str) -> Result<Script, Failure> {
    let (name, v) = read_value(path)?;
    Script::from_json(&v).map_err(|e| Failure(Exit::Usage, format!("{name}: {e}")))
}

/// Faults from a file: the library's [`Faults::from_json`], the file named in its errors.
pub fn faults(path: &str) -> Result<Faults, Failure> {
    let (name, v) = read_value(path)?;
    Faults::from_json(&v).map_err(|e| Failure(Exit::Usage, format!("{name}: {e}")))
}

/// Reads a cassette from a file, the file named in its errors (with the line).
pub fn cassette(path: &str) -> Result<Cassette, Failure> {
    let src = crate::input::read(path)?;
    Cassette::parse(&src.text).map_err(|e| Failure(Exit::Usage, format!("{}: {e}", src.name)))
}

/// Makes the webhook endpoint of `--webhook-url`, its secret from `--webhook-secret` or the
/// environment.
fn webhook(url: &str, secret: Option<&str>) -> Result<WebhookEndpoint, Failure> {
    let secret = match secret {
        Some(s) => s.to_string(),
        None => crate::secrets::var(SIGNING_KEY_ENV)
            .map(String::from)
            .ok_or_else(|| {
                Failure(
                    Exit::Usage,
                    format!("--webhook-url needs --webhook-secret or {SIGNING_KEY_ENV}"),
                )
            })?,
    };
    WebhookEndpoint::new(url, &secret).map_err(|e| Failure(Exit::Usage, e))
}

/// Runs `emulator`: serves until the process is ended.
pub fn exec(a: EmulatorArgs) -> Result<Exit, Failure> {
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
    f.rate_limit = a.rate_limit.unwrap_or(f.rate_limit);
    f.rate_limit_window = a.rate_limit_window.or(f.rate_limit_window);
    let webhook = match &a.webhook_url {
        Some(url) => Some(webhook(url, a.webhook_secret.as_deref())?),
        None => None,
    };
    let recorded = match &a.cassette {
        Some(p) => Some(cassette(p)?),
        None => None,
    };
    if a.speed.is_nan() || a.speed < 0.0 {
        return Err(Failure(
            Exit::Usage,
            format!("--speed {}: a speed is 0 or more", a.speed),
        ));
    }
    let addr = format!("127.0.0.1:{}", a.port);
    let replayed = recorded.as_ref().map(Cassette::len);
    let emu = match recorded {
        Some(c) => Emulator::replay_on(&addr, c),
        None => Emulator::start_on(&addr),
    }
    .map_err(|e| Failure(Exit::Api, e.to_string()))?;
    emu.set_replay_speed(a.speed);
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
    if let Some(n) = replayed {
        out(&format!(
            "replaying {n} recorded exchanges at speed {}",
            a.speed
        ));
    }
    loop {
        std::thread::park();
    }
}
