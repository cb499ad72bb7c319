//! How deeply a JSON body nests, found without parsing it, so a body of 10,000 `[` is refused
//! in one pass before any parser (or a worker further on) walks it.

/// Deepest nesting of arrays and objects a delivery may have. ClickUp's deepest payloads (a
/// custom field's `before`/`after` inside a history item) and the IAM's events stay under ten.
pub const MAX_DEPTH: usize = 64;

/// Whether `body` opens more than `limit` arrays or objects inside one another. Brackets in
/// strings do not count; the body need not be valid JSON (the parser judges that next).
pub fn exceeds(body: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;

    for &byte in body {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nesting_outside_strings_only() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let cases: Vec<(String, usize, bool)> = vec![
            (deep(3), 3, false),
            (deep(4), 3, true),
            ("[".repeat(10_000), MAX_DEPTH, true),
            (r#"{"a":{"b":[1,{"c":2}]}}"#.into(), 4, false),
            (r#"{"a":{"b":[1,{"c":2}]}}"#.into(), 3, true),
            (format!(r#"{{"text":"{}"}}"#, "[".repeat(500)), 1, false),
            (r#"{"text":"\"[[[["}"#.into(), 1, false),
            (r#"{"text":"\\"}"#.into(), 1, false),
            ("[][][][][][]".into(), 1, false),
            ("]]]]]][".into(), 1, false),
            (String::new(), 0, false),
        ];

        for (body, limit, expected) in cases {
            assert_eq!(
                exceeds(body.as_bytes(), limit),
                expected,
                "{body:.40} at {limit}"
            );
        }
    }
}
