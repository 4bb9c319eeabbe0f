//! The generic resource command: a resource group (`agents`, `vaults credentials`, ...) is a
//! table of operations, each naming its arguments, its example and the call it makes, from
//! which one builder makes the clap subcommands and one executor runs the one asked for.
//! Every group's table lives in its own command file; this file owns the table's types, the
//! arguments the groups share and the JSON output of their answers.

use crate::exit::{Exit, Failure};
use crate::output::print_json;
use clap::{Arg, ArgAction, ArgMatches, Command};
use managed_agents::{Client, Page, Result as ApiResult};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Describes one argument of an operation.
#[derive(Clone, Copy)]
pub enum Param {
    /// A positional id: its name (`id`, `vault`, ...), as the usage shows it (`ID`), its help.
    Id(&'static str, &'static str, &'static str),
    /// The positional definition file (`file`), YAML or JSON.
    Definition,
    /// `--limit N`, the page size of a list.
    Limit,
    /// `--include-archived` of a list.
    IncludeArchived,
    /// Any other argument.
    Other(fn() -> Arg),
}

/// The id of the item a group's operation acts on.
pub const ID: Param = Param::Id("id", "ID", "The id of the item");

impl Param {
    /// Makes the clap argument.
    fn arg(self) -> Arg {
        match self {
            Param::Id(name, shown, help) => positional(name, shown, help),
            Param::Definition => positional(
                "file",
                "FILE",
                "A YAML or JSON definition file (`-`: stdin)",
            ),
            Param::Limit => Arg::new("limit")
                .long("limit")
                .value_name("N")
                .value_parser(clap::value_parser!(u16))
                .help("Items per page asked of the API (every page is printed)"),
            Param::IncludeArchived => Arg::new("include_archived")
                .long("include-archived")
                .action(ArgAction::SetTrue)
                .help("Include archived items"),
            Param::Other(make) => make(),
        }
    }
}

/// Makes a required positional argument named `name`, shown as `<SHOWN>`.
pub fn positional(name: &'static str, shown: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .value_name(shown)
        .required(true)
        .action(ArgAction::Set)
        .help(help)
}

/// Describes one operation of a group: `agents get`, `vaults credentials delete`, ...
pub struct Operation {
    /// The subcommand's name.
    pub name: &'static str,
    /// Its one-line help.
    pub about: &'static str,
    /// Its arguments, in order.
    pub params: &'static [Param],
    /// A command line that runs it, without the program's name.
    pub example: &'static str,
    /// Makes the call and prints its answer.
    pub exec: fn(&Call<'_>) -> Result<Exit, Failure>,
}

/// Describes a resource group: its operations, then its nested groups.
pub struct Group {
    /// The subcommand's name.
    pub name: &'static str,
    /// Its one-line help.
    pub about: &'static str,
    /// The text after its help (a nested group without one shows `example`).
    pub after_help: Option<&'static str>,
    /// A command line that uses it, shown when there is no `after_help`.
    pub example: &'static str,
    /// Its operations.
    pub operations: &'static [Operation],
    /// Its nested groups (`vaults credentials`).
    pub groups: &'static [Group],
}

/// Says what a definition file is, before the examples of a group that reads them.
#[macro_export]
macro_rules! definition_help {
    ($examples:literal) => {
        concat!(
            "A definition file is YAML or JSON (by its extension; `-` reads stdin) with the\n",
            "fields of the API's create request; an unknown field or a wrong type is an error.",
            "\n\nExamples:\n",
            $examples
        )
    };
}

/// Makes the help text of an example command line.
fn example(line: &str) -> String {
    format!("Example:\n  managed-agents {line}")
}

impl Operation {
    /// Builds the clap subcommand.
    fn command(&self) -> Command {
        let cmd = Command::new(self.name)
            .about(self.about)
            .after_help(example(self.example));
        self.params.iter().fold(cmd, |cmd, p| cmd.arg(p.arg()))
    }
}

impl Group {
    /// Builds the clap subcommand, its operations and nested groups beneath it.
    pub fn command(&self) -> Command {
        let cmd = Command::new(self.name)
            .about(self.about)
            .after_help(match self.after_help {
                Some(text) => text.to_string(),
                None => example(self.example),
            })
            .subcommand_required(true)
            .arg_required_else_help(true);
        let cmd = self
            .operations
            .iter()
            .fold(cmd, |cmd, op| cmd.subcommand(op.command()));
        self.groups
            .iter()
            .fold(cmd, |cmd, g| cmd.subcommand(g.command()))
    }

