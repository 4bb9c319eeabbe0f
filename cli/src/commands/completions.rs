//! `completions`: prints a shell's completion script of the whole command tree.

use crate::exit::{Exit, Failure};
use crate::output::write_stdout;
use clap::Args;

/// Holds the arguments of `completions`.
#[derive(Args, Debug)]
#[command(after_help = "Example:\n  managed-agents completions zsh > ~/.zfunc/_managed-agents")]
pub struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Runs `completions`: the script of `cmd`, the program's command tree.
pub fn exec(a: CompletionsArgs, mut cmd: clap::Command) -> Result<Exit, Failure> {
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "managed-agents", &mut buf);
    write_stdout(&buf);
    Ok(Exit::Ok)
}
