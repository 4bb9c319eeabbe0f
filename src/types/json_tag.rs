//! Finding the tag of a JSON object without parsing it: the stream's fast path reads an event's
//! `type` this way, then parses the text once, straight into its kind.

/// The value of the top-level field `prop` of a JSON object, found without parsing the rest:
/// strings are skipped with `memchr`, nested values by counting their own brackets. `None` when
/// the text is not an object, has no such field, or its value is not a plain string (an escape
/// in it, say): the full parser then decides. Nothing is validated here; whatever the tag
/// selects is parsed in full, so malformed text is still an error.
pub(crate) fn json_tag<'a>(s: &'a str, prop: &str) -> Option<&'a str> {
    // the API writes the tag last, as the official models order their fields: look there
    // first, from the end, which costs a few bytes instead of the whole object
    if let Some(tag) = json_last_member(s, prop) {
        return Some(tag);
    }
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        let (key, next) = json_string(b, i)?;
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        if b[key.0..key.1] == *prop.as_bytes() {
            let (value, _) = json_string(b, i)?;
            let value = &s[value.0..value.1];
            return (!value.contains('\\')).then_some(value);
        }
        i = skip_ws(b, skip_json_value(b, i)?);
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// The value of the object's last member when that member is `prop` with a plain string value,
/// read backwards from the closing brace: `, "prop" : "value" }`.
fn json_last_member<'a>(s: &'a str, prop: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let mut i = skip_ws_back(b, b.len());
    if i == 0 || b[i - 1] != b'}' {
        return None;
    }
    i = skip_ws_back(b, i - 1);
    let (value, start) = json_string_back(b, i)?;
    i = skip_ws_back(b, start);
    if i == 0 || b[i - 1] != b':' {
        return None;
    }
    i = skip_ws_back(b, i - 1);
    let (key, start) = json_string_back(b, i)?;
    i = skip_ws_back(b, start);
    if i == 0 || !matches!(b[i - 1], b',' | b'{') || b[key.0..key.1] != *prop.as_bytes() {
        return None;
    }
    let value = &s[value.0..value.1];
    (!value.contains('\\')).then_some(value)
}

fn skip_ws_back(b: &[u8], mut i: usize) -> usize {
    while i > 0 && matches!(b[i - 1], b' ' | b'\n' | b'\r' | b'\t') {
        i -= 1;
    }
    i
}

/// The string that ends just before `b[end]` (its closing quote is `b[end - 1]`): the range of
/// its contents, and where its opening quote is. A quote is a string's own only when an even
/// number of backslashes precedes it.
fn json_string_back(b: &[u8], end: usize) -> Option<((usize, usize), usize)> {
    if end == 0 || b[end - 1] != b'"' {
        return None;
    }
    let close = end - 1;
    let mut j = close;
    loop {
        j = memchr::memrchr(b'"', &b[..j])?;
        let backslashes = b[..j].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(((j + 1, close), j));
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The string starting at `b[i]` (a quote): the range of its contents, and where it ends.
fn json_string(b: &[u8], i: usize) -> Option<((usize, usize), usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'"' {
            return Some(((i + 1, j), j + 1));
        }
        j += 2; // the backslash and the byte it escapes
    }
}

/// Where the value starting at `b[i]` ends.
fn skip_json_value(b: &[u8], i: usize) -> Option<usize> {
    let (open, close) = match b.get(i)? {
        b'"' => return json_string(b, i).map(|(_, end)| end),
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        _ => {
            // a number or a literal
            let len = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(b.len() - i);
            return Some(i + len);
        }
    };
    // inside well-formed JSON, the other kind of bracket cannot change this one's depth
    let mut depth = 0usize;
    let mut j = i;
    loop {
        j += memchr::memchr3(b'"', open, close, b.get(j..)?)?;
        match b[j] {
            b'"' => {
                j = json_string(b, j)?.1;
                continue;
            }
            c if c == open => depth += 1,
            _ => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
        }
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::json_tag;

    #[test]
    fn finds_the_tag_wherever_it_is() {
        let t = |s| json_tag(s, "type");
        assert_eq!(t(r#"{"type":"a"}"#), Some("a"));
        assert_eq!(t(r#" { "id" : 1 , "type" : "b" } "#), Some("b"));
        assert_eq!(
            t(
                r#"{"content":[{"type":"text","text":"a \"}]\" b"}],"n":-1.5e3,"x":null,"o":{"a":[1,{"b":"}"}]},"type":"agent.message"}"#
            ),
            Some("agent.message")
        );
        assert_eq!(t(r#"{"t\u0079pe":"a"}"#), None);
        assert_eq!(t(r#"{"type":"a\nb"}"#), None);
        assert_eq!(t(r#"{"type":1}"#), None);
        assert_eq!(t(r#"{"id":"x"}"#), None);
        assert_eq!(t(r#"["type","a"]"#), None);
        assert_eq!(t(r#"{"a":"unterminated"#), None);
        assert_eq!(t(r#"{"a":{"b":[}"#), None);
        assert_eq!(t(""), None);
    }

    #[test]
    fn the_last_member_is_read_from_the_end_and_only_when_it_is_the_tag() {
        use super::json_last_member as last;
        assert_eq!(last(r#"{"id":"x","type":"a"}"#, "type"), Some("a"));
        assert_eq!(last("{\"type\" :\n \"a\" }\n", "type"), Some("a"));
        assert_eq!(last(r#"{"type":"a"}"#, "type"), Some("a"));
        // escaped quotes inside strings are not string ends
        assert_eq!(
            last(r#"{"a":"x\",\"type\":\"b","type":"c"}"#, "type"),
            Some("c")
        );
        assert_eq!(last(r#"{"a":"x, \"type\": \"b"}"#, "type"), None);
        assert_eq!(last(r#"{"a":"x\\","type":"c"}"#, "type"), Some("c"));
        // a nested tag, another last member, a non-string value: not this way
        assert_eq!(last(r#"{"a":{"type":"b"}}"#, "type"), None);
        assert_eq!(last(r#"{"type":"a","id":"x"}"#, "type"), None);
        assert_eq!(last(r#"{"type":1}"#, "type"), None);
        assert_eq!(last(r#"["type","a"]"#, "type"), None);
        assert_eq!(last(r#""type":"a"}"#, "type"), None);
        assert_eq!(last(r#"{"a\"type":"a"}"#, "type"), None);
        // these still find it going forwards
        assert_eq!(json_tag(r#"{"type":"a","id":"x"}"#, "type"), Some("a"));
    }
}
