//! Input that does not match a tool's schema, and the result as an event.

use super::*;

#[test]
fn input_that_does_not_match_the_schema_is_an_error_result() {
    let sb = Sandbox::new("schema");
    let ts = sb.toolset();
    let cases = [
        ("read", json!({})),
        ("read", json!({"file_path": 7})),
        ("read", json!({"file_path": "a", "view_range": ["1", "2"]})),
        ("write", json!({"file_path": "a.txt"})),
        ("write", json!({"file_path": ["a"], "content": "x"})),
        ("edit", json!({"file_path": "a.txt", "old_string": "x"})),
        (
            "edit",
            json!({"file_path": "a.txt", "old_string": "x", "new_string": "y", "replace_all": "yes"}),
        ),
        ("glob", json!({"path": "."})),
        ("grep", json!({"pattern": null})),
        ("bash", json!({"command": 1})),
        ("bash", json!({"command": "true", "timeout_ms": -5})),
    ];
    for (name, input) in cases {
        let text = err(call(&ts, name, input.clone()));
        assert!(
            text.starts_with(&format!("invalid {name} input: ")),
            "{name} {input}: {text}"
        );
    }
    let text = err(call(
        &ts,
        "read",
        json!({"file_path": "a", "view_range": [1]}),
    ));
    assert_eq!(text, "read: view_range must be [start_line, end_line]");
    assert_eq!(
        err(call(&ts, "read", json!({"file_path": ""}))),
        "read: file_path is required"
    );
    assert_eq!(
        err(call(
            &ts,
            "edit",
            json!({"file_path": "a", "old_string": "", "new_string": "y"})
        )),
        "edit: old_string is required"
    );
    // Odd values that do match the schema are refused or read sensibly, never a panic.
    let nul = err(call(
        &ts,
        "write",
        json!({"file_path": "a\u{0}b", "content": "x"}),
    ));
    assert_eq!(
        nul,
        "write: path 'a\\x00b': file name contained an unexpected nul byte"
    );
    fs::write(sb.work.join("sub/lines.txt"), "1\n2\n3\n").unwrap();
    for range in [[i64::MIN, i64::MAX], [i64::MAX, i64::MIN], [-5, 2]] {
        let got = call(
            &ts,
            "read",
            json!({"file_path": "sub/lines.txt", "view_range": range}),
        );
        assert!(!got.is_error, "{range:?}: {}", got.text());
    }
    let huge = call(
        &ts,
        "bash",
        json!({"command": "echo ok", "timeout_ms": u64::MAX}),
    );
    assert_eq!(ok(huge), "ok");
    let unknown = err(call(&ts, "web_fetch", json!({"url": "x"})));
    assert!(
        unknown.starts_with("unknown tool \"web_fetch\""),
        "{unknown}"
    );
    let late = ts.call(
        "read",
        json!({"file_path": "a"}).as_object().unwrap(),
        Deadline::after(Duration::ZERO),
    );
    assert!(late.is_error);
    assert!(fs::read_dir(&sb.work)
        .unwrap()
        .all(|e| e.unwrap().file_name() == "sub"));
}

#[test]
fn a_result_becomes_the_tool_result_event() {
    let result = ToolResult::error("read: nope.txt: no such file or directory");
    assert_eq!(result.text(), "read: nope.txt: no such file or directory");
    let event = serde_json::to_value(result.into_event("sevt_1")).unwrap();
    assert_eq!(
        event,
        json!({
            "type": "user.tool_result",
            "tool_use_id": "sevt_1",
            "content": [{"type": "text", "text": "read: nope.txt: no such file or directory"}],
            "is_error": true,
        })
    );
    let text = ToolResult::text_result("ok");
    assert!(
        matches!(&text.content[0], UserCustomToolResultEventParamsContent::Text(t) if t.text == "ok")
    );
    assert!(AgentToolset::handles("grep") && !AgentToolset::handles("web_fetch"));
    let missing = AgentToolset::new(AgentToolContext::new("/nonexistent/work/dir"));
    assert!(missing.is_err());
}

#[test]
fn a_toolset_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<AgentToolset>();
    shared::<ToolResult>();
}
