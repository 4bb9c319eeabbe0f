//! What the scripted agent does with each user message: a [`Script`] of [`Step`]s, built in
//! code or read from JSON (the standalone emulator's `--script FILE`).

use serde_json::Value;
use std::time::Duration;

/// One thing the agent does in a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An `agent.message` with this text.
    Say(String),
    /// The user's message, echoed back (`You said: ...`).
    Echo,
    /// An `agent.thinking` event.
    Think,
    /// An `agent.custom_tool_use`, then idle `requires_action` until its result arrives.
    CallTool {
        /// The tool's name.
        name: String,
        /// Its input.
        input: Value,
    },
    /// An `agent.tool_use` of a built-in tool (`bash`, `read`, `write`, `edit`, `glob`,
    /// `grep`), then idle `requires_action` until its `user.tool_result` arrives: what a
    /// self-hosted session asks of the worker that runs it.
    AgentTool {
        /// The tool's name.
        name: String,
        /// Its input.
        input: Value,
    },
    /// Calls the agent's first custom tool, if it has one, with an input made from its schema.
    CallFirstCustomTool,
    /// An `agent.tool_use` that needs a `user.tool_confirmation`; an allowed one is followed by
    /// its `agent.tool_result`, a denied one is not run.
    AskConfirmation {
        /// The tool's name.
        name: String,
        /// Its input.
        input: Value,
    },
    /// A file the session writes to its outputs (listed with `scope_id`).
    WriteFile {
        /// The file's name.
        name: String,
        /// Its bytes.
        content: Vec<u8>,
    },
    /// Gives up: idle with `retries_exhausted`.
    FailRetriesExhausted,
    /// Ends the session: `session.status_terminated`.
    Terminate,
    /// Waits before the next step.
    Pause(Duration),
    /// In a multi-agent session: starts a child thread running the callable agent `agent` (its
    /// name or id on the roster of the session agent's `multiagent`), sends it `message`, lets
    /// it play `script` on its own thread (its custom tool calls and permission requests are
    /// cross-posted to the session's stream with `session_thread_id`), and goes on once the
    /// child has reported back (its last message) or ended otherwise. A session without that
    /// agent on its roster gets a `session.error` instead.
    Delegate {
        /// The callable agent's name or id.
        agent: String,
        /// The task, sent as an `agent.thread_message_sent`.
        message: String,
        /// What the child thread does.
        script: Script,
    },
}

/// What the agent does with each user message: steps, then idle with `end_turn` (unless a
/// step ended the turn another way).
///
/// The default, when none is set: echo the message, call the agent's first custom tool if it
/// has one, say what the tool returned, end the turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    pub(crate) steps: Vec<Step>,
}

impl Script {
    /// Returns an empty script (the turn ends at once).
    pub fn new() -> Script {
        Script::default()
    }

    /// Returns the default script.
    pub fn default_turn() -> Script {
        Script::new()
            .step(Step::Echo)
            .step(Step::CallFirstCustomTool)
    }

    /// Adds a step.
    pub fn step(mut self, step: Step) -> Script {
        self.steps.push(step);
        self
    }

    /// Says something.
    pub fn say(self, text: impl Into<String>) -> Script {
        self.step(Step::Say(text.into()))
    }

    /// Calls a custom tool and waits for its result.
    pub fn call_tool(self, name: impl Into<String>, input: Value) -> Script {
        self.step(Step::CallTool {
            name: name.into(),
            input,
        })
    }

    /// Calls a built-in tool (run by a self-hosted environment's worker) and waits for its
    /// `user.tool_result`.
    ///
    /// ```
    /// use managed_agents_emulator::Script;
    ///
    /// let s = Script::new()
    ///     .agent_tool("write", serde_json::json!({"file_path": "a.txt", "content": "hi"}))
    ///     .agent_tool("read", serde_json::json!({"file_path": "a.txt"}));
    /// # let _ = s;
    /// ```
    pub fn agent_tool(self, name: impl Into<String>, input: Value) -> Script {
        self.step(Step::AgentTool {
            name: name.into(),
            input,
        })
    }

    /// Asks for a tool confirmation and waits for it.
    pub fn ask_confirmation(self, name: impl Into<String>, input: Value) -> Script {
        self.step(Step::AskConfirmation {
            name: name.into(),
            input,
        })
    }

    /// Writes an output file.
    pub fn write_file(self, name: impl Into<String>, content: impl Into<Vec<u8>>) -> Script {
        self.step(Step::WriteFile {
            name: name.into(),
            content: content.into(),
        })
    }

    /// Fails with `retries_exhausted`.
    pub fn fail(self) -> Script {
        self.step(Step::FailRetriesExhausted)
    }

