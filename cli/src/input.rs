//! Reading the user's files strictly: definitions in YAML or JSON (by the file's extension;
//! `-` is stdin, read as YAML, which takes JSON too), where an unknown field or a wrong type is
//! an error naming the file, the line and the field, never a silent default.

use crate::exit::{Exit, Failure};
use crate::parse::{self, strict};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Read;

/// A file's text and the name to give in errors.
pub struct Source {
    /// The path as given, or `<stdin>`.
    pub name: String,
    /// Its contents.
    pub text: String,
}

/// Reads a file, or stdin for `-`; a missing file is a usage error naming it.
pub fn read(path: &str) -> Result<Source, Failure> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure(Exit::Usage, format!("<stdin>: {e}")))?;
        return Ok(Source {
            name: "<stdin>".into(),
            text,
        });
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure(Exit::Usage, format!("{path}: {e}")))?;
    Ok(Source {
        name: path.to_string(),
        text,
    })
}

/// Reads a definition file into a request type, strictly.
pub fn definition<T: DeserializeOwned + Serialize + std::fmt::Debug>(
    path: &str,
) -> Result<T, Failure> {
    let src = read(path)?;
    let value = parse::value(&src.text, path.ends_with(".json")).map_err(|(line, msg)| {
        let at = line.map_or(String::new(), |l| format!("{l}:"));
        Failure(Exit::Usage, format!("{}:{at} {msg}", src.name))
    })?;
    strict(value, &src.text).map_err(|(line, msg)| {
        let at = line.map_or(String::new(), |l| format!("{l}:"));
        Failure(Exit::Usage, format!("{}:{at} {msg}", src.name))
    })
}
