//! Request-body checks as ClickUp applies them: the body is a JSON object, required fields
//! are present, and every field has the JSON type the OpenAPI spec gives it.
//!
//! A `null` field counts as absent. An empty body counts as an empty object, so a missing
//! body is reported as its first missing required field.

use serde_json::{Map, Value};

use super::errors::ApiError;

/// A request body that parsed as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Body(Map<String, Value>);

impl Body {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Map::new()));
        }

        match serde_json::from_slice(bytes) {
            Ok(Value::Object(fields)) => Ok(Body(fields)),
            _ => Err(ApiError::body_not_an_object()),
        }
    }

    /// The field, unless it is absent or `null`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    /// Whether the field is present and `null`, which some endpoints read as "clear it".
    pub fn is_null(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(Value::is_null)
    }

    fn required(&self, name: &str) -> Result<&Value, ApiError> {
        self.field(name)
            .ok_or_else(|| ApiError::missing_field(name))
    }

    pub fn required_str(&self, name: &str) -> Result<&str, ApiError> {
        self.required(name)?
            .as_str()
            .ok_or_else(|| ApiError::wrong_type(name, "a string"))
    }

    pub fn optional_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(value) => value
                .as_str()
                .map(Some)
                .ok_or_else(|| ApiError::wrong_type(name, "a string")),
        }
    }

    pub fn required_bool(&self, name: &str) -> Result<bool, ApiError> {
        self.required(name)?
            .as_bool()
            .ok_or_else(|| ApiError::wrong_type(name, "a boolean"))
    }

    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(value) => value
                .as_bool()
                .map(Some)
                .ok_or_else(|| ApiError::wrong_type(name, "a boolean")),
        }
    }

    pub fn required_integer(&self, name: &str) -> Result<u64, ApiError> {
        self.required(name)?
            .as_u64()
            .ok_or_else(|| ApiError::wrong_type(name, "an integer"))
    }

    pub fn optional_integer(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| ApiError::wrong_type(name, "an integer")),
        }
    }

    /// An optional array, its items left for the caller to check.
    pub fn optional_array(&self, name: &str) -> Result<Option<&[Value]>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(value) => value
                .as_array()
                .map(|items| Some(items.as_slice()))
                .ok_or_else(|| ApiError::wrong_type(name, "an array")),
        }
    }

    /// A required array of non-negative integers, such as user ids.
    pub fn required_integer_list(&self, name: &str) -> Result<Vec<u64>, ApiError> {
        integer_list(self.required(name)?, name)
    }

    /// An optional `{"add": [int], "rem": [int]}` diff, ClickUp's way of changing a set of
    /// user ids. Both arrays are required, as in the spec; a flat array is refused, not
    /// ignored.
    pub fn optional_diff(&self, name: &str) -> Result<Option<Diff>, ApiError> {
        let Some(value) = self.field(name) else {
            return Ok(None);
        };
        let fields = value
            .as_object()
            .ok_or_else(|| ApiError::wrong_type(name, "an object with add and rem arrays"))?;

        let part = |key: &str| {
            let label = format!("{name}.{key}");
            let value = fields
                .get(key)
                .filter(|value| !value.is_null())
                .ok_or_else(|| ApiError::missing_field(&label))?;
            integer_list(value, &label)
        };
        Ok(Some(Diff {
            add: part("add")?,
            rem: part("rem")?,
        }))
    }

    /// A required array of strings; `star_allowed` also accepts the bare string `"*"`
    /// (which `PUT /v2/webhook/{id}` takes for "every event").
    pub fn required_str_list(
        &self,
        name: &str,
        star_allowed: bool,
    ) -> Result<Vec<String>, ApiError> {
        let expected = "an array of strings";
        let value = self.required(name)?;

        if star_allowed && value.as_str() == Some("*") {
            return Ok(vec!["*".to_owned()]);
        }

        let items = value
            .as_array()
            .ok_or_else(|| ApiError::wrong_type(name, expected))?;
        items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::wrong_type(name, expected))
    }
}

/// Ids to add to and remove from a set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    pub add: Vec<u64>,
    pub rem: Vec<u64>,
}

