//! The operations module: the resource accessors, one blocking method per operation, the query
//! structs, and the operation table.

use crate::names::{doc, group_type, lit, snake};
use crate::schema::Gen;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

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

/// The operation table: every operation of the spec, in the spec's order, which is also the
/// order of the generated methods (each calls `OPERATIONS[its index]`).
pub(crate) fn operation_table(spec: &Value) -> Vec<OpRow> {
    let mut rows = Vec::new();
    for (path, verbs) in spec["paths"].as_object().expect("paths") {
        for (verb, op) in verbs.as_object().expect("verbs") {
            rows.push(OpRow {
                id: format!(
                    "{}.{}",
                    op["x-group"].as_str().expect("x-group"),
                    op["x-method"].as_str().expect("x-method")
                ),
                method: verb.to_uppercase(),
                path: path.clone(),
                beta: op["x-anthropic-beta"].as_str().unwrap_or("").to_string(),
                accept: op["x-accept"]
                    .as_str()
                    .unwrap_or("application/json")
                    .to_string(),
            });
        }
    }
    rows
}

impl Gen<'_> {
    pub(crate) fn operations(&mut self) -> (String, String) {
        struct Op {
            group: String,
            code: String,
        }
        let mut ops: Vec<Op> = Vec::new();
        let mut query_structs = String::new();
        let paths = self.spec["paths"].as_object().expect("paths").clone();
        for (path, verbs) in &paths {
            for (verb, op) in verbs.as_object().expect("verbs") {
                let group = op["x-group"].as_str().expect("x-group").to_string();
                let (code, qs) = self.operation(path, verb, op, ops.len());
                query_structs.push_str(&qs);
                ops.push(Op { group, code });
            }
        }
        let mut out = String::new();
        // the version header of the SDK the spec was extracted from
        let version = self.spec["info"]["x-anthropic-version"]
            .as_str()
            .expect("info.x-anthropic-version");
        let _ = writeln!(
            out,
            "/// The `anthropic-version` the official SDK of the spec sends (`info.x-anthropic-version`).\npub(crate) const SPEC_ANTHROPIC_VERSION: &str = {};\n",
            lit(version)
        );
        // the operation table
        let _ = writeln!(
            out,
            "/// Every operation of the API that this crate binds, in the order of the spec."
        );
        let _ = writeln!(out, "pub(crate) static OPERATIONS: &[Operation] = &[");
        let table = operation_table(self.spec);
        assert_eq!(table.len(), ops.len());
        for row in &table {
            let _ = writeln!(
                out,
                "    Operation {{ id: {}, method: {}, path: {}, beta: {}, accept: {} }},",
                lit(&row.id),
                lit(&row.method),
                lit(&row.path),
                lit(&row.beta),
                lit(&row.accept)
            );
        }
        out.push_str("];\n\n");
        // resource structs, accessors and methods
        let groups: BTreeSet<String> = ops.iter().map(|o| o.group.clone()).collect();
        for g in &groups {
            let ty = group_type(g);
            let _ = writeln!(
                out,
                "/// The `{g}` resource: `client.{}`.",
                g.split('.')
                    .map(|p| format!("{p}()"))
                    .collect::<Vec<_>>()
                    .join(".")
            );
            let _ = writeln!(out, "#[derive(Debug, Clone, Copy)]");
            let _ = writeln!(out, "pub struct {ty}<'c> {{\n    client: &'c Client,\n}}\n");
            let _ = writeln!(out, "impl<'c> {ty}<'c> {{");
            let _ = writeln!(out, "    #[allow(dead_code)]\n    pub(crate) fn client(&self) -> &'c Client {{\n        self.client\n    }}\n");
            // sub-resources
            for sub in groups.iter().filter(|s| {
                s.starts_with(&format!("{g}."))
                    && s.matches('.').count() == g.matches('.').count() + 1
            }) {
                let leaf = sub.rsplit('.').next().expect("leaf");
                let _ = writeln!(out, "    /// The `{sub}` resource.");
                let _ = writeln!(out, "    pub fn {leaf}(&self) -> {}<'c> {{\n        {} {{ client: self.client }}\n    }}\n", group_type(sub), group_type(sub));
            }
            for o in ops.iter().filter(|o| &o.group == g) {
                out.push_str(&o.code);
            }
            out.push_str("}\n\n");
        }
        let _ = writeln!(out, "impl Client {{");
        for g in groups.iter().filter(|g| !g.contains('.')) {
            let _ = writeln!(out, "    /// The `{g}` resource.");
            let _ = writeln!(
                out,
                "    pub fn {g}(&self) -> {}<'_> {{\n        {} {{ client: self }}\n    }}\n",
                group_type(g),
                group_type(g)
            );
        }
        out.push_str("}\n");
        (out, query_structs)
    }

    /// One operation: its two methods, and its query struct.
    pub(crate) fn operation(
        &mut self,
        path: &str,
        verb: &str,
        op: &Value,
        index: usize,
    ) -> (String, String) {
        // an event stream's raw response is `<method>_response`; src/stream.rs builds
        // the `EventStream` that users call `<method>` on top of it
        let is_stream = op["responses"]["200"].get("x-stream").is_some();
        let method_name = format!(
            "{}{}",
            op["x-method"].as_str().expect("x-method"),
            if is_stream { "_response" } else { "" }
        );
        let method = method_name.as_str();
        let mut args: Vec<String> = Vec::new();
        let mut call_args: Vec<String> = Vec::new();
        let mut path_params: Vec<String> = Vec::new();
        let mut query_params: Vec<Value> = Vec::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            match p.get("in").and_then(Value::as_str) {
                Some("path") => path_params.push(p["name"].as_str().expect("name").to_string()),
                Some("query") => query_params.push(p.clone()),
                _ => {}
            }
        }
        for p in &path_params {
            args.push(format!("{p}: &str"));
            call_args.push(p.clone());
        }
        let mut qs = String::new();
        let query_expr = if query_params.is_empty() {
            "Vec::new()".to_string()
        } else {
            let qname = op["x-query-name"]
                .as_str()
                .expect("x-query-name")
                .to_string();
            qs = self.query_struct(&qname, &query_params, op);
            args.push(format!("params: &{qname}"));
            call_args.push("params".into());
            "params.to_query()".to_string()
        };
        let mut body_expr = "Body::Empty".to_string();
        let mut multipart = false;
        if let Some(content) = op.get("requestBody").and_then(|b| b["content"].as_object()) {
            if let Some(j) = content.get("application/json") {
                let t = self.rust_type(&j["schema"]);
                args.push(format!("body: &{t}"));
                call_args.push("body".into());
                body_expr = "Body::json(body)?".into();
            } else if content.contains_key("multipart/form-data") {
                args.push("form: impl Into<Multipart>".into());
                call_args.push("form".into());
                body_expr = "Body::Multipart(form.into())".into();
                multipart = true;
            }
        }
        // no `200` (a `204`): `Null`, which has no content, so `()`
        let resp = &op["responses"]["200"];
        let (ret, finish) = if resp.get("x-stream").is_some() {
            ("Response".to_string(), "Ok(response)".to_string())
        } else if resp.get("x-pagination").is_some() {
            let item = self.rust_type(
                &resp["content"]["application/json"]["schema"]["properties"]["data"]["items"],
            );
            let again = if query_params.iter().any(|q| q["name"] == "page") {
                let path_clones: Vec<String> = path_params
                    .iter()
                    .map(|p| format!("let {p} = {p}.to_string();"))
                    .collect();
                let path_refs: Vec<String> = path_params.iter().map(|p| format!("&{p}")).collect();
                let group_call = op["x-group"]
                    .as_str()
                    .expect("group")
                    .split('.')
                    .map(|p| format!("{p}()"))
                    .collect::<Vec<_>>()
                    .join(".");
                format!(
                    "let client = self.client.clone();\n        let params = params.clone();\n        let options = options.clone();\n        {}\n        Ok(page.with_next(move |cursor| {{\n            let mut params = params.clone();\n            params.page = Some(cursor.to_string());\n            client.{group_call}.{method}_with({}&params, &options)\n        }}))",
                    path_clones.join("\n        "),
                    path_refs.iter().map(|p| format!("{p}, ")).collect::<String>(),
                )
            } else {
                "Ok(page)".into()
            };
            (
                format!("Page<{item}>"),
                format!("let page: Page<{item}> = response.json()?;\n        {again}"),
            )
        } else if let Some(j) = resp.get("content").and_then(|c| c.get("application/json")) {
            let t = self.rust_type(&j["schema"]);
            (t, "response.json()".into())
        } else if resp
            .get("content")
            .and_then(|c| c.get("application/octet-stream"))
            .is_some()
        {
            ("Response".into(), "Ok(response)".into())
        } else {
            ("()".into(), "response.finish()".into())
        };
        let mut code = String::new();
        let summary = op.get("summary").and_then(Value::as_str).unwrap_or(method);
        let mut d = summary.to_string();
        if let Some(desc) = op.get("description").and_then(Value::as_str) {
            d.push_str("\n\n");
            d.push_str(desc);
        }
        d.push_str(&format!("\n\n`{} {path}`", verb.to_uppercase()));
        if multipart {
            d.push_str("\n\nThe body is `multipart/form-data`; `Files::upload` builds it from a path or any reader.");
        }
        code.push_str(&doc(Some(&d), "    "));
        let _ = writeln!(
            code,
            "    pub fn {method}(&self{}) -> Result<{ret}> {{",
            args.iter().map(|a| format!(", {a}")).collect::<String>()
        );
        let _ = writeln!(
            code,
            "        self.{method}_with({}&RequestOptions::default())\n    }}\n",
            call_args
                .iter()
                .map(|a| format!("{a}, "))
                .collect::<String>()
        );
        let _ = writeln!(code, "    /// [`Self::{method}`] with per-call options (deadline, retries, extra headers and query).");
        let _ = writeln!(
            code,
            "    pub fn {method}_with(&self{}, options: &RequestOptions) -> Result<{ret}> {{",
            args.iter().map(|a| format!(", {a}")).collect::<String>()
        );
        // the path, every parameter checked and percent-encoded
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
            let _ = writeln!(code, "        let path = {}.to_string();", lit(&fmt_path));
        } else {
            let _ = writeln!(
                code,
                "        let path = format!({}, {});",
                lit(&fmt_path),
                fmt_args.join(", ")
            );
        }
        let _ = writeln!(code, "        let response = self.client.execute(&OPERATIONS[{index}], path, {query_expr}, {body_expr}, options)?;");
        let _ = writeln!(code, "        {finish}\n    }}\n");
        (code, qs)
    }

    pub(crate) fn query_struct(&mut self, name: &str, params: &[Value], op: &Value) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "/// The query of `{}`; every field is optional.",
            op["operationId"].as_str().unwrap_or("")
        );
        let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq, Default)]");
        let _ = writeln!(out, "#[non_exhaustive]");
        let _ = writeln!(out, "pub struct {name} {{");
        let mut fields = Vec::new();
        for p in params {
            let wire = p["name"].as_str().expect("name");
            let field = snake(p.get("x-rust-name").and_then(Value::as_str).unwrap_or(wire));
            // a query value of `null` is the same as no value: the SDK leaves both out
            let ty = self.rust_type_plain(Self::unwrap(&p["schema"]));
            let fallback = format!("`{wire}`.");
            out.push_str(&doc(
                Some(
                    p.get("description")
                        .and_then(Value::as_str)
                        .unwrap_or(&fallback),
                ),
                "    ",
            ));
            let _ = writeln!(out, "    pub {field}: Option<{ty}>,");
            let array = p["schema"]["type"] == "array";
            fields.push((field, ty, wire.to_string(), array));
        }
        out.push_str("}\n\n");
        let _ = writeln!(out, "impl {name} {{");
        for (field, ty, wire, _) in &fields {
            let bare = field.trim_start_matches("r#");
            let _ = writeln!(out, "    /// Sets `{wire}`.");
            let _ = writeln!(out, "    pub fn {bare}(mut self, value: impl Into<{ty}>) -> Self {{\n        self.{field} = Some(value.into());\n        self\n    }}\n");
        }
        let _ = writeln!(
            out,
            "    /// The query pairs, in the spec's order; arrays repeat their key."
        );
        let _ = writeln!(
            out,
            "    pub fn to_query(&self) -> Vec<(&'static str, String)> {{"
        );
        let _ = writeln!(out, "        let mut q = Vec::new();");
        for (field, _, wire, array) in &fields {
            if *array {
                let _ = writeln!(out, "        for v in self.{field}.iter().flatten() {{\n            q.push(({}, crate::operations::QueryValue::query_value(v)));\n        }}", lit(wire));
            } else {
                let _ = writeln!(out, "        if let Some(v) = &self.{field} {{\n            q.push(({}, crate::operations::QueryValue::query_value(v)));\n        }}", lit(wire));
            }
        }
        let _ = writeln!(out, "        q\n    }}\n}}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stop_op(responses: Value) -> Value {
        json!({
            "operationId": "things.stop", "x-group": "things", "x-method": "stop",
            "x-anthropic-beta": "b",
            "parameters": [{"name": "thing_id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingStopParams"}}}},
            "responses": responses
        })
    }

    fn spec() -> Value {
        json!({"components": {"schemas": {
            "Thing": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            "ThingStopParams": {"type": "object", "x-request": true, "properties": {"force": {"type": "boolean"}}}
        }}})
    }

    #[test]
    fn a_204_answer_is_a_unit_and_the_body_is_read_to_its_end() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let op = stop_op(json!({"204": {"description": "No content."}}));
        let (code, _) = g.operation("/v1/things/{thing_id}/stop", "post", &op, 0);
        assert!(
            code.contains(
                "pub fn stop(&self, thing_id: &str, body: &ThingStopParams) -> Result<()>"
            ),
            "{code}"
        );
        assert!(code.contains("response.finish()"), "{code}");
    }

    #[test]
    fn a_200_answer_with_json_is_its_type() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let op = stop_op(json!({"200": {"description": "Success.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}));
        let (code, _) = g.operation("/v1/things/{thing_id}/stop", "post", &op, 0);
        assert!(code.contains("-> Result<Thing>"), "{code}");
        assert!(code.contains("response.json()"), "{code}");
    }
}