    /// Terminates the session.
    pub fn terminate(self) -> Script {
        self.step(Step::Terminate)
    }

    /// Delegates a task to a callable agent of the session's roster, which plays `script` in
    /// a child thread and reports back (see [`Step::Delegate`]).
    ///
    /// ```
    /// use managed_agents_emulator::Script;
    ///
    /// let coordinator = Script::new()
    ///     .say("Asking the researcher.")
    ///     .delegate("Researcher", "Find the release date", Script::new().say("It is May 4."))
    ///     .say("The researcher says May 4.");
    /// # let _ = coordinator;
    /// ```
    pub fn delegate(
        self,
        agent: impl Into<String>,
        message: impl Into<String>,
        script: Script,
    ) -> Script {
        self.step(Step::Delegate {
            agent: agent.into(),
            message: message.into(),
            script,
        })
    }
}

impl Script {
    /// Reads a script from JSON (or from YAML read into a [`Value`]): a list of steps (or
    /// `{"steps": [...]}`), each one of `"echo"`, `"think"`, `"call_first_custom_tool"`,
    /// `"fail"`, `"terminate"`, `{"say": TEXT}`, `{"call_tool": {"name", "input"}}`,
    /// `{"agent_tool": {"name", "input"}}`, `{"ask_confirmation": {"name", "input"}}`,
    /// `{"write_file": {"name", "content"}}`, `{"pause": MS or "DURATION"}` (`"250ms"`, `"2s"`),
    /// `{"pause_ms": MS}`, `{"delegate": {"agent", "message", "script": [STEPS]}}`. An unknown
    /// step or field is an error that says which step.
    ///
    /// ```
    /// use managed_agents_emulator::{Script, Step};
    /// use std::time::Duration;
    ///
    /// let s = Script::from_json(&serde_json::json!(["echo", {"pause": "1s"}, {"say": "done"}]))
    ///     .unwrap();
    /// assert_eq!(
    ///     s,
    ///     Script::new().step(Step::Echo).step(Step::Pause(Duration::from_secs(1))).say("done")
    /// );
    /// ```
    pub fn from_json(v: &Value) -> Result<Script, String> {
        const SHAPE: &str = "a script is a list of steps or {\"steps\": [...]}";
        let steps = match v {
            Value::Array(steps) => steps,
            Value::Object(o) if o.len() == 1 => {
                o.get("steps").and_then(Value::as_array).ok_or(SHAPE)?
            }
            _ => return Err(SHAPE.into()),
        };
        let mut script = Script::new();
        for (i, step) in steps.iter().enumerate() {
            script = script.step(step_from_json(step).map_err(|e| format!("step {}: {e}", i + 1))?);
        }
        Ok(script)
    }
}

/// Reads a duration in JSON: milliseconds, or a string such as `"250ms"`, `"2s"`, `"1m 30s"` (at
/// most a year).
pub(crate) fn duration_from_json(v: &Value, what: &str) -> Result<Duration, String> {
    let d = match v {
        Value::Number(n) => n.as_u64().map(Duration::from_millis).ok_or(format!(
            "{what} needs milliseconds or a duration such as \"2s\""
        ))?,
        Value::String(s) => {
            humantime::parse_duration(s).map_err(|e| format!("{what}: {e} (try 250ms, 2s, 1m)"))?
        }
        _ => {
            return Err(format!(
                "{what} needs milliseconds or a duration such as \"2s\""
            ))
        }
    };
    if d > Duration::from_secs(366 * 24 * 3600) {
        return Err(format!("{what}: more than a year"));
    }
    Ok(d)
}

/// Returns the object argument of a step, with only the fields `allowed`.
fn fields<'a>(
    arg: &'a Value,
    kind: &str,
    allowed: &[&str],
) -> Result<&'a serde_json::Map<String, Value>, String> {
    let o = arg
        .as_object()
        .ok_or(format!("{kind} needs {{{}}}", allowed.join(", ")))?;
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{kind}: unknown field {k:?}")),
        None => Ok(o),
    }
}