/// The array of non-negative integers in `value`, the field `name` for error messages.
pub(crate) fn integer_list(value: &Value, name: &str) -> Result<Vec<u64>, ApiError> {
    let expected = "an array of integers";
    let items = value
        .as_array()
        .ok_or_else(|| ApiError::wrong_type(name, expected))?;

    items
        .iter()
        .map(Value::as_u64)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::wrong_type(name, expected))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ecode(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        match result {
            Ok(value) => format!("ok {value:?}"),
            Err(error) => error.body()["ECODE"].as_str().unwrap_or("?").to_owned(),
        }
    }

    #[test]
    fn parse_accepts_objects_and_empty_bodies_only() {
        let cases: [(&[u8], &str); 6] = [
            (b"{\"a\":1}", "ok"),
            (b"", "ok"),
            (b"  \n", "ok"),
            (b"[1,2]", "INPUT_003"),
            (b"\"text\"", "INPUT_003"),
            (b"{not json", "INPUT_003"),
        ];

        for (raw, expected) in cases {
            let outcome = ecode(Body::parse(raw));
            assert!(outcome.starts_with(expected), "{raw:?} gave {outcome}");
        }
    }

    #[test]
    fn field_getters_report_missing_and_mistyped_fields() {
        let body = Body::parse(
            json!({
                "email": "a@example.com",
                "admin": "yes",
                "flag": true,
                "role": 3,
                "negative": -1,
                "nothing": null,
                "events": ["taskCreated", 7],
                "star": "*"
            })
            .to_string()
            .as_bytes(),
        )
        .expect("object body");

        let cases = [
            (
                "required_str email",
                ecode(body.required_str("email")),
                "ok \"a@example.com\"",
            ),
            (
                "required_str absent",
                ecode(body.required_str("absent")),
                "INPUT_001",
            ),
            (
                "required_str null",
                ecode(body.required_str("nothing")),
                "INPUT_001",
            ),
            (
                "required_str number",
                ecode(body.required_str("role")),
                "INPUT_002",
            ),
            (
                "optional_str absent",
                ecode(body.optional_str("absent")),
                "ok None",
            ),
            (
                "required_bool string",
                ecode(body.required_bool("admin")),
                "INPUT_002",
            ),
            (
                "optional_bool true",
                ecode(body.optional_bool("flag")),
                "ok Some(true)",
            ),
            (
                "optional_bool null",
                ecode(body.optional_bool("nothing")),
                "ok None",
            ),
            (
                "required_integer",
                ecode(body.required_integer("role")),
                "ok 3",
            ),
            (
                "required_integer negative",
                ecode(body.required_integer("negative")),
                "INPUT_002",
            ),
            (
                "optional_integer string",
                ecode(body.optional_integer("email")),
                "INPUT_002",
            ),
            (
                "list with a number",
                ecode(body.required_str_list("events", false)),
                "INPUT_002",
            ),
            (
                "star when allowed",
                ecode(body.required_str_list("star", true)),
                "ok [\"*\"]",
            ),
            (
                "star when not allowed",
                ecode(body.required_str_list("star", false)),
                "INPUT_002",
            ),
        ];

        for (name, outcome, expected) in cases {
            assert_eq!(outcome, expected, "{name}");
        }
    }

    #[test]
    fn integer_lists_and_diffs_take_only_the_spec_shapes() {
        let body = Body::parse(
            json!({
                "ids": [1, 2],
                "mixed": [1, "2"],
                "flat": [3, 4],
                "diff": { "add": [5], "rem": [] },
                "half": { "add": [5] },
                "bad_rem": { "add": [], "rem": ["6"] },
                "nothing": null
            })
            .to_string()
            .as_bytes(),
        )
        .expect("object body");

        let cases = [
            (ecode(body.required_integer_list("ids")), "ok [1, 2]"),
            (ecode(body.required_integer_list("mixed")), "INPUT_002"),
            (ecode(body.required_integer_list("absent")), "INPUT_001"),
            (
                ecode(body.optional_diff("diff")),
                "ok Some(Diff { add: [5], rem: [] })",
            ),
            (ecode(body.optional_diff("absent")), "ok None"),
            (ecode(body.optional_diff("nothing")), "ok None"),
            (ecode(body.optional_diff("flat")), "INPUT_002"),
            (ecode(body.optional_diff("half")), "INPUT_001"),
            (ecode(body.optional_diff("bad_rem")), "INPUT_002"),
            (
                ecode(body.optional_array("mixed")),
                "ok Some([Number(1), String(\"2\")])",
            ),
            (ecode(body.optional_array("diff")), "INPUT_002"),
            (ecode(body.optional_array("nothing")), "ok None"),
        ];

        for (outcome, expected) in cases {
            assert_eq!(outcome, expected);
        }
        let flat = body.optional_diff("flat").expect_err("flat array refused");
        assert_eq!(
            flat.body()["err"],
            "flat must be an object with add and rem arrays"
        );
    }
}
