//! The operations module: the resource accessors, one blocking method per operation, the query
//! structs, and the operation table.

use super::model::{Api, Body, Kind, Operation, Query, Response};
use super::names::{doc, group_type, lit, snake};
use super::schema::Gen;
use super::template::fill;
use std::collections::BTreeSet;

const HEADER: &str = r#"/// The `anthropic-version` the official SDK of the spec sends (`info.x-anthropic-version`).
pub(crate) const SPEC_ANTHROPIC_VERSION: &str = {version};

/// Every operation of the API that this crate binds, in the order of the spec.
pub(crate) static OPERATIONS: &[Operation] = &[
{rows}];

"#;

const RESOURCE: &str = r#"/// The `{group}` resource: `client.{calls}`.
#[derive(Debug, Clone, Copy)]
pub struct {ty}<'c> {
    client: &'c Client,
}

impl<'c> {ty}<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

{accessors}{methods}}

"#;

const SUB_RESOURCE: &str = r#"    /// The `{group}` resource.
    pub fn {leaf}(&self) -> {ty}<'c> {
        {ty} { client: self.client }
    }

"#;

const CLIENT: &str = r#"impl Client {
{accessors}}
"#;

const ROOT_RESOURCE: &str = r#"    /// The `{group}` resource.
    pub fn {group}(&self) -> {ty}<'_> {
        {ty} { client: self }
    }

"#;

const METHODS: &str = r#"    pub fn {method}(&self{args}) -> Result<{ret}> {
        self.{method}_with({call_args}&RequestOptions::default())
    }

    /// [`Self::{method}`] with per-call options (deadline, retries, extra headers and query).
    pub fn {method}_with(&self{args}, options: &RequestOptions) -> Result<{ret}> {
{path}{span}        let response = self.client.execute(&OPERATIONS[{index}], span, path, {query}, {body}, options)?;
        {finish}
    }

"#;

const PAGE: &str = r#"let page: Page<{item}> = response.json()?;
        {again}"#;

const NEXT_PAGE: &str = r#"let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        {path_clones}
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.{group_call}.{method}_with({path_refs}&params, &options)
        }))"#;

const QUERY_STRUCT: &str = r#"/// The query of `{id}`; every field is optional.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct {name} {
{fields}}

impl {name} {
{setters}    /// The query pairs, in the spec's order; arrays repeat their key.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
{pushes}        q
    }
}

"#;

const QUERY_SETTER: &str = r#"    /// Sets `{wire}`.
    pub fn {bare}(mut self, value: impl Into<{ty}>) -> Self {
        self.{field} = Some(value.into());
        self
    }

"#;

const PUSH_EACH: &str = r#"        for v in self.{field}.iter().flatten() {
            q.push(({wire}, crate::op::QueryValue::query_value(v)));
        }
"#;

const PUSH: &str = r#"        if let Some(v) = &self.{field} {
            q.push(({wire}, crate::op::QueryValue::query_value(v)));
        }
"#;

/// One row of the operation table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpRow {
    /// `group.method`, as the Python SDK names it (`sessions.events.send`).
    pub(crate) id: String,
    /// The HTTP method, upper case.
    pub(crate) method: String,
    /// The path template.
    pub(crate) path: String,
    /// The `anthropic-beta` value.
    pub(crate) beta: String,
    /// The `accept` value the official SDK sends (`x-accept`; JSON when the spec names none).
    pub(crate) accept: String,
}

impl OpRow {
    fn new(op: &Operation) -> OpRow {
        OpRow {
            id: format!("{}.{}", op.group, op.method),
            method: op.verb.to_uppercase(),
            path: op.path.clone(),
            beta: op.beta.clone(),
            accept: op.accept.clone(),
        }
    }
}

/// The operation table: every operation of the spec, in the spec's order, which is also the
/// order of the generated methods (each calls `OPERATIONS[its index]`). `tests/generator/coverage.rs`
/// reads it; the build writes the same rows into `OPERATIONS`.
#[allow(dead_code)]
pub(crate) fn operation_table(spec: &serde_json::Value) -> Vec<OpRow> {
    Api::from_json(spec)
        .operations
        .iter()
        .map(OpRow::new)
        .collect()
}

