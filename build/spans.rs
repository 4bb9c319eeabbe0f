//! The span of each operation (feature `tracing`): its name and the attributes its path
//! parameters give, as the official Python SDK's resources set them (`span_name`,
//! `span_attributes`, `span_created_id` in `anthropic/resources/`, 2.17), written as one
//! `call_span!` per generated method.

use super::model::{Operation, Response};
use super::names::lit;

/// The attribute a path parameter's value is recorded as; `None` for one the Python SDK
/// records none for (a new parameter of the spec: look up its `span_attributes`).
fn attribute_of(param: &str) -> Option<&'static str> {
    Some(match param {
        "agent_id" => "gen_ai.agent.id",
        "credential_id" => "anthropic.vault.credential.id",
        "deployment_id" => "anthropic.deployment.id",
        "deployment_run_id" => "anthropic.deployment_run.id",
        "environment_id" => "anthropic.environment.id",
        "file_id" => "anthropic.file.id",
        "memory_id" => "gen_ai.memory.record.id",
        "memory_store_id" => "gen_ai.memory.store.id",
        "memory_version_id" => "anthropic.memory_store.memory_version.id",
        "resource_id" => "anthropic.session.resource.id",
        "session_id" => "anthropic.session.id",
        "skill_id" => "anthropic.skill.id",
        "thread_id" => "anthropic.session.thread.id",
        "vault_id" => "anthropic.vault.id",
        "version" => "anthropic.skill.version.id",
        "work_id" => "anthropic.environment.work.id",
        _ => return None,
    })
}

/// The attribute that names what the operation created (recorded from the answer's `id`).
fn created(op: &Operation) -> Option<&'static str> {
    let made = matches!(op.method.as_str(), "create" | "upload" | "add");
    let last = op.group.rsplit('.').next().unwrap_or(&op.group);
    let param = match last {
        "agents" => "agent_id",
        "credentials" => "credential_id",
        "deployments" => "deployment_id",
        "environments" => "environment_id",
        "files" => "file_id",
        "memories" => "memory_id",
        "memory_stores" => "memory_store_id",
        "resources" => "resource_id",
        "sessions" => "session_id",
        "skills" => "skill_id",
        "vaults" => "vault_id",
        "versions" if op.group == "skills.versions" => "version",
        _ => return None,
    };
    made.then(|| attribute_of(param)).flatten()
}

/// The attributes recorded later from the bodies (`src/trace/request.rs` has the table), and those of
/// a connection's reading for an event stream.
fn later(op: &Operation) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if let Some(attribute) = created(op) {
        fields.push(attribute);
    }
    if op.group == "sessions" && op.method == "create" {
        fields.extend([
            "anthropic.session.environment.id",
            "gen_ai.agent.id",
            "gen_ai.agent.name",
            "gen_ai.request.model",
        ]);
    }
    if matches!(op.response, Response::Stream) {
        fields.extend([
            "gen_ai.response.time_to_first_chunk",
            "anthropic.stream.events",
            "anthropic.stream.reconnects",
        ]);
    }
    fields
}

/// The statement that starts the operation's span.
pub(crate) fn span_statement(op: &Operation) -> String {
    let mut args = vec![lit(&format!("anthropic.{}.{}", op.group, op.method))];
    for p in &op.path_params {
        let Some(attribute) = attribute_of(p) else {
            continue;
        };
        args.push(format!("{} = {p}", lit(attribute)));
        if p == "thread_id" {
            // a session thread is a conversation
            args.push(format!("{} = {p}", lit("gen_ai.conversation.id")));
        }
    }
    for field in later(op) {
        args.push(format!("{} = crate::trace::LATER", lit(field)));
    }
    let one_line = format!(
        "        let span = crate::trace::call_span!({});\n",
        args.join(", ")
    );
    if one_line.len() <= 101 {
        return one_line;
    }
    let lines: String = args.iter().map(|a| format!("            {a},\n")).collect();
    format!("        let span = crate::trace::call_span!(\n{lines}        );\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_parameters_are_recorded_as_the_python_sdk_records_them() {
        assert_eq!(
            super::attribute_of("thread_id"),
            Some("anthropic.session.thread.id")
        );
        assert_eq!(
            super::attribute_of("version"),
            Some("anthropic.skill.version.id")
        );
        assert_eq!(super::attribute_of("thing_id"), None);
    }
}
