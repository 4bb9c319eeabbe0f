//! `files`: list, get, upload (a path or stdin), download (kept to the folder asked for,
//! never overwriting unless `--force`) and delete files.

use super::resource::{list_all, positional, show, Call, Group, Operation, Param, ID};
use crate::download::{self, Existing};
use crate::exit::{Exit, Failure};
use crate::output::{note, stdout_failed};
use clap::{Arg, ArgAction};
use managed_agents::types::*;
use managed_agents::UploadFile;
use std::path::{Path, PathBuf};

/// `files`.
pub const FILES: Group = Group {
    name: "files",
    about: "Files (list, get, upload, download, delete)",
    after_help: Some("Examples:\n  managed-agents files upload notes.md\n  managed-agents files list --scope sesn_011CZx\n  managed-agents files download file_011CZx --out notes.md --force"),
    example: "files list",
    operations: &[
        Operation {
            name: "list",
            about: "Every file (of a session's outputs with --scope)",
            params: &[Param::Other(scope), Param::Limit],
            example: "files list --scope sesn_011CZx",
            exec: |c| {
                let mut p = FileListParams::default();
                if let Some(s) = c.value::<String>("scope") {
                    p = FileListParams::scope(s);
                }
                list_all(c.client.files().list(&c.limited(p, |p, n| p.limit(n))))
            },
        },
        Operation {
            name: "get",
            about: "One file's metadata",
            params: &[ID],
            example: "files get file_011CZx",
            exec: |c| show(c.client.files().retrieve_metadata(c.id("id"))),
        },
        Operation {
            name: "upload",
            about: "Upload a file (`-`: stdin, named by --name)",
            params: &[Param::Other(path), Param::Other(name)],
            example: "files upload report.pdf",
            exec: upload,
        },
        Operation {
            name: "download",
            about: "Download a file: into the current folder under its own name (when it is a plain file name, else one made from its id), or to --out (a file, or a folder)",
            params: &[ID, Param::Other(out), Param::Other(force)],
            example: "files download file_011CZx --out report.pdf --force",
            exec: download,
        },
        Operation {
            name: "delete",
            about: "Delete a file",
            params: &[ID],
            example: "files delete file_011CZx",
            exec: |c| show(c.client.files().delete(c.id("id"))),
        },
    ],
    groups: &[],
};

/// Makes `--scope` of `files list`.
fn scope() -> Arg {
    Arg::new("scope")
        .long("scope")
        .value_name("ID")
        .help("A session id: its output files")
}

/// Makes the positional file `files upload` reads.
fn path() -> Arg {
    positional("path", "PATH", "The file to upload (`-`: stdin)")
}

/// Makes `--name` of `files upload`.
fn name() -> Arg {
    Arg::new("name")
        .long("name")
        .value_name("NAME")
        .default_value("stdin")
        .help("The file name to give stdin")
}

/// Makes `--out` of `files download`.
fn out() -> Arg {
    Arg::new("out")
        .long("out")
        .value_name("PATH")
        .value_parser(clap::value_parser!(PathBuf))
        .help("Where to write it (`-`: stdout)")
}

/// Makes `--force` of `files download`.
fn force() -> Arg {
    Arg::new("force")
        .long("force")
        .action(ArgAction::SetTrue)
        .help("Overwrite an existing file (a symlink is replaced, never followed)")
}

/// Runs `files upload`.
fn upload(c: &Call<'_>) -> Result<Exit, Failure> {
    let path = c.id("path");
    let file = if path == "-" {
        UploadFile::reader(c.id("name"), std::io::stdin())
    } else {
        UploadFile::path(path)?
    };
    show(c.client.files().upload(file))
}

/// Runs `files download`.
fn download(c: &Call<'_>) -> Result<Exit, Failure> {
    let f = c.client.files();
    let id = c.id("id");
    let out = c.value::<PathBuf>("out");
    let existing = if c.flag("force") {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    if out.as_deref() == Some(Path::new("-")) {
        let mut stdout = Stdout(std::io::stdout().lock());
        f.download(id)?.write_to(&mut stdout)?;
        return Ok(Exit::Ok);
    }
    // Ctrl-C: no temporary file is left behind
    let _ = ctrlc::set_handler(|| {
        download::remove_partial();
        note("\ninterrupted");
        Exit::Interrupted.exit();
    });
    let (dir, name) = match out {
        // a folder: the server's name inside it
        Some(p) if p.is_dir() => (p, None),
        // a folder that is not there yet (`out/`): made
        Some(p) if p.as_os_str().to_string_lossy().ends_with('/') => {
            std::fs::create_dir_all(&p)
                .map_err(|e| Failure::usage(format!("--out {}: {e}", p.display())))?;
            (p, None)
        }
        // a path the user chose: used as given
        Some(p) => {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Failure::usage(format!("--out {}: not a file name", p.display())))?;
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            (dir, Some(name))
        }
        None => (PathBuf::from("."), None),
    };
    let name = match name {
        Some(n) => n,
        None => {
            let meta = f.retrieve_metadata(id)?;
            download::local_name(&meta.filename, &meta.id)
        }
    };
    download::check(&dir, &name, existing)?;
    let (path, n) = download::save(f.download(id)?, &dir, &name, existing)?;
    if !c.quiet {
        note(&format!("{n} bytes to {}", path.display()));
    }
    Ok(Exit::Ok)
}

/// Standard output for a download: a write that fails ends the program as every output does
/// (141 for a closed pipe, else exit 1), not as a bad path.
struct Stdout<W>(W);

impl<W: std::io::Write> std::io::Write for Stdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(|e| stdout_failed(&e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(|e| stdout_failed(&e))
    }
}
