//! Memories and memory versions through the crate's client: content and its SHA-256, views,
//! unique paths, preconditions, listing by prefix and depth, versions for every change that
//! outlive the memory, and redaction.

use crate::support::emulated::setup;
use managed_agents::types::*;
use managed_agents::Client;

fn sha(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn memories_change_by_versions_and_keep_them_after_deletion() {
    let (emu, c) = setup();
    let store = c
        .memory_stores()
        .create(&MemoryStoreCreateParams::new("notes"))
        .unwrap();
    let mems = c.memory_stores().memories();
    let mem = mems
        .create(
            &store.id,
            &Default::default(),
            &MemoryCreateParams::new("/projects/a.md").content("one"),
        )
        .unwrap();
    assert_eq!(mem.content, None, "basic by default on create");
    assert_eq!(mem.content_sha256, sha("one"));
    let got = mems
        .retrieve(&store.id, &mem.id, &Default::default())
        .unwrap();
    assert_eq!(
        got.content.as_deref(),
        Some("one"),
        "full by default on retrieve"
    );

    // a second memory at the same path is a conflict; no retries for the test's sake
    let once = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .max_retries(0)
        .build()
        .unwrap();
    let err = once
        .memory_stores()
        .memories()
        .create(
            &store.id,
            &Default::default(),
            &MemoryCreateParams::new("/projects/a.md").content("x"),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(
        err.to_string().contains("memory_path_conflict_error"),
        "{err}"
    );

    // an update with a stale precondition fails, with the right one succeeds
    let stale = MemoryUpdateParams::new()
        .content("two")
        .precondition(PreconditionParam::new().content_sha256(sha("zzz")));
    let err = once
        .memory_stores()
        .memories()
        .update(&store.id, &mem.id, &Default::default(), &stale)
        .unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    let fresh = MemoryUpdateParams::new()
        .content("two")
        .path("/projects/b.md")
        .precondition(PreconditionParam::new().content_sha256(sha("one")));
    let updated = mems
        .update(&store.id, &mem.id, &Default::default(), &fresh)
        .unwrap();
    assert_eq!(
        (updated.id.as_str(), updated.path.as_str()),
        (mem.id.as_str(), "/projects/b.md")
    );
    assert_eq!(updated.content_sha256, sha("two"));
    assert_ne!(updated.memory_version_id, mem.memory_version_id);

    mems.create(
        &store.id,
        &Default::default(),
        &MemoryCreateParams::new("/projects/deep/c.md").content("c"),
    )
    .unwrap();
    mems.create(
        &store.id,
        &Default::default(),
        &MemoryCreateParams::new("/top.md").content("t"),
    )
    .unwrap();
    let under = mems
        .list(
            &store.id,
            &MemoryListParams::default()
                .path_prefix("/projects/")
                .depth(1),
        )
        .unwrap();
    let shown: Vec<(String, bool)> = under
        .data
        .iter()
        .map(|i| match i {
            MemoryListItem::Memory(m) => (m.path.clone(), false),
            MemoryListItem::MemoryPrefix(p) => (p.path.clone(), true),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("/projects/b.md".to_string(), false),
            ("/projects/deep/".to_string(), true)
        ]
    );
    assert_eq!(
        mems.list(&store.id, &Default::default())
            .unwrap()
            .data
            .len(),
        3
    );

    let err = once
        .memory_stores()
        .memories()
        .delete(
            &store.id,
            &mem.id,
            &MemoryDeleteParams::default().expected_content_sha256(sha("one")),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    mems.delete(&store.id, &mem.id, &Default::default())
        .unwrap();
    assert_eq!(
        mems.retrieve(&store.id, &mem.id, &Default::default())
            .unwrap_err()
            .status(),
        Some(404)
    );

    let versions = c.memory_stores().memory_versions();
    let lineage = versions
        .list(
            &store.id,
            &MemoryVersionListParams::default().memory_id(mem.id.as_str()),
        )
        .unwrap();
    let ops: Vec<MemoryVersionOperation> =
        lineage.data.iter().map(|v| v.operation.clone()).collect();
    assert_eq!(
        ops,
        [
            MemoryVersionOperation::Deleted,
            MemoryVersionOperation::Modified,
            MemoryVersionOperation::Created
        ]
    );
    let first = &lineage.data[2];
    let full = versions
        .retrieve(&store.id, &first.id, &Default::default())
        .unwrap();
    assert_eq!(
        (full.content.as_deref(), full.path.as_deref()),
        (Some("one"), Some("/projects/a.md"))
    );
    let redacted = versions.redact(&store.id, &first.id).unwrap();
    assert!(redacted.redacted_at.is_some());
    assert_eq!((redacted.content, redacted.path), (None, None));
    assert_eq!(
        versions
            .retrieve(&store.id, "memver_missing", &Default::default())
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[test]
fn bad_memory_paths_and_oversize_content_are_refused() {
    let (_emu, c) = setup();
    let store = c
        .memory_stores()
        .create(&MemoryStoreCreateParams::new("notes"))
        .unwrap();
    let create = |path: &str, content: String| {
        c.memory_stores()
            .memories()
            .create(
                &store.id,
                &Default::default(),
                &MemoryCreateParams::new(path).content(content),
            )
            .map(|_| ())
            .map_err(|e| e.status())
    };
    for bad in ["no-slash.md", "/a//b", "/a/../b", "/a/./b", "/"] {
        assert_eq!(create(bad, "x".into()), Err(Some(400)), "{bad}");
    }
    assert_eq!(create("/big.md", "x".repeat(102_401)), Err(Some(400)));
    assert_eq!(create("/ok.md", "x".repeat(102_400)), Ok(()));
}
