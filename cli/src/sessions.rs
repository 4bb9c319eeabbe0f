//! `sessions`: the sessions, their events (as JSON lines, `--follow` streaming new ones, each
//! event once), their threads and their resources.

use crate::cli::*;
use crate::input::definition;
use crate::resources::{list_all, show};
use crate::{exit, out, Failure};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents::StreamOptions;
use serde_json::Value;
use std::collections::HashSet;

pub fn sessions(c: &Client, cmd: SessionsCmd) -> Result<u8, Failure> {
    let s = c.sessions();
    match cmd {
        SessionsCmd::List(l) => {
            let mut p = SessionListParams::default().include_archived(l.include_archived);
            if let Some(n) = l.list.limit {
                p = p.limit(i64::from(n));
            }
            list_all(s.list(&p))
        }
        SessionsCmd::Get { id } => show(s.retrieve(&id)),
        SessionsCmd::Create { file } => show(s.create(&definition::<SessionCreateParams>(&file)?)),
        SessionsCmd::Update { id, file } => {
            show(s.update(&id, &definition::<SessionUpdateParams>(&file)?))
        }
        SessionsCmd::Archive { id } => show(s.archive(&id)),
        SessionsCmd::Delete { id } => show(s.delete(&id)),
        SessionsCmd::Events { id, follow } => events(c, &id, follow),
        SessionsCmd::Threads(cmd) => threads(c, cmd),
        SessionsCmd::Resources(cmd) => resources(c, cmd),
    }
}

/// Prints an event as a JSON line; returns its id.
fn print_event(ev: &SessionEvent) -> Option<String> {
    let v = serde_json::to_value(ev).ok()?;
    out(&v.to_string());
    v.get("id").and_then(Value::as_str).map(String::from)
}

/// Ends the program (status 141) once nobody reads stdout any more, even while no event
/// comes to be written (`--follow | head -1`).
fn exit_when_stdout_closes() {
    std::thread::spawn(|| loop {
        let mut fd = libc::pollfd {
            fd: 1,
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd, its count, a timeout
        let n = unsafe { libc::poll(&mut fd, 1, 200) };
        if n > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
            std::process::exit(exit::BROKEN_PIPE.into());
        }
        if n < 0 {
            return;
        }
    });
}

fn events(c: &Client, id: &str, follow: bool) -> Result<u8, Failure> {
    let ev = c.sessions().events();
    // stream first, so nothing that happens while the history is read is missed
    let stream = if follow {
        exit_when_stdout_closes();
        Some(ev.stream(id, StreamOptions::new().idle(None))?)
    } else {
        None
    };
    let mut seen = HashSet::new();
    for e in ev.list(id, &Default::default())? {
        if let Some(id) = print_event(&e?) {
            seen.insert(id);
        }
    }
    if let Some(stream) = stream {
        for e in stream {
            let e = e?;
            let v = serde_json::to_value(&e).map_err(|e| Failure(exit::API, e.to_string()))?;
            // an event of the history that the stream also brought: once is enough
            if let Some(id) = v.get("id").and_then(Value::as_str) {
                if !seen.insert(id.to_string()) {
                    continue;
                }
            }
            out(&v.to_string());
        }
    }
    Ok(exit::OK)
}

fn threads(c: &Client, cmd: ThreadsCmd) -> Result<u8, Failure> {
    let t = c.sessions().threads();
    match cmd {
        ThreadsCmd::List { session, list } => {
            let mut p = ThreadListParams::default();
            if let Some(n) = list.limit {
                p = p.limit(i64::from(n));
            }
            list_all(t.list(&session, &p))
        }
        ThreadsCmd::Get { session, thread } => show(t.retrieve(&session, &thread)),
        ThreadsCmd::Archive { session, thread } => show(t.archive(&session, &thread)),
        ThreadsCmd::Events { session, thread } => {
            for e in t.events().list(&session, &thread, &Default::default())? {
                print_event(&e?);
            }
            Ok(exit::OK)
        }
    }
}

fn resources(c: &Client, cmd: SessionResourcesCmd) -> Result<u8, Failure> {
    let r = c.sessions().resources();
    match cmd {
        SessionResourcesCmd::List { session, list } => {
            let mut p = ResourceListParams::default();
            if let Some(n) = list.limit {
                p = p.limit(i64::from(n));
            }
            list_all(r.list(&session, &p))
        }
        SessionResourcesCmd::Get { session, resource } => show(r.retrieve(&session, &resource)),
        SessionResourcesCmd::Add { session, file } => {
            show(r.add(&session, &definition::<ResourceAddParams>(&file)?))
        }
        SessionResourcesCmd::Delete { session, resource } => show(r.delete(&session, &resource)),
    }
}
