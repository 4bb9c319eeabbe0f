//! A small command-line parser: flags with values, repeated flags, switches and positionals,
//! with errors that name the flag.

use std::collections::HashMap;
use std::time::Duration;

/// A usage error: exit code 2 with this message.
#[derive(Debug)]
pub struct Usage(pub String);

pub type Parsed<T> = Result<T, Usage>;

#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, Vec<String>>,
    switches: Vec<String>,
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `args` knowing which flags take a value and which are switches.
    pub fn parse(args: &[String], with_value: &[&str], switches: &[&str]) -> Parsed<Args> {
        let mut out = Args::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if let Some(flag) = a.strip_prefix("--") {
                let (name, inline) = match flag.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (flag, None),
                };
                if with_value.contains(&name) {
                    let v = match inline {
                        Some(v) => v,
                        None => it
                            .next()
                            .cloned()
                            .ok_or_else(|| Usage(format!("--{name} needs a value")))?,
                    };
                    out.values.entry(name.to_string()).or_default().push(v);
                } else if switches.contains(&name) && inline.is_none() {
                    out.switches.push(name.to_string());
                } else {
                    return Err(Usage(format!("unknown option --{name}")));
                }
            } else {
                out.positional.push(a.clone());
            }
        }
        Ok(out)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .get(name)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    pub fn require(&self, name: &str) -> Parsed<&str> {
        self.get(name)
            .ok_or_else(|| Usage(format!("--{name} is required")))
    }

    pub fn positional(&self, i: usize, what: &str) -> Parsed<&str> {
        self.positional
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| Usage(format!("missing {what}")))
    }

    pub fn duration(&self, name: &str) -> Parsed<Option<Duration>> {
        self.get(name)
            .map(|v| parse_duration(v).map_err(|e| Usage(format!("--{name}: {e}"))))
            .transpose()
    }

    pub fn number(&self, name: &str) -> Parsed<Option<usize>> {
        self.get(name)
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| Usage(format!("--{name}: {v:?} is not a number")))
            })
            .transpose()
    }
}

/// `90s`, `10m`, `1h`, `500ms`, or plain seconds.
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let (num, unit) = match v.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => v.split_at(i),
        None => (v, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{v:?} is not a duration (try 30s, 10m, 1h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{v:?} is not a duration (try 30s, 10m, 1h)")),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("{v:?} must be more than zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
