//! The `person` variable: an [`Identity`] as a CEL map, and attribute values rendered for people.
//!
//! Every attribute is always present so conditions never fail on a missing key: an absent
//! text is `""`, an absent list `[]`, an absent manager or sponsor a map of `""`, and an absent
//! date or timestamp `null`. Dates become timestamps in UTC: `start_date` at 00:00:00 and
//! `end_date` at 23:59:59, so `until: person.end_date` keeps access through the last day.
//! `custom` holds only the keys the IAM sent (test them with `has(person.custom.key)`).

use std::collections::HashMap;

use cel::{objects::KeyRef, Value};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::rules::identity::{end_of_day, start_of_day, Identity, PersonRef};

/// The CEL value of `person` for `identity`.
pub fn person_value(identity: &Identity) -> Value {
    let text = |value: &Option<String>| Value::from(value.clone().unwrap_or_default());
    let names = |names: &Vec<String>| Value::from(names.clone());
    let mut fields: HashMap<String, Value> = HashMap::from([
        ("id".into(), Value::from(identity.id.clone())),
        ("email".into(), text(&identity.email)),
        ("username".into(), text(&identity.username)),
        ("display_name".into(), text(&identity.display_name)),
        ("status".into(), Value::from(identity.status.clone())),
        ("employment_type".into(), text(&identity.employment_type)),
        ("department".into(), text(&identity.department)),
        ("title".into(), text(&identity.title)),
        ("location".into(), text(&identity.location)),
        ("division".into(), text(&identity.division)),
        ("cost_center".into(), text(&identity.cost_center)),
        ("organization".into(), text(&identity.organization)),
        ("company".into(), text(&identity.company)),
        ("groups".into(), names(&identity.groups)),
        ("roles".into(), names(&identity.roles)),
    ]);

    fields.insert("manager".into(), person_ref(identity.manager.as_ref()));
    fields.insert("sponsor".into(), person_ref(identity.sponsor.as_ref()));
    fields.insert(
        "start_date".into(),
        timestamp(identity.start_date.map(start_of_day)),
    );
    fields.insert(
        "end_date".into(),
        timestamp(identity.end_date.map(end_of_day)),
    );
    fields.insert("end_at".into(), timestamp(identity.end_at));

    let custom: HashMap<String, Value> = identity
        .custom
        .iter()
        .map(|(key, value)| (key.clone(), json(value)))
        .collect();
    fields.insert("custom".into(), Value::Map(custom.into()));
    Value::Map(fields.into())
}

/// The value at `path` (`person.title`, `person.custom.key`) as rules saw it, or `(absent)`.
pub fn render_attribute(person: &Value, path: &str) -> String {
    let mut value = person;
    for segment in path.split('.').skip(1) {
        let Value::Map(map) = value else {
            return "(absent)".into();
        };
        match map.get(&KeyRef::String(segment)) {
            Some(inner) => value = inner,
            None => return "(absent)".into(),
        }
    }
    render(value)
}

/// A CEL value the way CEL would write it; strings quoted, timestamps in RFC 3339 UTC.
pub fn render(value: &Value) -> String {
    match value {
        Value::String(text) => serde_json::Value::from(text.as_str()).to_string(),
        Value::Int(number) => number.to_string(),
        Value::UInt(number) => format!("{number}u"),
        Value::Float(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null => "null".into(),
        Value::Timestamp(at) => at.to_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(map) => {
            let mut entries: Vec<String> = map
                .map
                .iter()
                .map(|(key, value)| format!("{}: {}", render(&Value::from(key)), render(value)))
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn person_ref(reference: Option<&PersonRef>) -> Value {
    let reference = reference.cloned().unwrap_or_default();
    let fields = HashMap::from([
        ("id".to_owned(), reference.id.unwrap_or_default()),
        ("email".to_owned(), reference.email.unwrap_or_default()),
        (
            "display_name".to_owned(),
            reference.display_name.unwrap_or_default(),
        ),
    ]);
    Value::from(fields)
}

fn timestamp(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::Timestamp(at.fixed_offset()))
}

fn json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(flag) => Value::Bool(*flag),
        serde_json::Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(signed), _) => Value::Int(signed),
            (None, Some(unsigned)) => Value::UInt(unsigned),
            (None, None) => Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(text) => Value::from(text.clone()),
        serde_json::Value::Array(items) => Value::from(items.iter().map(json).collect::<Vec<_>>()),
        serde_json::Value::Object(fields) => {
            let fields: HashMap<String, Value> = fields
                .iter()
                .map(|(key, value)| (key.clone(), json(value)))
                .collect();
            Value::Map(fields.into())
        }
    }
}
