//! The request form: an access request's custom fields read from a ClickUp task.
//!
//! Values come in several shapes: a drop-down reads as the option's orderindex in a task read
//! and as the option's UUID in webhooks (either may also arrive inside a string), numbers read
//! as strings. Every shape is mapped through the field's own options. Errors name the fields
//! people see and may quote area and level values, never the justification (personal data).

use std::fmt;

use serde_json::Value;

use super::AccessPolicy;
use crate::rules::{file::parse_duration, grant::Level};

/// A custom field, by its UUID or by its name (case-insensitive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldRef {
    Id(String),
    Name(String),
}

/// What a request asks for, read from the intake task.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestForm {
    /// The area's name as the policy writes it.
    pub area: String,
    pub level: Level,
    pub duration: Option<chrono::Duration>,
    /// Personal data: never logged (the `Debug` output leaves it out).
    pub justification: Option<String>,
}

/// Why a task's form cannot be read; when fields are missing, nothing else is reported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// Fields without a value, or that the task does not have, by the names people see.
    #[error("missing: {}", .0.join(", "))]
    Missing(Vec<String>),
    /// What is wrong, one line per field, e.g. `Area: "Marketing" is not an area`.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
}

impl FieldRef {
    /// A UUID-shaped text is an id, anything else a name; `None` when empty.
    pub fn parse(text: &str) -> Option<FieldRef> {
        let text = text.trim();
        let dashes = [8, 13, 18, 23];
        let uuid = text.len() == 36
            && text
                .char_indices()
                .all(|(at, c)| match dashes.contains(&at) {
                    true => c == '-',
                    false => c.is_ascii_hexdigit(),
                });
        match (text.is_empty(), uuid) {
            (true, _) => None,
            (false, true) => Some(FieldRef::Id(text.to_ascii_lowercase())),
            (false, false) => Some(FieldRef::Name(text.to_owned())),
        }
    }

    /// Whether a task's custom-field entry is the field this names.
    pub fn matches(&self, field: &Value) -> bool {
        let text = |key: &str| field.get(key).and_then(Value::as_str).map(str::trim);
        match self {
            FieldRef::Id(id) => text("id").is_some_and(|given| given.eq_ignore_ascii_case(id)),
            FieldRef::Name(name) => {
                text("name").is_some_and(|given| given.to_lowercase() == name.to_lowercase())
            }
        }
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Id(text) | FieldRef::Name(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for RequestForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let justification = self.justification.as_ref().map(|_| "(given)");
        f.debug_struct("RequestForm")
            .field("area", &self.area)
            .field("level", &self.level)
            .field("duration", &self.duration)
            .field("justification", &justification)
            .finish()
    }
}

impl AccessPolicy {
    /// Reads the form from a task as `GET /v2/task/{id}` returns it (its `custom_fields`).
    pub fn read_form(&self, task: &Value) -> Result<RequestForm, FormError> {
        let fields = task.get("custom_fields").and_then(Value::as_array);
        let mut reader = Reader {
            fields: fields.map_or(&[], Vec::as_slice),
            missing: Vec::new(),
            invalid: Vec::new(),
        };
        let refs = &self.intake.fields;

        let area = reader.required(&refs.area, |field, value| {
            let name = option_name(field, value)?;
            let area = self
                .area(&name)
                .ok_or(format!("\"{name}\" is not an area"))?;
            Ok(area.name.clone())
        });
        let level = reader.required(&refs.level, level_of);
        let duration = refs
            .duration
            .as_ref()
            .and_then(|r| reader.read(r, duration_of));
        let justification = refs.justification.as_ref();
        let justification = justification.and_then(|r| reader.read(r, justification_of));

        if !reader.missing.is_empty() {
            return Err(FormError::Missing(reader.missing));
        }
        match (area, level) {
            (Some(area), Some(level)) if reader.invalid.is_empty() => Ok(RequestForm {
                area,
                level,
                duration,
                justification,
            }),
            // Not both read and nothing missing: at least one reason is in `invalid`.
            _ => Err(FormError::Invalid(reader.invalid)),
        }
    }
}

/// Reads fields from a task's `custom_fields`, collecting what is missing and what is wrong.
struct Reader<'t> {
    fields: &'t [Value],
    missing: Vec<String>,
    invalid: Vec<String>,
}

impl Reader<'_> {
    /// A field that must have a value.
    fn required<T>(
        &mut self,
        reference: &FieldRef,
        read: impl FnOnce(&Value, &Value) -> Result<T, String>,
    ) -> Option<T> {
        let field = self.fields.iter().find(|field| reference.matches(field));
        if field.is_some_and(|field| value(field).is_none()) {
            self.missing.push(label(reference, field));
        }
        self.read(reference, read)
    }

    /// A field the task must have, whose value may be unset.
    fn read<T>(
        &mut self,
        reference: &FieldRef,
        read: impl FnOnce(&Value, &Value) -> Result<T, String>,
    ) -> Option<T> {
        let Some(field) = self.fields.iter().find(|field| reference.matches(field)) else {
            self.missing.push(reference.to_string());
            return None;
        };
        let given = value(field)?;
        read(field, given)
            .map_err(|reason| {
                let label = label(reference, Some(field));
                self.invalid.push(format!("{label}: {reason}"));
            })
            .ok()
    }
}

