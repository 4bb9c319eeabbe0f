//! Every operation of the API has a generated method, and the spec describes each one fully.
//!
//! The operation table and the methods are generated together, in one pass over the spec
//! (build/operations.rs); the table is read here from the generator itself, so the crate's
//! table stays private.

use crate::generator::operations;
use std::collections::BTreeSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn spec() -> serde_json::Value {
    serde_json::from_str(&read("spec/openapi.json")).expect("spec/openapi.json is JSON")
}

fn listed() -> BTreeSet<String> {
    read("spec/operations.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn the_checked_in_operation_list_matches_the_reference() {
    // The reference lives beside the repository when it is there (in CI it is).
    let Ok(reference) = std::fs::read_to_string("../shared/reference/operations.txt") else {
        return;
    };
    let reference: BTreeSet<String> = reference
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    assert_eq!(reference, listed());
}

#[test]
fn every_listed_operation_is_in_the_spec_and_has_a_generated_method() {
    let spec = spec();
    let listed = listed();
    assert_eq!(listed.len(), 90);
    let table = operations::operation_table(&spec);
    let generated: BTreeSet<String> = table
        .iter()
        .map(|op| format!("{} {}", op.method, op.path))
        .collect();
    let mut in_spec = BTreeSet::new();
    for (path, verbs) in spec["paths"].as_object().unwrap() {
        for verb in verbs.as_object().unwrap().keys() {
            in_spec.insert(format!("{} {}", verb.to_uppercase(), path));
        }
    }
    let missing_spec: Vec<_> = listed.difference(&in_spec).collect();
    let missing_method: Vec<_> = listed.difference(&generated).collect();
    assert!(
        missing_spec.is_empty(),
        "not in spec/openapi.json: {missing_spec:?}"
    );
    assert!(
        missing_method.is_empty(),
        "no generated method: {missing_method:?}"
    );
    assert_eq!(
        generated.len(),
        table.len(),
        "two operations share a method and path"
    );
}

#[test]
fn every_operation_names_its_beta_and_a_success_response() {
    let spec = spec();
    for (path, verbs) in spec["paths"].as_object().unwrap() {
        for (verb, op) in verbs.as_object().unwrap() {
            let beta = op["x-anthropic-beta"].as_str().unwrap_or("");
            assert!(!beta.is_empty(), "{verb} {path} has no beta header");
            // a `200` with its content, or a `204` with none
            assert!(
                op["responses"]["200"].is_object() || op["responses"]["204"].is_object(),
                "{verb} {path} has no success response"
            );
            for p in path.split('/').filter(|s| s.starts_with('{')) {
                let name = p.trim_matches(|c| c == '{' || c == '}');
                let declared = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|q| q["in"] == "path" && q["name"] == name);
                assert!(declared, "{verb} {path} does not declare {name}");
            }
        }
    }
    assert!(spec["components"]["schemas"]["ErrorResponse"].is_object());
}

#[test]
fn the_operation_table_agrees_with_the_spec() {
    let spec = spec();
    for op in operations::operation_table(&spec) {
        let entry = &spec["paths"][&op.path][op.method.to_lowercase()];
        assert_eq!(entry["operationId"], op.id, "{} {}", op.method, op.path);
        assert_eq!(entry["x-anthropic-beta"], op.beta, "{}", op.id);
    }
}

#[test]
fn every_row_of_the_compiled_table_has_one_generated_method() {
    // the operations module this crate was compiled with
    let generated = include_str!(concat!(env!("OUT_DIR"), "/operations.rs"));
    let table = operations::operation_table(&spec());
    for (i, row) in table.iter().enumerate() {
        let call = format!("&OPERATIONS[{i}]");
        assert_eq!(
            generated.matches(&call).count(),
            1,
            "{} {} ({}) is not called by exactly one method",
            row.method,
            row.path,
            row.id
        );
    }
    assert!(!generated.contains(&format!("&OPERATIONS[{}]", table.len())));
}
