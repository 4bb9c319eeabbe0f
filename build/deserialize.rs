//! The reader of a response object: a `Deserialize` impl written out in full, whose map visitor
//! takes the known fields by name and keeps every other one in `extra`. This is what
//! `#[serde(flatten)]` would do, without serde's buffering of the whole object first.

use crate::names::lit;
use crate::types::Field;
use std::fmt::Write as _;

/// `impl Deserialize for {name}`, reading `fields` and keeping the rest in `extra`.
pub(crate) fn deserialize_impl(name: &str, fields: &[Field]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nimpl<'de> Deserialize<'de> for {name} {{");
    let _ = writeln!(
        out,
        "    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{"
    );
    let _ = writeln!(out, "        struct Fields;");
    let _ = writeln!(
        out,
        "        impl<'de> serde::de::Visitor<'de> for Fields {{"
    );
    let _ = writeln!(out, "            type Value = {name};");
    let _ = writeln!(
        out,
        "            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {{"
    );
    let _ = writeln!(
        out,
        "                f.write_str({})\n            }}",
        lit(&format!("struct {name}"))
    );
    let _ = writeln!(out, "            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<{name}, A::Error> {{");
    let needs_required = fields.iter().any(|f| !f.optional && !f.default_if_missing);
    let _ = writeln!(
        out,
        "                use crate::fields::{{field, {}Key, Keys}};",
        if needs_required { "required, " } else { "" }
    );
    // the known names, matched as literals (which the compiler turns into a few integer
    // compares) rather than searched in a list
    let _ = writeln!(
        out,
        "                fn index(key: &str) -> Option<usize> {{\n                    match key {{"
    );
    for (i, f) in fields.iter().enumerate() {
        let _ = writeln!(
            out,
            "                        {} => Some({i}),",
            lit(&f.wire)
        );
    }
    let _ = writeln!(
        out,
        "                        _ => None,\n                    }}\n                }}"
    );
    for (i, f) in fields.iter().enumerate() {
        let decl = if f.optional {
            // a present `null` reads as `Some(None)`
            format!("Option<{}>", f.ty)
        } else {
            f.ty.clone()
        };
        let _ = writeln!(out, "                let mut f{i}: Option<{decl}> = None;");
    }
    let _ = writeln!(out, "                let mut extra = Map::new();");
    let _ = writeln!(
        out,
        "                while let Some(key) = map.next_key_seed(Keys(index))? {{"
    );
    let _ = writeln!(out, "                    match key {{");
    for (i, f) in fields.iter().enumerate() {
        let _ = writeln!(
            out,
            "                        Key::Known({i}) => field(&mut map, &mut f{i}, {})?,",
            lit(&f.wire)
        );
    }
    let _ = writeln!(out, "                        Key::Known(_) => {{}}");
    let _ = writeln!(out, "                        Key::Other(k) => {{\n                            extra.insert(k, map.next_value()?);\n                        }}");
    let _ = writeln!(out, "                    }}\n                }}");
    let _ = writeln!(out, "                Ok({name} {{");
    for (i, f) in fields.iter().enumerate() {
        let value = if f.optional {
            format!("f{i}.flatten()")
        } else if f.default_if_missing {
            format!("f{i}.unwrap_or_default()")
        } else {
            format!("required(f{i}, {})?", lit(&f.wire))
        };
        let _ = writeln!(out, "                    {}: {value},", f.name);
    }
    let _ = writeln!(out, "                    extra,\n                }})");
    let _ = writeln!(out, "            }}\n        }}");
    let _ = writeln!(out, "        d.deserialize_map(Fields)\n    }}\n}}");
    out
}