impl Gen<'_> {
    /// The operations module, and the query structs (which go to the types module).
    pub(crate) fn operations(&mut self) -> (String, String) {
        let api = self.api;
        let version = api.version.as_deref().expect("info.x-anthropic-version");
        let rows: String = api
            .operations
            .iter()
            .map(|op| {
                let row = OpRow::new(op);
                format!(
                    "    Operation {{ id: {}, method: {}, path: {}, beta: {}, accept: {} }},\n",
                    lit(&row.id),
                    lit(&row.method),
                    lit(&row.path),
                    lit(&row.beta),
                    lit(&row.accept)
                )
            })
            .collect();
        let mut out = fill(HEADER, &[("version", &lit(version)), ("rows", &rows)]);
        // each method calls `OPERATIONS[its index]`
        let methods: Vec<String> = api
            .operations
            .iter()
            .enumerate()
            .map(|(index, op)| self.operation(op, index))
            .collect();
        let groups: BTreeSet<&str> = api.operations.iter().map(|o| o.group.as_str()).collect();
        for g in &groups {
            let accessors: String = groups
                .iter()
                .filter(|s| {
                    s.starts_with(&format!("{g}."))
                        && s.matches('.').count() == g.matches('.').count() + 1
                })
                .map(|sub| {
                    let leaf = sub.rsplit('.').next().expect("leaf");
                    fill(
                        SUB_RESOURCE,
                        &[("group", sub), ("leaf", leaf), ("ty", &group_type(sub))],
                    )
                })
                .collect();
            let own: String = api
                .operations
                .iter()
                .zip(&methods)
                .filter(|(o, _)| &o.group == g)
                .map(|(_, m)| m.as_str())
                .collect();
            out.push_str(&fill(
                RESOURCE,
                &[
                    ("group", g),
                    ("calls", &calls(g)),
                    ("ty", &group_type(g)),
                    ("accessors", &accessors),
                    ("methods", &own),
                ],
            ));
        }
        let roots: String = groups
            .iter()
            .filter(|g| !g.contains('.'))
            .map(|g| fill(ROOT_RESOURCE, &[("group", g), ("ty", &group_type(g))]))
            .collect();
        out.push_str(&fill(CLIENT, &[("accessors", &roots)]));
        let queries: String = api
            .operations
            .iter()
            .filter_map(|op| Some(self.query_struct(op.query.as_ref()?, op)))
            .collect();
        (out, queries)
    }

    /// One operation's two methods: `<method>` and `<method>_with`.
    pub(crate) fn operation(&mut self, op: &Operation, index: usize) -> String {
        // an event stream's raw response is `<method>_response`; src/stream.rs builds
        // the `EventStream` that users call `<method>` on top of it
        let method = match op.response {
            Response::Stream => format!("{}_response", op.method),
            _ => op.method.clone(),
        };
        let mut args: Vec<String> = Vec::new();
        let mut call_args: Vec<String> = Vec::new();
        for p in &op.path_params {
            args.push(format!("{p}: &str"));
            call_args.push(p.clone());
        }
        let query = match &op.query {
            Some(q) => {
                args.push(format!("params: &{}", q.name));
                call_args.push("params".into());
                "params.to_query()"
            }
            None => "Vec::new()",
        };
        let body = match &op.body {
            Body::Json(t) => {
                args.push(format!("body: &{}", self.rust_type(t)));
                call_args.push("body".into());
                "Body::json(body)?"
            }
            Body::Multipart => {
                args.push("form: impl Into<Multipart>".into());
                call_args.push("form".into());
                "Body::Multipart(form.into())"
            }
            Body::None => "Body::Empty",
        };
        let (ret, finish) = match &op.response {
            Response::Stream | Response::Bytes => ("Response".to_string(), "Ok(response)".into()),
            Response::Page(item) => {
                let item = self.rust_type(item);
                let paged = op
                    .query
                    .iter()
                    .flat_map(|q| &q.params)
                    .any(|q| q.wire == "page");
                let again = if paged {
                    next_page(op, &method)
                } else {
                    "Ok(page)".into()
                };
                (
                    format!("Page<{item}>"),
                    fill(PAGE, &[("item", &item), ("again", &again)]),
                )
            }
            Response::Json(t) => (self.rust_type(t), "response.json()".into()),
            // no `200` (a `204`): `()`
            Response::Empty => ("()".into(), "response.finish()".into()),
        };
        let mut d = op.summary.clone().unwrap_or_else(|| method.clone());
        if let Some(desc) = &op.description {
            d.push_str("\n\n");
            d.push_str(desc);
        }
        d.push_str(&format!("\n\n`{} {}`", op.verb.to_uppercase(), op.path));
        if matches!(op.body, Body::Multipart) {
            d.push_str("\n\nThe body is `multipart/form-data`; `Files::upload` builds it from a path or any reader.");
        }
        let args: String = args.iter().map(|a| format!(", {a}")).collect();
        let call_args: String = call_args.iter().map(|a| format!("{a}, ")).collect();
        let index = index.to_string();
        doc(Some(&d), "    ")
            + &fill(
                METHODS,
                &[
                    ("method", &method),
                    ("args", &args),
                    ("ret", &ret),
                    ("call_args", &call_args),
                    ("path", &path_expr(&op.path)),
                    ("span", &super::spans::span_statement(op)),
                    ("index", &index),
                    ("query", query),
                    ("body", body),
                    ("finish", &finish),
                ],
            )
    }

    /// The struct of an operation's query, its setters and `to_query`.
    pub(crate) fn query_struct(&mut self, query: &Query, op: &Operation) -> String {
        let mut fields = String::new();
        let mut setters = String::new();
        let mut pushes = String::new();
        for p in &query.params {
            let wire = p.wire.as_str();
            let field = snake(p.rust_name.as_deref().unwrap_or(wire));
            // a query value of `null` is the same as no value: the SDK leaves both out
            let ty = self.rust_type_plain(&p.ty.kind);
            let fallback = format!("`{wire}`.");
            fields.push_str(&doc(
                Some(p.description.as_deref().unwrap_or(&fallback)),
                "    ",
            ));
            fields.push_str(&format!("    pub {field}: Option<{ty}>,\n"));
            setters.push_str(&fill(
                QUERY_SETTER,
                &[
                    ("wire", wire),
                    ("bare", field.trim_start_matches("r#")),
                    ("ty", &ty),
                    ("field", &field),
                ],
            ));
            let push = match p.ty.kind {
                Kind::Array(_) => PUSH_EACH,
                _ => PUSH,
            };
            pushes.push_str(&fill(push, &[("field", &field), ("wire", &lit(wire))]));
        }
        fill(
            QUERY_STRUCT,
            &[
                ("id", op.id.as_deref().unwrap_or("")),
                ("name", &query.name),
                ("fields", &fields),
                ("setters", &setters),
                ("pushes", &pushes),
            ],
        )
    }
}

