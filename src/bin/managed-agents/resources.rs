//! The resource commands (`agents`, `environments`, `sessions`, `files`, `vaults`) and
//! `emulator`.

use crate::args::{Args, Usage};
use crate::{client, exit, out, print_json, Failure};
use managed_agents::stream::StreamOptions;
use managed_agents::types::*;
use managed_agents::UploadFile;
use serde::de::DeserializeOwned;
use std::path::Path;

fn help(group: &str) -> String {
    let create = match group {
        "agents" => "  create FILE       create from a YAML or JSON definition (name, model, system, tools, ...)\n",
        "environments" => "  create FILE       create from a YAML or JSON definition (name, config, ...)\n",
        "sessions" => "  create FILE       create from a YAML or JSON definition (agent, environment_id, ...)\n",
        "vaults" => "  create FILE       create from a YAML or JSON definition (display_name, metadata)\n",
        _ => "",
    };
    let extra = match group {
        "sessions" => "  events ID [--follow]   the session's events as JSON lines; --follow streams new ones\n",
        "files" => "  list [--scope ID] | upload PATH | download ID [--out PATH]\n",
        _ => "",
    };
    let delete = if group == "agents" {
        ""
    } else {
        "  delete ID\n"
    };
    format!(
        "Usage: managed-agents {group} <list|get|create|archive|delete> ...\n\n  list              every one, as JSON (all pages)\n  get ID\n{create}  archive ID\n{delete}{extra}\nExamples:\n  managed-agents {group} list\n  managed-agents {group} get ID\n"
    )
}

/// Reads a definition file as YAML or JSON into the request type; errors name the file.
fn definition<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure(exit::USAGE, format!("{path}: {e}")))?;
    let is_json = Path::new(path).extension().is_some_and(|e| e == "json")
        || text.trim_start().starts_with('{');
    if is_json {
        serde_json::from_str(&text)
            .map_err(|e| Failure(exit::USAGE, format!("{path}: not a valid definition: {e}")))
    } else {
        serde_norway::from_str(&text)
            .map_err(|e| Failure(exit::USAGE, format!("{path}: not a valid definition: {e}")))
    }
}

fn list_all<T: serde::Serialize>(page: managed_agents::Page<T>) -> Result<u8, Failure> {
    let mut all = Vec::new();
    for item in page {
        all.push(item?);
    }
    print_json(&all)
}

pub fn command(group: &str, argv: &[String]) -> Result<u8, Failure> {
    if argv.iter().any(|a| a == "--help" || a == "-h") || argv.is_empty() {
        out(help(group).trim_end());
        return Ok(if argv.is_empty() {
            exit::USAGE
        } else {
            exit::OK
        });
    }
    let a = Args::parse(argv, &["scope", "out"], &["follow"])?;
    let verb = a.positional(0, "a subcommand (list, get, create, archive, delete)")?;
    let id = || a.positional(1, "an ID");
    let c = client()?;
    match (group, verb) {
        ("agents", "list") => list_all(c.agents().list(&Default::default())?),
        ("agents", "get") => print_json(&c.agents().retrieve(id()?, &Default::default())?),
        ("agents", "create") => print_json(&c.agents().create(
            &definition::<AgentCreateParams>(a.positional(1, "a FILE")?)?,
        )?),
        ("agents", "archive") => print_json(&c.agents().archive(id()?)?),
        ("environments", "list") => list_all(c.environments().list(&Default::default())?),
        ("environments", "get") => print_json(&c.environments().retrieve(id()?)?),
        ("environments", "create") => print_json(&c.environments().create(&definition::<
            EnvironmentCreateParams,
        >(
            a.positional(1, "a FILE")?,
        )?)?),
        ("environments", "archive") => print_json(&c.environments().archive(id()?)?),
        ("environments", "delete") => print_json(&c.environments().delete(id()?)?),
        ("sessions", "list") => list_all(c.sessions().list(&Default::default())?),
        ("sessions", "get") => print_json(&c.sessions().retrieve(id()?)?),
        ("sessions", "create") => {
            print_json(&c.sessions().create(&definition::<SessionCreateParams>(
                a.positional(1, "a FILE")?,
            )?)?)
        }
        ("sessions", "archive") => print_json(&c.sessions().archive(id()?)?),
        ("sessions", "delete") => print_json(&c.sessions().delete(id()?)?),
        ("sessions", "events") => {
            let id = id()?;
            let stream = if a.has("follow") {
                Some(
                    c.sessions()
                        .events()
                        .stream(id, StreamOptions::new().idle(None))?,
                )
            } else {
                None
            };
            for ev in c.sessions().events().list(id, &Default::default())? {
                out(&serde_json::to_string(&ev?).unwrap_or_default());
            }
            if let Some(stream) = stream {
                for ev in stream {
                    out(&serde_json::to_string(&ev?).unwrap_or_default());
                }
            }
            Ok(exit::OK)
        }
        ("files", "list") => {
            let mut p = FileListParams::default();
            p.scope_id = a.get("scope").map(String::from);
            list_all(c.files().list(&p)?)
        }
        ("files", "get") => print_json(&c.files().retrieve_metadata(id()?)?),
        ("files", "upload") => print_json(
            &c.files()
                .upload(UploadFile::path(a.positional(1, "a PATH")?)?)?,
        ),
        ("files", "download") => {
            let id = id()?;
            let meta = c.files().retrieve_metadata(id)?;
            let out = a.get("out").map(String::from).unwrap_or(meta.filename);
            let n = c.files().download(id)?.copy_to_path(&out)?;
            eprintln!("{n} bytes to {out}");
            Ok(exit::OK)
        }
        ("files", "delete") => print_json(&c.files().delete(id()?)?),
        ("vaults", "list") => list_all(c.vaults().list(&Default::default())?),
        ("vaults", "get") => print_json(&c.vaults().retrieve(id()?)?),
        ("vaults", "create") => print_json(&c.vaults().create(
            &definition::<VaultCreateParams>(a.positional(1, "a FILE")?)?,
        )?),
        ("vaults", "archive") => print_json(&c.vaults().archive(id()?)?),
        ("vaults", "delete") => print_json(&c.vaults().delete(id()?)?),
        (g, v) => Err(Usage(format!(
            "{g} has no subcommand {v:?}; see managed-agents {g} --help"
        ))
        .into()),
    }
}

pub fn emulator(argv: &[String]) -> Result<u8, Failure> {
    if argv.iter().any(|a| a == "--help" || a == "-h") {
        out("Usage: managed-agents emulator [--port P]\n\nRuns the embedded emulator on 127.0.0.1 (a free port when none is given) until stopped.\n\nExample:\n  managed-agents emulator --port 8080 &\n  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=test managed-agents agents list");
        return Ok(exit::OK);
    }
    let a = Args::parse(argv, &["port"], &[])?;
    let port = a.number("port")?.unwrap_or(0);
    let emu = managed_agents::emulator::Emulator::start_on(&format!("127.0.0.1:{port}"))
        .map_err(|e| Failure(exit::API, e.to_string()))?;
    out(&format!("emulator listening on {}", emu.base_url()));
    loop {
        std::thread::park();
    }
}
