//! `sessions`: the sessions (list, get, create, update, archive, delete), their events (as
//! JSON lines, `--follow` streaming new ones, each event once), their threads and their
//! resources.

use super::resource::{list_all, show, Call, Group, Operation, Param, ID};
use crate::exit::{Exit, Failure};
use crate::output::out;
use clap::{Arg, ArgAction};
use managed_agents::types::*;
use managed_agents::StreamOptions;
use serde_json::Value;
use std::collections::HashSet;

const SESSION: Param = Param::Id("session", "SESSION", "The session's id");
const THREAD: Param = Param::Id("thread", "THREAD", "The thread's id");
const RESOURCE: Param = Param::Id("resource", "RESOURCE", "The resource's id");

/// `sessions`.
pub const SESSIONS: Group = Group {
    name: "sessions",
    about: "Sessions, their events, threads and resources",
    after_help: Some(crate::definition_help!(
        "  managed-agents sessions events sesn_011CZx --follow\n  managed-agents sessions threads list sesn_011CZx\n  managed-agents sessions resources add sesn_011CZx resource.yaml"
    )),
    example: "sessions list",
    operations: &[
        Operation {
            name: "list",
            about: "Every session",
            params: &[Param::Limit, Param::IncludeArchived],
            example: "sessions list --limit 100",
            exec: |c| {
                let p = SessionListParams::default().include_archived(c.include_archived());
                list_all(c.client.sessions().list(&c.limited(p, |p, n| p.limit(n))))
            },
        },
        Operation {
            name: "get",
            about: "One session",
            params: &[ID],
            example: "sessions get sesn_011CZx",
            exec: |c| show(c.client.sessions().retrieve(c.id("id"))),
        },
        Operation {
            name: "create",
            about: "Create a session from a definition file",
            params: &[Param::Definition],
            example: "sessions create session.yaml",
            exec: |c| show(c.client.sessions().create(&c.definition::<SessionCreateParams>()?)),
        },
        Operation {
            name: "update",
            about: "Update a session from a file",
            params: &[ID, Param::Definition],
            example: "sessions update sesn_011CZx title.yaml",
            exec: |c| {
                let params = c.definition::<SessionUpdateParams>()?;
                show(c.client.sessions().update(c.id("id"), &params))
            },
        },
        Operation {
            name: "archive",
            about: "Archive a session",
            params: &[ID],
            example: "sessions archive sesn_011CZx",
            exec: |c| show(c.client.sessions().archive(c.id("id"))),
        },
        Operation {
            name: "delete",
            about: "Delete a session",
            params: &[ID],
            example: "sessions delete sesn_011CZx",
            exec: |c| show(c.client.sessions().delete(c.id("id"))),
        },
        Operation {
            name: "events",
            about: "The session's events as JSON lines",
            params: &[ID, Param::Other(follow)],
            example: "sessions events sesn_011CZx --follow | jq -r .type",
            exec: events,
        },
    ],
    groups: &[THREADS, RESOURCES],
};

/// `sessions threads`.
const THREADS: Group = Group {
    name: "threads",
    about: "The session's threads (multi-agent sessions)",
    after_help: None,
    example: "sessions threads list sesn_011CZx",
    operations: &[
        Operation {
            name: "list",
            about: "Every thread of a session",
            params: &[SESSION, Param::Limit],
            example: "sessions threads list sesn_011CZx",
            exec: |c| {
                let p = c.limited(ThreadListParams::default(), |p, n| p.limit(n));
                list_all(c.client.sessions().threads().list(c.id("session"), &p))
            },
        },
        Operation {
            name: "get",
            about: "One thread",
            params: &[SESSION, THREAD],
            example: "sessions threads get sesn_011CZx sthr_011CZx",
            exec: |c| {
                let threads = c.client.sessions().threads();
                show(threads.retrieve(c.id("session"), c.id("thread")))
            },
        },
        Operation {
            name: "archive",
            about: "Archive a thread",
            params: &[SESSION, THREAD],
            example: "sessions threads archive sesn_011CZx sthr_011CZx",
            exec: |c| {
                let threads = c.client.sessions().threads();
                show(threads.archive(c.id("session"), c.id("thread")))
            },
        },
        Operation {
            name: "events",
            about: "A thread's events as JSON lines",
            params: &[SESSION, THREAD],
            example: "sessions threads events sesn_011CZx sthr_011CZx",
            exec: |c| {
                let events = c.client.sessions().threads().events();
                for e in events.list(c.id("session"), c.id("thread"), &Default::default())? {
                    print_event(&e?);
                }
                Ok(Exit::Ok)
            },
        },
    ],
    groups: &[],
};

/// `sessions resources`.
const RESOURCES: Group = Group {
    name: "resources",
    about: "The session's resources (mounted files, repositories)",
    after_help: None,
    example: "sessions resources list sesn_011CZx",
    operations: &[
        Operation {
            name: "list",
            about: "Every resource of a session",
            params: &[SESSION, Param::Limit],
            example: "sessions resources list sesn_011CZx",
            exec: |c| {
                let p = c.limited(ResourceListParams::default(), |p, n| p.limit(n));
                list_all(c.client.sessions().resources().list(c.id("session"), &p))
            },
        },
        Operation {
            name: "get",
            about: "One resource",
            params: &[SESSION, RESOURCE],
            example: "sessions resources get sesn_011CZx sesrsc_011CZx",
            exec: |c| {
                let resources = c.client.sessions().resources();
                show(resources.retrieve(c.id("session"), c.id("resource")))
            },
        },
        Operation {
            name: "add",
            about: "Add a resource from a definition file ({file_id, mount_path})",
            params: &[SESSION, Param::Definition],
            example: "sessions resources add sesn_011CZx resource.yaml",
            exec: |c| {
                let params = c.definition::<ResourceAddParams>()?;
                show(
                    c.client
                        .sessions()
                        .resources()
                        .add(c.id("session"), &params),
                )
            },
        },
        Operation {
            name: "delete",
            about: "Delete a resource",
            params: &[SESSION, RESOURCE],
            example: "sessions resources delete sesn_011CZx sesrsc_011CZx",
            exec: |c| {
                let resources = c.client.sessions().resources();
                show(resources.delete(c.id("session"), c.id("resource")))
            },
        },
    ],
    groups: &[],
};

/// Makes `--follow` of `sessions events`.
fn follow() -> Arg {
    Arg::new("follow")
        .long("follow")
        .action(ArgAction::SetTrue)
        .help("Then stream new ones until stopped")
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
            Exit::BrokenPipe.exit();
        }
        if n < 0 {
            return;
        }
    });
}

/// Runs `sessions events`: the history, then (with `--follow`) the stream, each event once.
fn events(c: &Call<'_>) -> Result<Exit, Failure> {
    let (id, follow) = (c.id("id"), c.flag("follow"));
    let ev = c.client.sessions().events();
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
            let v = serde_json::to_value(&e).map_err(|e| Failure(Exit::Api, e.to_string()))?;
            // an event of the history that the stream also brought: once is enough
            if let Some(id) = v.get("id").and_then(Value::as_str) {
                if !seen.insert(id.to_string()) {
                    continue;
                }
            }
            out(&v.to_string());
        }
    }
    Ok(Exit::Ok)
}