/// `client.sessions().events()` for `sessions.events`, without `client.`.
fn calls(group: &str) -> String {
    group
        .split('.')
        .map(|p| format!("{p}()"))
        .collect::<Vec<_>>()
        .join(".")
}

/// A list's next page: the same call with the cursor as `page`.
fn next_page(op: &Operation, method: &str) -> String {
    let path_clones: Vec<String> = op
        .path_params
        .iter()
        .map(|p| format!("let {p} = {p}.to_string();"))
        .collect();
    let path_refs: String = op.path_params.iter().map(|p| format!("&{p}, ")).collect();
    fill(
        NEXT_PAGE,
        &[
            ("path_clones", &path_clones.join("\n        ")),
            ("group_call", &calls(&op.group)),
            ("method", method),
            ("path_refs", &path_refs),
        ],
    )
}

/// The statement that builds the path, every parameter checked and percent-encoded.
fn path_expr(path: &str) -> String {
    let mut fmt_path = String::new();
    let mut fmt_args = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        fmt_path.push_str(&rest[..start]);
        fmt_path.push_str("{}");
        let name = &rest[start + 1..end];
        fmt_args.push(format!("path_segment({}, {name})?", lit(name)));
        rest = &rest[end + 1..];
    }
    fmt_path.push_str(rest);
    if fmt_args.is_empty() {
        format!("        let path = {}.to_string();\n", lit(&fmt_path))
    } else {
        format!(
            "        let path = format!({}, {});\n",
            lit(&fmt_path),
            fmt_args.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn api(responses: Value) -> Api {
        Api::from_json(&json!({
            "components": {"schemas": {
                "Thing": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                "ThingStopParams": {"type": "object", "x-request": true, "properties": {"force": {"type": "boolean"}}}
            }},
            "paths": {"/v1/things/{thing_id}/stop": {"post": {
                "operationId": "things.stop", "x-group": "things", "x-method": "stop",
                "x-anthropic-beta": "b",
                "parameters": [{"name": "thing_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingStopParams"}}}},
                "responses": responses
            }}}
        }))
    }

    #[test]
    fn a_204_answer_is_a_unit_and_the_body_is_read_to_its_end() {
        let api = api(json!({"204": {"description": "No content."}}));
        let mut g = Gen::new(&api);
        let code = g.operation(&api.operations[0], 0);
        assert!(
            code.contains(
                "pub fn stop(&self, thing_id: &str, body: &ThingStopParams) -> Result<()>"
            ),
            "{code}"
        );
        assert!(code.contains("response.finish()"), "{code}");
        assert!(
            code.contains("let path = format!(\"/v1/things/{}/stop\", path_segment(\"thing_id\", thing_id)?);"),
            "{code}"
        );
    }

    #[test]
    fn a_200_answer_with_json_is_its_type() {
        let api = api(json!({"200": {"description": "Success.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}));
        let mut g = Gen::new(&api);
        let code = g.operation(&api.operations[0], 0);
        assert!(code.contains("-> Result<Thing>"), "{code}");
        assert!(code.contains("response.json()"), "{code}");
        assert!(code.contains("&OPERATIONS[0], span,"), "{code}");
        assert!(
            code.contains("let span = crate::trace::call_span!(\"anthropic.things.stop\");"),
            "{code}"
        );
    }
}
