//! An example for the help of every command that has no longer text of its own, kept in one
//! table so that none is forgotten (a unit test walks the whole command tree).

/// `(command path, example arguments)`.
const EXAMPLES: &[(&str, &str)] = &[
    ("agents list", "agents list --include-archived"),
    ("agents get", "agents get agent_011CZx --version 2"),
    ("agents create", "agents create reviewer.yaml"),
    (
        "agents update",
        "agents update agent_011CZx reviewer-v2.yaml",
    ),
    ("agents archive", "agents archive agent_011CZx"),
    ("agents versions", "agents versions agent_011CZx"),
    ("environments list", "environments list"),
    ("environments get", "environments get env_011CZx"),
    ("environments create", "environments create env.yaml"),
    (
        "environments update",
        "environments update env_011CZx env.yaml",
    ),
    ("environments archive", "environments archive env_011CZx"),
    ("environments delete", "environments delete env_011CZx"),
    ("sessions list", "sessions list --limit 100"),
    ("sessions get", "sessions get sesn_011CZx"),
    ("sessions create", "sessions create session.yaml"),
    ("sessions update", "sessions update sesn_011CZx title.yaml"),
    ("sessions archive", "sessions archive sesn_011CZx"),
    ("sessions delete", "sessions delete sesn_011CZx"),
    (
        "sessions events",
        "sessions events sesn_011CZx --follow | jq -r .type",
    ),
    ("sessions threads list", "sessions threads list sesn_011CZx"),
    (
        "sessions threads get",
        "sessions threads get sesn_011CZx sthr_011CZx",
    ),
    (
        "sessions threads archive",
        "sessions threads archive sesn_011CZx sthr_011CZx",
    ),
    (
        "sessions threads events",
        "sessions threads events sesn_011CZx sthr_011CZx",
    ),
    (
        "sessions resources list",
        "sessions resources list sesn_011CZx",
    ),
    (
        "sessions resources get",
        "sessions resources get sesn_011CZx sesrsc_011CZx",
    ),
    (
        "sessions resources add",
        "sessions resources add sesn_011CZx resource.yaml",
    ),
    (
        "sessions resources delete",
        "sessions resources delete sesn_011CZx sesrsc_011CZx",
    ),
    ("files list", "files list --scope sesn_011CZx"),
    ("files get", "files get file_011CZx"),
    ("files upload", "files upload report.pdf"),
    (
        "files download",
        "files download file_011CZx --out report.pdf --force",
    ),
    ("files delete", "files delete file_011CZx"),
    ("vaults list", "vaults list --include-archived"),
    ("vaults get", "vaults get vlt_011CZx"),
    ("vaults create", "vaults create vault.yaml"),
    ("vaults update", "vaults update vlt_011CZx vault.yaml"),
    ("vaults archive", "vaults archive vlt_011CZx"),
    ("vaults delete", "vaults delete vlt_011CZx"),
    (
        "vaults credentials list",
        "vaults credentials list vlt_011CZx",
    ),
    (
        "vaults credentials get",
        "vaults credentials get vlt_011CZx vcrd_011CZx",
    ),
    (
        "vaults credentials create",
        "vaults credentials create vlt_011CZx github.yaml",
    ),
    (
        "vaults credentials update",
        "vaults credentials update vlt_011CZx vcrd_011CZx github.yaml",
    ),
    (
        "vaults credentials archive",
        "vaults credentials archive vlt_011CZx vcrd_011CZx",
    ),
    (
        "vaults credentials delete",
        "vaults credentials delete vlt_011CZx vcrd_011CZx",
    ),
    ("memory-stores list", "memory-stores list"),
    ("memory-stores get", "memory-stores get memstore_011CZx"),
    ("memory-stores create", "memory-stores create store.yaml"),
    (
        "memory-stores update",
        "memory-stores update memstore_011CZx store.yaml",
    ),
    (
        "memory-stores archive",
        "memory-stores archive memstore_011CZx",
    ),
    (
        "memory-stores delete",
        "memory-stores delete memstore_011CZx",
    ),
    (
        "memory-stores memories list",
        "memory-stores memories list memstore_011CZx",
    ),
    (
        "memory-stores memories get",
        "memory-stores memories get memstore_011CZx mem_011CZx",
    ),
    (
        "memory-stores memories create",
        "memory-stores memories create memstore_011CZx memory.yaml",
    ),
    (
        "memory-stores memories update",
        "memory-stores memories update memstore_011CZx mem_011CZx memory.yaml",
    ),
    (
        "memory-stores memories delete",
        "memory-stores memories delete memstore_011CZx mem_011CZx",
    ),
    ("skills list", "skills list"),
    ("skills get", "skills get skill_011CZx"),
    (
        "skills create",
        "skills create ./my-skill --title 'My skill'",
    ),
    ("skills delete", "skills delete skill_011CZx"),
    ("skills versions list", "skills versions list skill_011CZx"),
    (
        "skills versions get",
        "skills versions get skill_011CZx 1759178010641129",
    ),
    (
        "skills versions create",
        "skills versions create skill_011CZx ./my-skill",
    ),
    (
        "skills versions delete",
        "skills versions delete skill_011CZx 1759178010641129",
    ),
    ("deployments list", "deployments list"),
    ("deployments get", "deployments get dep_011CZx"),
    ("deployments create", "deployments create nightly.yaml"),
    (
        "deployments update",
        "deployments update dep_011CZx nightly.yaml",
    ),
    ("deployments archive", "deployments archive dep_011CZx"),
    ("deployments pause", "deployments pause dep_011CZx"),
    ("deployments unpause", "deployments unpause dep_011CZx"),
    ("deployments run", "deployments run dep_011CZx"),
    (
        "deployment-runs list",
        "deployment-runs list --deployment dep_011CZx",
    ),
    ("deployment-runs get", "deployment-runs get deprun_011CZx"),
    ("sessions threads", "sessions threads list sesn_011CZx"),
    ("sessions resources", "sessions resources list sesn_011CZx"),
    ("vaults credentials", "vaults credentials list vlt_011CZx"),
    (
        "memory-stores memories",
        "memory-stores memories list memstore_011CZx",
    ),
    ("skills versions", "skills versions list skill_011CZx"),
    (
        "deployment-runs",
        "deployment-runs list --deployment dep_011CZx",
    ),
];

