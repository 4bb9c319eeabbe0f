//! Templates: Rust source written as it reads, with `{name}` holes filled in one pass.

/// `template` with each `{key}` of `vars` replaced by its value. Braces that do not enclose a
/// key of `vars` (the generated code's own blocks, `{}`) are left as they are, and a value is
/// never searched for holes itself. A key that the template lacks is a bug of the generator.
pub(crate) fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut used = vec![false; vars.len()];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let key_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let hole = (after[key_len..].starts_with('}'))
            .then(|| vars.iter().position(|(k, _)| *k == &after[..key_len]))
            .flatten();
        match hole {
            Some(i) if key_len > 0 => {
                out.push_str(vars[i].1);
                used[i] = true;
                rest = &after[key_len + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if let Some(i) = used.iter().position(|u| !u) {
        panic!("template has no hole {{{}}}:\n{template}", vars[i].0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn holes_are_filled_and_the_code_s_own_braces_kept() {
        assert_eq!(
            fill(
                "impl From<{ty}> for {name} {\n    fn f() {}\n}\n",
                &[("ty", "A"), ("name", "B")]
            ),
            "impl From<A> for B {\n    fn f() {}\n}\n"
        );
        // `{field, ..}` and `{ client }` are not holes; a value is not filled again
        assert_eq!(
            fill("use x::{field, Keys}; S { client } {a}", &[("a", "{a}")]),
            "use x::{field, Keys}; S { client } {a}"
        );
        assert_eq!(fill("{a}{b}", &[("a", "1"), ("b", "2")]), "12");
    }

    #[test]
    #[should_panic(expected = "template has no hole {missing}")]
    fn a_value_without_its_hole_is_a_bug() {
        fill("{a}", &[("a", "1"), ("missing", "2")]);
    }
}
