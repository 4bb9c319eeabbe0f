//! Names: how the API's wire names become Rust names, and how its prose becomes doc comments.

use std::fmt::Write as _;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// `agent.custom_tool_use` -> `AgentCustomToolUse`; `claude-opus-4-5` -> `ClaudeOpus45`.
pub(crate) fn camel(s: &str) -> String {
    let mut out = String::new();
    for part in s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// A wire name as a Rust field or method name.
pub(crate) fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("_{out}");
    }
    if matches!(out.as_str(), "self" | "super" | "crate" | "Self") {
        return format!("{out}_");
    }
    if KEYWORDS.contains(&out.as_str()) {
        return format!("r#{out}");
    }
    out
}

/// Doc comment lines from a spec description. Code fences become `text` blocks so that
/// rustdoc never compiles the API's prose as a doctest.
pub(crate) fn doc(text: Option<&str>, indent: &str) -> String {
    let Some(text) = text else {
        return String::new();
    };
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        let t = line.trim_start();
        let line = if t.starts_with("```") {
            in_fence = !in_fence;
            if in_fence {
                "```text".to_string()
            } else {
                "```".to_string()
            }
        } else {
            // four spaces of indent would make a Markdown code block, which rustdoc would compile
            let indent = line.len() - t.len();
            let line = if !in_fence && indent >= 4 {
                format!("  {t}")
            } else {
                line.to_string()
            };
            // `<` and `>` would be read as HTML
            let line = line.replace('<', "&lt;").replace('>', "&gt;");
            // square brackets would be read as intra-doc links, unless they are a Markdown link
            if line.contains("](http") {
                autolink(&line)
            } else {
                autolink(&line.replace('[', "\\[").replace(']', "\\]"))
            }
        };
        if line.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
    if in_fence {
        let _ = writeln!(out, "{indent}/// ```");
    }
    out
}

/// Bare URLs as Markdown autolinks (`<https://..>`), trailing punctuation left outside.
pub(crate) fn autolink(line: &str) -> String {
    line.split(' ')
        .map(|w| {
            let start = w.find("https://").or_else(|| w.find("http://"));
            match start {
                Some(i) if !w[..i].ends_with('(') && !w[..i].ends_with('`') => {
                    let url = &w[i..];
                    let end = url
                        .trim_end_matches(|c: char| ".,;:)'\"`".contains(c))
                        .len();
                    format!("{}<{}>{}", &w[..i], &url[..end], &url[end..])
                }
                _ => w.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// `sessions.threads.events` -> `SessionsThreadsEvents`.
pub(crate) fn group_type(g: &str) -> String {
    g.split('.').map(camel).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_joins_the_parts_of_a_wire_name() {
        assert_eq!(camel("agent.custom_tool_use"), "AgentCustomToolUse");
        assert_eq!(camel("claude-opus-4-5"), "ClaudeOpus45");
        assert_eq!(camel("text"), "Text");
        // a name that would start with a digit, or is empty, gets a letter in front
        assert_eq!(camel("2026-04-01"), "V20260401");
        assert_eq!(camel("..."), "V");
    }

    #[test]
    fn snake_case_escapes_keywords_and_leading_digits() {
        assert_eq!(snake("processed_at"), "processed_at");
        assert_eq!(snake("createdAt"), "created_at");
        assert_eq!(snake("x-api-key"), "x_api_key");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("3d"), "_3d");
        assert_eq!(snake("trailing_"), "trailing");
    }

    #[test]
    fn group_types_join_every_level() {
        assert_eq!(
            group_type("sessions.threads.events"),
            "SessionsThreadsEvents"
        );
        assert_eq!(group_type("agents"), "Agents");
    }

    #[test]
    fn docs_never_become_doctests_html_or_broken_links() {
        assert_eq!(doc(None, ""), "");
        assert_eq!(doc(Some("  "), ""), "");
        assert_eq!(
            doc(Some("One.\n\nTwo."), "    "),
            "    /// One.\n    ///\n    /// Two.\n"
        );
        // fences become text blocks, and an unclosed one is closed
        assert_eq!(
            doc(Some("```python\nx = 1\n```"), ""),
            "/// ```text\n/// x = 1\n/// ```\n"
        );
        assert_eq!(doc(Some("```\nx"), ""), "/// ```text\n/// x\n/// ```\n");
        // four spaces of indent would be a code block
        assert_eq!(doc(Some("a\n    b"), ""), "/// a\n///   b\n");
        assert_eq!(doc(Some("a <b> [c]"), ""), "/// a &lt;b&gt; \\[c\\]\n");
        // a Markdown link keeps its brackets
        assert_eq!(
            doc(Some("see [docs](https://x.y/z)."), ""),
            "/// see [docs](https://x.y/z).\n"
        );
    }

    #[test]
    fn bare_urls_become_autolinks_without_their_trailing_punctuation() {
        assert_eq!(autolink("see https://a.b/c."), "see <https://a.b/c>.");
        // right after `(` (a Markdown link's target) or a backtick, a URL is left alone
        assert_eq!(autolink("(http://a.b)"), "(http://a.b)");
        assert_eq!(autolink("x http://a.b)"), "x <http://a.b>)");
        assert_eq!(autolink("`https://a.b`"), "`https://a.b`");
        assert_eq!(autolink("no link"), "no link");
    }

    #[test]
    fn literals_are_rust_string_literals() {
        assert_eq!(lit("a\"b"), "\"a\\\"b\"");
    }
}