/// What the positional arguments of the resource commands are, by their name.
fn argument_help(name: &str) -> Option<&'static str> {
    Some(match name {
        "id" => "The id of the item",
        "file" => "A YAML or JSON definition file (`-`: stdin)",
        "path" => "The file to upload (`-`: stdin)",
        "folder" => "The skill's folder (with SKILL.md)",
        "session" => "The session's id",
        "thread" => "The thread's id",
        "resource" => "The resource's id",
        "vault" => "The vault's id",
        "credential" => "The credential's id",
        "store" => "The memory store's id",
        "memory" => "The memory's id",
        "skill" => "The skill's id",
        "version" => "The version",
        _ => return None,
    })
}

fn example(path: &str) -> Option<&'static str> {
    EXAMPLES.iter().find(|(p, _)| *p == path).map(|(_, e)| *e)
}

fn walk(mut cmd: clap::Command, path: &str) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |sub| walk(sub, &sub_path));
    }
    let bare: Vec<(String, &str)> = cmd
        .get_positionals()
        .filter(|a| a.get_help().is_none())
        .filter_map(|a| Some((a.get_id().to_string(), argument_help(a.get_id().as_str())?)))
        .collect();
    for (id, help) in bare {
        cmd = cmd.mut_arg(id, |a| a.help(help));
    }
    if cmd.get_after_help().is_none() {
        if let Some(e) = example(path) {
            cmd = cmd.after_help(format!("Example:\n  managed-agents {e}"));
        }
    }
    cmd
}

/// The command tree with the examples in its help.
pub fn with_examples(cmd: clap::Command) -> clap::Command {
    walk(cmd, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        if cmd.get_after_help().is_none() && cmd.get_name() != "help" {
            missing.push(path.to_string());
        }
        for a in cmd.get_positionals() {
            if a.get_help().is_none() {
                missing.push(format!("{path} <{}>", a.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            let p = format!("{path} {}", sub.get_name());
            check(sub, p.trim(), missing);
        }
    }

    #[test]
    fn every_command_has_an_example() {
        let cmd = with_examples(crate::cli::Cli::command());
        let mut missing = Vec::new();
        for sub in cmd.get_subcommands() {
            check(sub, sub.get_name(), &mut missing);
        }
        assert!(missing.is_empty(), "no example: {missing:?}");
        // each example is a command that parses, of the command it is shown for
        for (path, e) in EXAMPLES {
            assert!(e.starts_with(path), "{path}: {e}");
            let line = e.split(" |").next().unwrap_or(e);
            let mut words = vec!["managed-agents".to_string()];
            for (i, part) in line.split('\'').enumerate() {
                if i % 2 == 1 {
                    words.push(part.to_string());
                } else {
                    words.extend(part.split_whitespace().map(String::from));
                }
            }
            if let Err(err) = cmd.clone().try_get_matches_from(&words) {
                panic!("{e}: {err}");
            }
        }
    }
}