    /// Runs the operation `matches` names (the matches of this group's subcommand).
    pub fn exec(
        &self,
        client: &Client,
        matches: &ArgMatches,
        quiet: bool,
    ) -> Result<Exit, Failure> {
        let Some((name, sub)) = matches.subcommand() else {
            return Err(Failure::usage(format!(
                "{}: a subcommand is needed",
                self.name
            )));
        };
        if let Some(op) = self.operations.iter().find(|op| op.name == name) {
            return (op.exec)(&Call {
                client,
                matches: sub,
                quiet,
            });
        }
        match self.groups.iter().find(|g| g.name == name) {
            Some(group) => group.exec(client, sub, quiet),
            None => Err(Failure::usage(format!(
                "{}: no subcommand {name}",
                self.name
            ))),
        }
    }

    /// Lists every command line of its examples, its own and its operations' and nested
    /// groups', each with the path of the command it is shown for.
    #[cfg(test)]
    pub fn examples(&self, path: &str, found: &mut Vec<(String, &'static str)>) {
        let path = format!("{path} {}", self.name).trim().to_string();
        if self.after_help.is_none() {
            found.push((path.clone(), self.example));
        }
        for op in self.operations {
            found.push((format!("{path} {}", op.name), op.example));
        }
        for g in self.groups {
            g.examples(&path, found);
        }
    }
}

/// Holds what an operation is run with: the client, its arguments and `--quiet`.
pub struct Call<'a> {
    /// The client of the API key taken at start.
    pub client: &'a Client,
    /// The operation's arguments.
    pub matches: &'a ArgMatches,
    /// `--quiet`.
    pub quiet: bool,
}

impl Call<'_> {
    /// Returns the positional id `name`.
    pub fn id(&self, name: &str) -> &str {
        self.matches
            .get_one::<String>(name)
            .map_or("", String::as_str)
    }

    /// Reads the definition file into the request's type.
    pub fn definition<T: DeserializeOwned + Serialize + std::fmt::Debug>(
        &self,
    ) -> Result<T, Failure> {
        crate::input::definition(self.id("file"))
    }

    /// Returns `--limit`, as the API takes it.
    pub fn limit(&self) -> Option<i64> {
        self.value::<u16>("limit").map(i64::from)
    }

    /// Returns `--include-archived`.
    pub fn include_archived(&self) -> bool {
        self.flag("include_archived")
    }

    /// Returns a flag's value.
    pub fn flag(&self, name: &str) -> bool {
        self.matches.get_flag(name)
    }

    /// Returns an optional argument's value.
    pub fn value<T: Clone + Send + Sync + 'static>(&self, name: &str) -> Option<T> {
        self.matches.get_one::<T>(name).cloned()
    }

    /// Sets `--limit` on list parameters, when it is given.
    pub fn limited<P>(&self, params: P, set: impl FnOnce(P, i64) -> P) -> P {
        match self.limit() {
            Some(n) => set(params, n),
            None => params,
        }
    }
}

/// Prints every item of every page as one JSON array.
pub fn list_all<T: Serialize>(page: ApiResult<Page<T>>) -> Result<Exit, Failure> {
    let mut all = Vec::new();
    for item in page? {
        all.push(item?);
    }
    print_json(&all)
}

/// Prints a call's answer as JSON.
pub fn show<T: Serialize>(answer: ApiResult<T>) -> Result<Exit, Failure> {
    print_json(&answer?)
}
