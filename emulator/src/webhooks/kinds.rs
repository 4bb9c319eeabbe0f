//! Which changes make which kinds of webhook events: the events recorded on a session
//! (`session.status_idle` on the stream is `session.status_idled` here) and the kinds the
//! routes make for the objects they create, update, archive and delete.

/// The events recorded on a session that make webhook events.
pub(crate) const SESSION_EVENTS: &[&str] = &[
    "session.status_running",
    "session.status_idle",
    "session.status_rescheduled",
    "session.status_terminated",
    "span.outcome_evaluation_end",
    "session.thread_created",
    "session.thread_status_idle",
    "session.thread_status_terminated",
];

/// Returns the webhook kind of an event recorded on a session, and whether it names a thread.
pub(crate) fn session_kind(event_type: &str) -> Option<(&'static str, bool)> {
    Some(match event_type {
        "session.status_running" => ("session.status_run_started", false),
        "session.status_idle" => ("session.status_idled", false),
        "session.status_rescheduled" => ("session.status_rescheduled", false),
        "session.status_terminated" => ("session.status_terminated", false),
        "span.outcome_evaluation_end" => ("session.outcome_evaluation_ended", false),
        "session.thread_created" => ("session.thread_created", true),
        "session.thread_status_idle" => ("session.thread_idled", true),
        "session.thread_status_terminated" => ("session.thread_terminated", true),
        _ => return None,
    })
}

/// Returns the `type` prefix of the objects of a top-level collection that has webhook events.
pub(crate) fn kind_of(collection: &str) -> Option<&'static str> {
    Some(match collection {
        "agents" => "agent",
        "deployments" => "deployment",
        "environments" => "environment",
        "memory_stores" => "memory_store",
        "sessions" => "session",
        "vaults" => "vault",
        _ => return None,
    })
}

/// The kinds the routes make (the spec's, for the objects the emulator keeps).
pub(crate) const ROUTE_KINDS: &[&str] = &[
    "agent.created",
    "agent.updated",
    "agent.archived",
    "agent.deleted",
    "deployment.created",
    "deployment.updated",
    "deployment.archived",
    "deployment.deleted",
    "deployment.paused",
    "deployment.unpaused",
    "environment.created",
    "environment.updated",
    "environment.archived",
    "environment.deleted",
    "memory_store.created",
    "memory_store.archived",
    "memory_store.deleted",
    // `session.created` is sent where a session is made, a deployment's run included
    "session.updated",
    "session.archived",
    "session.deleted",
    "vault.created",
    "vault.archived",
    "vault.deleted",
    "vault_credential.created",
    "vault_credential.archived",
    "vault_credential.deleted",
];
