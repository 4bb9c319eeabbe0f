//! The reader of a response object: a `Deserialize` impl written out in full, whose map visitor
//! takes the known fields by name and keeps every other one in `extra`. This is what
//! `#[serde(flatten)]` would do, without serde's buffering of the whole object first.

use super::names::lit;
use super::template::fill;
use super::types::Field;

// The known names are matched as literals (which the compiler turns into a few integer
// compares) rather than searched in a list.
const DESERIALIZE: &str = r#"
impl<'de> Deserialize<'de> for {name} {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = {name};
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str({expecting})
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<{name}, A::Error> {
                use crate::fields::{field, {required}Key, Keys};
                fn index(key: &str) -> Option<usize> {
                    match key {
{indexes}                        _ => None,
                    }
                }
{slots}                let mut extra = Map::new();
                while let Some(key) = map.next_key_seed(Keys(index))? {
                    match key {
{reads}                        Key::Known(_) => {}
                        Key::Other(k) => {
                            extra.insert(k, map.next_value()?);
                        }
                    }
                }
                Ok({name} {
{values}                    extra,
                })
            }
        }
        d.deserialize_map(Fields)
    }
}
"#;

/// `impl Deserialize for {name}`, reading `fields` and keeping the rest in `extra`.
pub(crate) fn deserialize_impl(name: &str, fields: &[Field]) -> String {
    let needs_required = fields.iter().any(|f| !f.optional && !f.default_if_missing);
    let mut indexes = String::new();
    let mut slots = String::new();
    let mut reads = String::new();
    let mut values = String::new();
    for (i, f) in fields.iter().enumerate() {
        let wire = lit(&f.wire);
        indexes.push_str(&format!("                        {wire} => Some({i}),\n"));
        // a present `null` reads as `Some(None)`
        let slot = if f.optional {
            format!("Option<{}>", f.ty)
        } else {
            f.ty.clone()
        };
        slots.push_str(&format!(
            "                let mut f{i}: Option<{slot}> = None;\n"
        ));
        reads.push_str(&format!(
            "                        Key::Known({i}) => field(&mut map, &mut f{i}, {wire})?,\n"
        ));
        let value = if f.optional {
            format!("f{i}.flatten()")
        } else if f.default_if_missing {
            format!("f{i}.unwrap_or_default()")
        } else {
            format!("required(f{i}, {wire})?")
        };
        values.push_str(&format!("                    {}: {value},\n", f.name));
    }
    fill(
        DESERIALIZE,
        &[
            ("name", name),
            ("expecting", &lit(&format!("struct {name}"))),
            ("required", if needs_required { "required, " } else { "" }),
            ("indexes", &indexes),
            ("slots", &slots),
            ("reads", &reads),
            ("values", &values),
        ],
    )
}
