//! Runs the embedded emulator for any client: `cargo run --example emulator -- --port 8080`,
//! then point a client's base URL at it (any API key works). `--help` says how; with
//! `--webhook-url URL --webhook-secret whsec_...` it also sends the API's webhook events.

use managed_agents_emulator::{Emulator, Faults, Script, WebhookEndpoint};

const HELP: &str = "\
usage: emulator [--port PORT] [--strict] [--script FILE] [--faults FILE]
                [--webhook-url URL [--webhook-secret SECRET]]

A local Managed Agents API on 127.0.0.1 (a free port when none is given), for tests and
offline development. Any API key is accepted.

  --port PORT     listen on this port
  --strict        refuse any anthropic-version or anthropic-beta other than the official
                  SDKs' (a request without a version, or without the beta its operation
                  needs, is refused either way)
  --script FILE   what the agent does with each user message: a JSON list of steps, e.g.
                  [\"echo\", {\"say\": \"done\"}, {\"call_tool\": {\"name\": \"t\", \"input\": {}}},
                   {\"write_file\": {\"name\": \"a.txt\", \"content\": \"x\"}}, \"terminate\"]
                  (default: echo the message, call the agent's first custom tool); in a
                  multi-agent session {\"delegate\": {\"agent\": \"NAME\", \"message\": \"...\",
                  \"script\": [...]}} runs a child thread of the callable agent NAME
  --faults FILE   faults to inject: a JSON object, e.g.
                  {\"fail_every\": 10, \"drop_stream_after\": 50, \"drop_mid_line\": true,
                   \"trickle_ms\": 5, \"stall_ms\": 2000, \"close_every\": 20}
  --webhook-url URL
                  POST the API's webhook events to URL: session status changes
                  (session.status_run_started, session.status_idled, ...) and objects created,
                  updated, archived and deleted; thin payloads, signed as Standard Webhooks do,
                  each tried up to 5 times (a pause doubling from 200 ms) until a 2xx answer
  --webhook-secret SECRET
                  the signing secret of those deliveries, whsec_<base64> (default: the
                  ANTHROPIC_WEBHOOK_SIGNING_KEY variable); a receiver verifies them with it, e.g.
                  client.beta.webhooks.unwrap(body, headers=headers, key=SECRET) in Python

Point any SDK at it with the two variables it prints:
  export ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=emulator
The official Python SDK (anthropic.Anthropic()) and TypeScript SDK (new Anthropic()) read
both from the environment; or pass base_url=... (Python) / baseURL: ... (TypeScript).";

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 0u16;
    let mut script = None;
    let mut faults = None;
    let mut webhook_url = None;
    let mut webhook_secret = None;
    let mut strict = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--strict" => strict = true,
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => fail("--port needs a number"),
            },
            "--script" => {
                let v = read_json(args.next(), "--script");
                script =
                    Some(Script::from_json(&v).unwrap_or_else(|e| fail(&format!("--script: {e}"))));
            }
            "--faults" => {
                let v = read_json(args.next(), "--faults");
                faults =
                    Some(Faults::from_json(&v).unwrap_or_else(|e| fail(&format!("--faults: {e}"))));
            }
            "--webhook-url" => match args.next() {
                Some(u) => webhook_url = Some(u),
                None => fail("--webhook-url needs a URL"),
            },
            "--webhook-secret" => match args.next() {
                Some(s) => webhook_secret = Some(s),
                None => fail("--webhook-secret needs a secret"),
            },
            "-h" | "--help" => {
                println!("{HELP}");
                return;
            }
            other => fail(&format!("unknown argument {other:?} (see --help)")),
        }
    }
    let webhook = match (webhook_url, webhook_secret) {
        (Some(url), secret) => {
            let secret = secret
                .or_else(|| std::env::var("ANTHROPIC_WEBHOOK_SIGNING_KEY").ok())
                .unwrap_or_else(|| {
                    fail("--webhook-url needs --webhook-secret or ANTHROPIC_WEBHOOK_SIGNING_KEY")
                });
            Some(WebhookEndpoint::new(&url, &secret).unwrap_or_else(|e| fail(&e)))
        }
        (None, Some(_)) => fail("--webhook-secret needs --webhook-url"),
        (None, None) => None,
    };
    let emu = match Emulator::start_on(&format!("127.0.0.1:{port}")) {
        Ok(e) => e,
        Err(e) => fail(&e.to_string()),
    };
    emu.set_strict(strict);
    if let Some(s) = script {
        emu.set_script(s);
    }
    if let Some(f) = faults {
        emu.set_faults(f);
    }
    let webhook_url = webhook.as_ref().map(|w| w.url().to_string());
    if let Some(w) = webhook {
        emu.set_webhook(w);
    }
    println!("emulator listening on {}", emu.base_url());
    println!(
        "export ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=emulator",
        emu.base_url()
    );
    if let Some(url) = webhook_url {
        println!("sending webhook events to {url}");
    }
    // runs until the process is stopped
    loop {
        std::thread::park();
    }
}

/// The JSON in the file that follows an option.
fn read_json(path: Option<String>, option: &str) -> serde_json::Value {
    let path = path.unwrap_or_else(|| fail(&format!("{option} needs a file")));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| fail(&format!("{option} {path}: {e}")));
    serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("{option} {path}: not JSON: {e}")))
}

fn fail(message: &str) -> ! {
    eprintln!("emulator: {message}");
    std::process::exit(2);
}
