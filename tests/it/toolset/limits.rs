//! The read and edit size caps as the official toolset 2.17 has them: `read` returns a file
//! of at most 110,000 bytes whole (a larger one asks for a `view_range`), `edit` loads one of
//! up to 256 KiB, and a `replace_all` whose result would pass that cap is refused.

use super::*;

#[test]
fn read_asks_for_a_view_range_above_110000_bytes() {
    let sb = Sandbox::new("read-cap");
    let ts = sb.toolset();
    assert_eq!(managed_agents::toolset::DEFAULT_MAX_READ_BYTES, 110_000);
    fs::write(sb.work.join("at.txt"), "a".repeat(110_000)).unwrap();
    assert_eq!(
        ok(call(&ts, "read", json!({"file_path": "at.txt"}))).len(),
        110_000
    );
    let text: String = (0..1101)
        .map(|i| format!("{i:04}{}\n", "y".repeat(95)))
        .collect();
    assert_eq!(text.len(), 110_100);
    fs::write(sb.work.join("over.txt"), &text).unwrap();
    let whole = err(call(&ts, "read", json!({"file_path": "over.txt"})));
    assert_eq!(
        whole,
        "read: over.txt is 110100 bytes, exceeds 110000-byte limit. \
         Use the view_range parameter to read specific line ranges, e.g. view_range: [1, 500]."
    );
    let part = ok(call(
        &ts,
        "read",
        json!({"file_path": "over.txt", "view_range": [1101, 1101]}),
    ));
    assert!(part.starts_with("1100y"), "{part}");
    // edit still loads it: its cap is 256 KiB
    ok(call(
        &ts,
        "edit",
        json!({"file_path": "over.txt", "old_string": "0000y", "new_string": "0000z"}),
    ));
    // a configured cap binds both
    let big =
        AgentToolset::new(AgentToolContext::new(&sb.work).max_file_bytes(Some(200_000))).unwrap();
    assert_eq!(
        ok(call(&big, "read", json!({"file_path": "over.txt"}))).len(),
        110_100
    );
}

#[test]
fn a_replace_all_whose_result_passes_the_cap_is_refused() {
    let sb = Sandbox::new("edit-cap");
    let ts = sb.toolset();
    // 2,000 markers in a 20,000-byte file; each replacement adds 199 bytes: 418,000 bytes
    let text = "<x>123456\n".repeat(2_000);
    fs::write(sb.work.join("grow.txt"), &text).unwrap();
    let refused = err(call(
        &ts,
        "edit",
        json!({"file_path": "grow.txt", "old_string": "<x>", "new_string": "z".repeat(202), "replace_all": true}),
    ));
    assert_eq!(
        refused,
        "edit: 2000 replacements would make grow.txt 418000 bytes, exceeds 262144-byte limit."
    );
    assert_eq!(fs::read_to_string(sb.work.join("grow.txt")).unwrap(), text);
    // within the cap it goes through
    let done = ok(call(
        &ts,
        "edit",
        json!({"file_path": "grow.txt", "old_string": "<x>", "new_string": "<y>", "replace_all": true}),
    ));
    assert_eq!(done, "edited grow.txt (2000 replacement(s))");
}
