//! The generated code, compared with its checked-in copy in `spec/generated/` so that a change
//! of the spec or of the generator shows as a Rust diff in review.

use std::path::Path;

/// Regenerates the code from the checked-in spec, as build.rs does, and compares each file with
/// `spec/generated/<file>`; `UPDATE_SNAPSHOTS=1` rewrites the copies instead.
#[test]
fn the_generated_code_matches_its_checked_in_copy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read =
        |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("read {p}: {e}"));
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v != "0");
    let generated = crate::generator::generate::generate(
        &read("spec/openapi.json"),
        &read("spec/deprecated.json"),
    );
    let mut stale = Vec::new();
    for (name, code) in &generated {
        let copy = root.join("spec/generated").join(name);
        if update {
            std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
            std::fs::write(&copy, code).unwrap_or_else(|e| panic!("write {copy:?}: {e}"));
            continue;
        }
        let old = std::fs::read_to_string(&copy).unwrap_or_default();
        if let Some(diff) = first_difference(&old, code) {
            stale.push(format!("spec/generated/{name}: {diff}"));
        }
    }
    assert!(
        stale.is_empty(),
        "the code build.rs generates differs from its checked-in copy:\n{}\n\
         If the change is meant (a spec bump, a generator change), rewrite the copy with\n\
         `UPDATE_SNAPSHOTS=1 cargo test --test generator` and commit the diff of spec/generated/.",
        stale.join("\n")
    );
    // every file the generator writes has its copy, and no copy is left over
    let mut copies: Vec<String> = std::fs::read_dir(root.join("spec/generated"))
        .expect("spec/generated")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    copies.sort();
    let mut names: Vec<String> = generated.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(
        copies, names,
        "spec/generated/ holds exactly the generated files"
    );
}

/// Where `new` first differs from `old`: the line number and both lines.
fn first_difference(old: &str, new: &str) -> Option<String> {
    if old == new {
        return None;
    }
    if old.is_empty() {
        return Some("no checked-in copy".into());
    }
    let (mut a, mut b) = (old.lines(), new.lines());
    for line in 1.. {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("(end of file)".into(), |l| format!("{l:?}"));
                return Some(format!(
                    "first difference at line {line}:\n  checked in: {}\n  generated:  {}",
                    show(x),
                    show(y)
                ));
            }
        }
    }
    unreachable!()
}

#[test]
fn the_first_difference_names_its_line() {
    assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
    let d = first_difference("a\nb\nc\n", "a\nB\nc\n").unwrap();
    assert!(
        d.contains("line 2") && d.contains("\"b\"") && d.contains("\"B\""),
        "{d}"
    );
    let d = first_difference("a\n", "a\nb\n").unwrap();
    assert!(d.contains("line 2") && d.contains("(end of file)"), "{d}");
    // a difference in the last newline only is still a difference
    assert!(first_difference("a", "a\n").is_some());
    assert_eq!(first_difference("", "a").unwrap(), "no checked-in copy");
}
