//! `skills`: list, get, create (a skill folder uploaded with its relative paths) and delete
//! skills, and the same of their versions (`skills versions`).

use super::resource::{list_all, positional, show, Group, Operation, Param, ID};
use crate::exit::Failure;
use clap::Arg;
use managed_agents::types::*;
use managed_agents::{Multipart, UploadFile};
use std::path::{Path, PathBuf};

const SKILL: Param = Param::Id("skill", "SKILL", "The skill's id");
const VERSION: Param = Param::Id("version", "VERSION", "The version");

/// `skills`.
pub const SKILLS: Group = Group {
    name: "skills",
    about: "Skills and their versions (upload a skill folder)",
    after_help: Some("A skill folder holds SKILL.md and any other files; all are uploaded with their paths.\n\nExamples:\n  managed-agents skills create ./my-skill --title 'My skill'\n  managed-agents skills versions create skill_011CZx ./my-skill"),
    example: "skills list",
    operations: &[
        Operation {
            name: "list",
            about: "Every skill",
            params: &[Param::Limit],
            example: "skills list",
            exec: |c| {
                let p = c.limited(SkillListParams::default(), |p, n| p.limit(n));
                list_all(c.client.skills().list(&p))
            },
        },
        Operation {
            name: "get",
            about: "One skill",
            params: &[ID],
            example: "skills get skill_011CZx",
            exec: |c| show(c.client.skills().retrieve(c.id("id"))),
        },
        Operation {
            name: "create",
            about: "Create a skill by uploading a folder",
            params: &[Param::Other(folder), Param::Other(title)],
            example: "skills create ./my-skill --title 'My skill'",
            exec: |c| {
                let form = skill_form(&folder_of(c.matches), c.value::<String>("title"))?;
                show(c.client.skills().create(form))
            },
        },
        Operation {
            name: "delete",
            about: "Delete a skill",
            params: &[ID],
            example: "skills delete skill_011CZx",
            exec: |c| show(c.client.skills().delete(c.id("id"))),
        },
    ],
    groups: &[VERSIONS],
};

/// `skills versions`.
const VERSIONS: Group = Group {
    name: "versions",
    about: "A skill's versions",
    after_help: None,
    example: "skills versions list skill_011CZx",
    operations: &[
        Operation {
            name: "list",
            about: "Every version of a skill",
            params: &[SKILL, Param::Limit],
            example: "skills versions list skill_011CZx",
            exec: |c| {
                let p = c.limited(SkillsVersionListParams::default(), |p, n| p.limit(n));
                list_all(c.client.skills().versions().list(c.id("skill"), &p))
            },
        },
        Operation {
            name: "get",
            about: "One version",
            params: &[SKILL, VERSION],
            example: "skills versions get skill_011CZx 1759178010641129",
            exec: |c| {
                let versions = c.client.skills().versions();
                show(versions.retrieve(c.id("skill"), c.id("version")))
            },
        },
        Operation {
            name: "create",
            about: "Create a version by uploading a folder",
            params: &[SKILL, Param::Other(folder)],
            example: "skills versions create skill_011CZx ./my-skill",
            exec: |c| {
                let form = skill_form(&folder_of(c.matches), None)?;
                show(c.client.skills().versions().create(c.id("skill"), form))
            },
        },
        Operation {
            name: "delete",
            about: "Delete a version",
            params: &[SKILL, VERSION],
            example: "skills versions delete skill_011CZx 1759178010641129",
            exec: |c| {
                let versions = c.client.skills().versions();
                show(versions.delete(c.id("skill"), c.id("version")))
            },
        },
    ],
    groups: &[],
};

/// Makes the skill's folder, a positional path.
fn folder() -> Arg {
    positional("folder", "FOLDER", "The skill's folder (with SKILL.md)")
        .value_parser(clap::value_parser!(PathBuf))
}

/// Makes `--title` of `skills create`.
fn title() -> Arg {
    Arg::new("title")
        .long("title")
        .value_name("TITLE")
        .help("The skill's display title")
}

/// Returns the folder argument.
fn folder_of(matches: &clap::ArgMatches) -> PathBuf {
    matches
        .get_one::<PathBuf>("folder")
        .cloned()
        .unwrap_or_default()
}

/// Lists every regular file under `root`, with its path relative to `root`'s parent (so the
/// folder's name leads: `my-skill/SKILL.md`). Symlinks are refused, not followed.
fn folder_files(root: &Path) -> Result<Vec<(PathBuf, String)>, Failure> {
    let bad = |p: &Path, e: &dyn std::fmt::Display| Failure::usage(format!("{}: {e}", p.display()));
    let top = root.canonicalize().map_err(|e| bad(root, &e))?;
    let base = top
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| bad(root, &"not a folder"))?;
    let mut found = Vec::new();
    let mut stack = vec![(top.clone(), base)];
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| bad(&dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| bad(&dir, &e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| bad(&path, &e))?;
            let name = format!("{rel}/{}", entry.file_name().to_string_lossy());
            if kind.is_symlink() {
                return Err(bad(
                    &path,
                    &"a symlink; skill folders hold plain files only",
                ));
            } else if kind.is_dir() {
                stack.push((path, name));
            } else {
                found.push((path, name));
            }
        }
    }
    if !found.iter().any(|(_, n)| n.ends_with("/SKILL.md")) {
        return Err(bad(root, &"no SKILL.md in the folder"));
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// Makes the upload form of a skill folder (and its display title).
fn skill_form(folder: &Path, title: Option<String>) -> Result<Multipart, Failure> {
    let mut form = Multipart::new();
    if let Some(t) = title {
        form = form.text("display_name", t);
    }
    for (path, name) in folder_files(folder)? {
        let file = std::fs::File::open(&path)
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        form = form.file("files[]", UploadFile::reader(name, file));
    }
    Ok(form)
}
