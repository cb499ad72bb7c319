//! What assignment rules know about a task: read from `GET /v2/task/{id}` JSON and the event.
//!
//! Custom-field values come in several shapes and are all read as text: a drop-down as the
//! option's orderindex in a task read and as its UUID in webhooks (either may arrive inside a
//! string), labels as a list of option UUIDs, numbers as numbers or strings. Options are
//! mapped through the field's own `type_config.options` to their names. Ids are taken from
//! their JSON text, never through a float. The `Debug` output leaves out the task name and
//! field values, which may be personal data.

use std::fmt;

use serde_json::Value;

use crate::rules::approval::FieldRef;

/// What the worker knows about a task: from `GET /v2/task/{id}` JSON and the event name.
#[derive(Clone, PartialEq, Eq)]
pub struct TaskFacts {
    pub event: String,
    pub task_id: String,
    /// May be personal data: never logged.
    pub name: String,
    pub status: String,
    pub list_id: Option<String>,
    pub folder_id: Option<String>,
    pub space_id: Option<String>,
    pub tags: Vec<String>,
    pub fields: Vec<FieldValue>,
}

/// One custom field of a task and its value as text.
#[derive(Clone, PartialEq, Eq)]
pub struct FieldValue {
    pub id: String,
    pub name: String,
    /// The drop-down option's name, the text, or the number as text (labels: the option names
    /// joined with `", "`, a checkbox: `true` or `false`); `None` when unset or not readable as
    /// text (users, attachments, ...).
    pub value: Option<String>,
}

impl TaskFacts {
    /// Reads a task as `GET /v2/task/{id}` returns it; what is absent stays empty.
    pub fn from_task(event: &str, task: &Value) -> TaskFacts {
        let text = |pointer: &str| {
            let value = task.pointer(pointer).and_then(Value::as_str);
            value.map(str::trim).unwrap_or_default().to_owned()
        };
        let status = match task.get("status") {
            Some(Value::String(status)) => status.trim().to_owned(),
            _ => text("/status/status"),
        };

        let tags = task.get("tags").and_then(Value::as_array);
        let tags = tags.map_or(&[][..], Vec::as_slice).iter();
        let tags = tags.filter_map(|tag| tag.get("name").and_then(Value::as_str));

        let fields = task.get("custom_fields").and_then(Value::as_array);
        let fields = fields.map_or(&[][..], Vec::as_slice).iter();

        TaskFacts {
            event: event.trim().to_owned(),
            task_id: id_text(task.get("id")).unwrap_or_default(),
            name: text("/name"),
            status,
            list_id: id_text(task.pointer("/list/id")),
            folder_id: id_text(task.pointer("/folder/id")),
            space_id: id_text(task.pointer("/space/id")),
            tags: tags.map(|tag| tag.trim().to_owned()).collect(),
            fields: fields.map(FieldValue::from_field).collect(),
        }
    }
}

impl FieldValue {
    /// One entry of a task's `custom_fields`.
    fn from_field(field: &Value) -> FieldValue {
        let text = |key: &str| field.get(key).and_then(Value::as_str).unwrap_or_default();
        FieldValue {
            id: text("id").trim().to_owned(),
            name: text("name").trim().to_owned(),
            value: value_text(field),
        }
    }

    /// Whether this is the field `reference` names: by UUID, or by name in any case.
    pub(in crate::rules) fn is(&self, reference: &FieldRef) -> bool {
        match reference {
            FieldRef::Id(id) => self.id.eq_ignore_ascii_case(id),
            FieldRef::Name(name) => self.name.to_lowercase() == name.trim().to_lowercase(),
        }
    }
}

/// A JSON id as text: a non-empty string or an integer.
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(id) if !id.trim().is_empty() => Some(id.trim().to_owned()),
        Value::Number(id) if id.is_u64() || id.is_i64() => Some(id.to_string()),
        _ => None,
    }
}

/// The field's value as text; `None` when unset or of a shape that is not text.
fn value_text(field: &Value) -> Option<String> {
    let given = match field.get("value")? {
        Value::Null => return None,
        Value::String(text) if text.trim().is_empty() => return None,
        Value::Array(items) if items.is_empty() => return None,
        given => given,
    };

    let options = field
        .pointer("/type_config/options")
        .and_then(Value::as_array);
    match (options, given) {
        (Some(options), Value::Array(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|item| option_name(options, item))
                .collect();
            names.map(|names| names.join(", "))
        }
        (Some(options), given) => option_name(options, given),
        (None, Value::String(text)) => Some(text.trim().to_owned()),
        (None, Value::Number(number)) => Some(number.to_string()),
        (None, Value::Bool(flag)) => Some(flag.to_string()),
        (None, _) => None,
    }
}

/// The name (drop-down) or label (labels) of the option `given` picks: by orderindex (a
/// number or a numeric string), by option UUID, or an object with the option's `id`.
fn option_name(options: &[Value], given: &Value) -> Option<String> {
    let index = |option: &Value| match option.get("orderindex") {
        Some(Value::String(text)) => text.trim().parse::<i64>().ok(),
        Some(number) => number.as_i64(),
        None => None,
    };
    let by_id = |wanted: &str| {
        let wanted = wanted.trim();
        options.iter().find(|option| {
            let id = option.get("id").and_then(Value::as_str);
            id.is_some_and(|id| id.eq_ignore_ascii_case(wanted))
        })
    };
    let by_index =
        |wanted: Option<i64>| wanted.and_then(|w| options.iter().find(|o| index(o) == Some(w)));

    let found = match given {
        Value::Number(number) => by_index(number.as_i64()),
        Value::String(text) => by_id(text).or_else(|| by_index(text.trim().parse().ok())),
        Value::Object(_) => given.get("id").and_then(Value::as_str).and_then(by_id),
        _ => None,
    }?;
    let name = found.get("name").or_else(|| found.get("label"));
    name.and_then(Value::as_str)
        .map(|name| name.trim().to_owned())
}

impl fmt::Debug for TaskFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskFacts")
            .field("event", &self.event)
            .field("task_id", &self.task_id)
            .field("status", &self.status)
            .field("list_id", &self.list_id)
            .field("folder_id", &self.folder_id)
            .field("space_id", &self.space_id)
            .field("tags", &self.tags)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value.as_ref().map(|_| "(set)");
        f.debug_struct("FieldValue")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("value", &value)
            .finish()
    }
}