fn step_from_json(v: &Value) -> Result<Step, String> {
    if let Some(word) = v.as_str() {
        return match word {
            "echo" => Ok(Step::Echo),
            "think" => Ok(Step::Think),
            "call_first_custom_tool" => Ok(Step::CallFirstCustomTool),
            "fail" => Ok(Step::FailRetriesExhausted),
            "terminate" => Ok(Step::Terminate),
            other => Err(format!("unknown step {other:?}")),
        };
    }
    let (kind, arg) = match v.as_object().map(|o| o.iter().collect::<Vec<_>>()) {
        Some(entries) if entries.len() == 1 => entries[0],
        _ => {
            return Err(format!(
                "a step is a word or an object with one key, not {v}"
            ))
        }
    };
    let text = |o: &serde_json::Map<String, Value>, k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or(format!("{kind} needs a string {k:?}"))
    };
    let named = |kind: &str| -> Result<(String, Value), String> {
        let o = fields(arg, kind, &["name", "input"])?;
        let input = o
            .get("input")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}));
        Ok((text(o, "name")?, input))
    };
    match kind.as_str() {
        "say" => arg
            .as_str()
            .map(|t| Step::Say(t.to_string()))
            .ok_or_else(|| "say needs a string".to_string()),
        "call_tool" => named(kind).map(|(name, input)| Step::CallTool { name, input }),
        "agent_tool" => named(kind).map(|(name, input)| Step::AgentTool { name, input }),
        "ask_confirmation" => {
            named(kind).map(|(name, input)| Step::AskConfirmation { name, input })
        }
        "write_file" => {
            let o = fields(arg, kind, &["name", "content"])?;
            Ok(Step::WriteFile {
                name: text(o, "name")?,
                content: text(o, "content")?.into_bytes(),
            })
        }
        "delegate" => {
            let o = fields(arg, kind, &["agent", "message", "script"])?;
            Ok(Step::Delegate {
                agent: text(o, "agent")?,
                message: text(o, "message")?,
                script: match o.get("script") {
                    Some(s) => Script::from_json(s).map_err(|e| format!("delegate.script {e}"))?,
                    None => Script::new(),
                },
            })
        }
        "pause" => duration_from_json(arg, "pause").map(Step::Pause),
        "pause_ms" => arg
            .as_u64()
            .map(|ms| Step::Pause(Duration::from_millis(ms)))
            .ok_or_else(|| "pause_ms needs a number of milliseconds".to_string()),
        other => Err(format!("unknown step {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_step_reads_from_json() {
        let s = Script::from_json(&json!({"steps": [
            "echo", "think", "call_first_custom_tool", {"say": "hi"},
            {"call_tool": {"name": "t", "input": {"a": 1}}}, {"ask_confirmation": {"name": "bash"}},
            {"write_file": {"name": "a.txt", "content": "x"}}, {"pause_ms": 5}, "fail", "terminate",
            {"agent_tool": {"name": "bash", "input": {"command": "ls"}}}
        ]}))
        .unwrap();
        assert_eq!(s.steps.len(), 11);
        assert_eq!(
            s.steps[10],
            Step::AgentTool {
                name: "bash".into(),
                input: json!({"command": "ls"})
            }
        );
        assert_eq!(
            s.steps[4],
            Step::CallTool {
                name: "t".into(),
                input: json!({"a": 1})
            }
        );
        assert_eq!(s.steps[7], Step::Pause(Duration::from_millis(5)));
    }

    #[test]
    fn a_bad_step_says_which() {
        let e = Script::from_json(&json!(["echo", "dance"])).unwrap_err();
        assert!(e.contains("step 2") && e.contains("dance"), "{e}");
        assert!(Script::from_json(&json!([{"say": 1}])).is_err());
        assert!(Script::from_json(&json!("echo")).is_err());
        let e = Script::from_json(&json!([{"call_tool": {"name": "t", "inptu": {}}}])).unwrap_err();
        assert!(e.contains("step 1") && e.contains("inptu"), "{e}");
        assert!(Script::from_json(&json!({"steps": [], "extra": 1})).is_err());
        let e = Script::from_json(&json!([{"pause": "soon"}])).unwrap_err();
        assert!(e.contains("pause"), "{e}");
        assert!(Script::from_json(&json!([{"pause": "1000y"}])).is_err());
        assert_eq!(
            Script::from_json(&json!([{"pause": 5}, {"pause": "2s"}])).unwrap(),
            Script::new()
                .step(Step::Pause(Duration::from_millis(5)))
                .step(Step::Pause(Duration::from_secs(2)))
        );
    }

    #[test]
    fn a_delegation_reads_from_json_with_its_own_script() {
        let s = Script::from_json(&json!([{"delegate": {"agent": "Researcher",
            "message": "look it up", "script": [{"call_tool": {"name": "lookup"}}, {"say": "found"}]}}]))
        .unwrap();
        let child = Script::new().call_tool("lookup", json!({})).say("found");
        assert_eq!(s, Script::new().delegate("Researcher", "look it up", child));
        let e = Script::from_json(&json!([{"delegate": {"agent": "R", "message": "m",
            "script": ["dance"]}}]))
        .unwrap_err();
        assert!(
            e.contains("step 1") && e.contains("delegate") && e.contains("dance"),
            "{e}"
        );
        assert!(Script::from_json(&json!([{"delegate": {"message": "m"}}])).is_err());
    }
}