/// The field's value, `None` when unset: absent, null, an empty text or an empty list.
fn value(field: &Value) -> Option<&Value> {
    match field.get("value")? {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => None,
        Value::Array(items) if items.is_empty() => None,
        given => Some(given),
    }
}

/// The field's name as people see it: the task's, else as the policy wrote it.
fn label(reference: &FieldRef, field: Option<&Value>) -> String {
    let name = field
        .and_then(|field| field.get("name"))
        .and_then(Value::as_str);
    name.map_or_else(|| reference.to_string(), str::to_owned)
}

/// The name of the drop-down option `given` picks: by orderindex (a number or a numeric
/// string) or by option UUID.
fn option_name(field: &Value, given: &Value) -> Result<String, String> {
    let options = field
        .pointer("/type_config/options")
        .and_then(Value::as_array)
        .ok_or("the field has no drop-down options")?;
    let index = |option: &Value| match option.get("orderindex") {
        Some(Value::String(text)) => text.trim().parse::<i64>().ok(),
        Some(number) => number.as_i64(),
        None => None,
    };
    let id = |option: &Value| option.get("id").and_then(Value::as_str).map(str::to_owned);

    let found = match given {
        Value::Number(number) => number
            .as_i64()
            .and_then(|wanted| options.iter().find(|option| index(option) == Some(wanted))),
        Value::String(text) => {
            let text = text.trim();
            let by_id = options
                .iter()
                .find(|option| id(option).is_some_and(|id| id.eq_ignore_ascii_case(text)));
            let wanted = text.parse::<i64>().ok();
            by_id.or_else(|| {
                options
                    .iter()
                    .find(|option| wanted.is_some() && index(option) == wanted)
            })
        }
        _ => None,
    };

    let name = found
        .and_then(|option| option.get("name"))
        .and_then(Value::as_str);
    match (found, name) {
        (Some(_), Some(name)) => Ok(name.trim().to_owned()),
        (Some(_), None) => Err("the chosen option has no name".to_owned()),
        (None, _) => Err(format!("option {given} is not one of the field's options")),
    }
}

/// A level from a drop-down option or a text: `read` (or `view`), `comment`, `edit`, `create`
/// (or `full`), in any case.
fn level_of(field: &Value, given: &Value) -> Result<Level, String> {
    let has_options = field.pointer("/type_config/options").is_some();
    let text = match (has_options, given) {
        (true, _) => option_name(field, given)?,
        (false, Value::String(text)) => text.trim().to_owned(),
        (false, _) => return Err("not a drop-down option or a text".to_owned()),
    };
    match text.to_lowercase().as_str() {
        "read" | "view" => Ok(Level::Read),
        "comment" => Ok(Level::Comment),
        "edit" => Ok(Level::Edit),
        "create" | "full" => Ok(Level::Create),
        _ => Err(format!("\"{text}\" is not read, comment, edit or create")),
    }
}

/// Days as a number (or a numeric string), or a text such as `14d` or `2w`; more than zero.
fn duration_of(_: &Value, given: &Value) -> Result<chrono::Duration, String> {
    let refused = "not a number of days or a duration such as 14d or 2w";
    let seconds = match given {
        Value::Number(number) => days(number.as_f64().ok_or(refused)?)?,
        Value::String(text) => match text.trim().parse::<f64>() {
            Ok(number) => days(number)?,
            Err(_) => parse_duration(text).map_err(|_| refused)?.as_secs_f64(),
        },
        _ => return Err(refused.to_owned()),
    };

    let too_long = || "is too long".to_owned();
    if !seconds.is_finite() || seconds > MAX_DAYS * 86_400.0 {
        return Err(too_long());
    }
    if seconds.round() < 1.0 {
        return Err("must be more than zero".to_owned());
    }
    // In range: at most MAX_DAYS days, far below i64 seconds.
    chrono::Duration::try_seconds(seconds.round() as i64).ok_or_else(too_long)
}

/// The longest duration a form may give, in days (about 270 years).
const MAX_DAYS: f64 = 100_000.0;

/// Seconds in `number` days; zero or less is refused.
fn days(number: f64) -> Result<f64, String> {
    match number > 0.0 {
        true => Ok(number * 86_400.0),
        false => Err("must be more than zero".to_owned()),
    }
}

fn justification_of(_: &Value, given: &Value) -> Result<String, String> {
    match given {
        Value::String(text) => Ok(text.trim().to_owned()),
        _ => Err("not a text".to_owned()),
    }
}
