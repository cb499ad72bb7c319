//! The bodies of the task writes, checked against the types the OpenAPI spec gives them.
//!
//! CreateTask takes flat arrays of assignees and group assignees; UpdateTask takes
//! `{add, rem}` diffs. A flat array on update is recognised rather than refused, so that the
//! handler can ignore it the way ClickUp does. Fields the sandbox does not model (time
//! estimates, points, watchers, links) are accepted and dropped, as unknown fields are.

use serde_json::Value;

use super::super::{
    body::{integer_list, Body},
    errors::ApiError,
};

/// A checked CreateTask body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewTask {
    pub name: String,
    /// Plain text, and the Markdown it came from when `markdown_content` was sent (which
    /// wins over `description`, as the spec says).
    pub description: String,
    pub markdown: Option<String>,
    pub assignees: Vec<u64>,
    pub group_assignees: Vec<String>,
    pub tags: Vec<String>,
    pub status: Option<String>,
    pub priority: Option<u8>,
    pub due_date: Option<u64>,
    pub parent: Option<String>,
    /// `(field id, value)` pairs as sent; the handler checks them against the List.
    pub custom_fields: Vec<(String, Value)>,
}

impl NewTask {
    pub fn parse(body: &Body) -> Result<Self, ApiError> {
        let name = checked_name(body.required_str("name")?)?;
        let (description, markdown) = description(body)?.unwrap_or_default();
        body.optional_bool("notify_all")?;

        Ok(NewTask {
            name,
            description,
            markdown,
            assignees: optional_list(body, "assignees", integer_list)?,
            group_assignees: optional_list(body, "group_assignees", string_list)?,
            tags: optional_list(body, "tags", string_list)?,
            status: body.optional_str("status")?.map(str::to_owned),
            priority: priority(body)?,
            due_date: body.optional_integer("due_date")?,
            parent: body.optional_str("parent")?.map(str::to_owned),
            custom_fields: custom_fields(body)?,
        })
    }

    /// A task as a ClickUp form creates it: a name and Custom Field values, the rest empty.
    pub fn from_form(name: &str, custom_fields: Vec<(String, Value)>) -> Result<Self, ApiError> {
        Ok(NewTask {
            name: checked_name(name)?,
            description: String::new(),
            markdown: None,
            assignees: Vec::new(),
            group_assignees: Vec::new(),
            tags: Vec::new(),
            status: None,
            priority: None,
            due_date: None,
            parent: None,
            custom_fields,
        })
    }
}

/// How an update changes a set of assignees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum SetChange<T> {
    #[default]
    Keep,
    Diff {
        add: Vec<T>,
        rem: Vec<T>,
    },
    /// A flat array, which ClickUp answers with 200 and otherwise ignores.
    IgnoredArray,
}

impl<T> SetChange<T> {
    pub fn added(&self) -> &[T] {
        match self {
            SetChange::Diff { add, .. } => add,
            SetChange::Keep | SetChange::IgnoredArray => &[],
        }
    }
}

/// A checked UpdateTask body; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TaskChanges {
    pub name: Option<String>,
    pub description: Option<(String, Option<String>)>,
    pub status: Option<String>,
    /// `Some(None)` clears the priority (`"priority": null`).
    pub priority: Option<Option<u8>>,
    /// `Some(None)` clears the due date (`"due_date": null`).
    pub due_date: Option<Option<u64>>,
    pub assignees: SetChange<u64>,
    pub group_assignees: SetChange<String>,
}

impl TaskChanges {
    pub fn parse(body: &Body) -> Result<Self, ApiError> {
        let name = body.optional_str("name")?.map(checked_name).transpose()?;

        Ok(TaskChanges {
            name,
            description: description(body)?,
            status: body.optional_str("status")?.map(str::to_owned),
            priority: priority(body)?
                .map(Some)
                .or_else(|| cleared(body, "priority")),
            due_date: body
                .optional_integer("due_date")?
                .map(Some)
                .or_else(|| cleared(body, "due_date")),
            assignees: user_change(body)?,
            group_assignees: group_change(body)?,
        })
    }

    /// How many flat arrays this update sends where ClickUp wants a diff.
    pub fn ignored_arrays(&self) -> usize {
        let ignored = |flat: bool| usize::from(flat);
        ignored(self.assignees == SetChange::IgnoredArray)
            + ignored(self.group_assignees == SetChange::IgnoredArray)
    }
}

/// `Some(None)` when the field is sent as `null`, which clears it on update.
fn cleared<T>(body: &Body, name: &str) -> Option<Option<T>> {
    body.is_null(name).then_some(None)
}

fn checked_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_value("name must not be empty"));
    }
    Ok(name.to_owned())
}

/// `(text, markdown)` from `markdown_content` or `description`. A blank text clears the
/// description, as ClickUp documents for `" "`.
fn description(body: &Body) -> Result<Option<(String, Option<String>)>, ApiError> {
    let blank_to_empty = |text: &str| {
        let text = if text.trim().is_empty() { "" } else { text };
        text.to_owned()
    };

    if let Some(markdown) = body.optional_str("markdown_content")? {
        body.optional_str("description")?;
        let text = blank_to_empty(markdown);
        return Ok(Some((text.clone(), Some(text))));
    }
    let text = body.optional_str("description")?;
    Ok(text.map(|text| (blank_to_empty(text), None)))
}

/// 1 (urgent) to 4 (low); `null` and absence both read as `None` here.
fn priority(body: &Body) -> Result<Option<u8>, ApiError> {
    let Some(priority) = body.optional_integer("priority")? else {
        return Ok(None);
    };

    match u8::try_from(priority) {
        Ok(priority @ 1..=4) => Ok(Some(priority)),
        _ => Err(ApiError::invalid_value(
            "priority must be 1 (urgent), 2 (high), 3 (normal), 4 (low) or null",
        )),
    }
}

fn optional_list<T>(
    body: &Body,
    name: &str,
    items: fn(&Value, &str) -> Result<Vec<T>, ApiError>,
) -> Result<Vec<T>, ApiError> {
    body.field(name)
        .map_or_else(|| Ok(Vec::new()), |value| items(value, name))
}

fn string_list(value: &Value, name: &str) -> Result<Vec<String>, ApiError> {
    let wrong = || ApiError::wrong_type(name, "an array of strings");
    let items = value.as_array().ok_or_else(wrong)?;

    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(wrong)
}

/// `custom_fields: [{id, value}]`; an item whose value is `null` sets nothing.
fn custom_fields(body: &Body) -> Result<Vec<(String, Value)>, ApiError> {
    let Some(items) = body.optional_array("custom_fields")? else {
        return Ok(Vec::new());
    };

    let mut fields = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let label = format!("custom_fields[{index}].id");
        let item = item
            .as_object()
            .ok_or_else(|| ApiError::wrong_type("custom_fields", "an array of {id, value}"))?;
        let id = match item.get("id") {
            None | Some(Value::Null) => return Err(ApiError::missing_field(&label)),
            Some(id) => id
                .as_str()
                .ok_or_else(|| ApiError::wrong_type(&label, "a string"))?,
        };

        match item.get("value") {
            None | Some(Value::Null) => {}
            Some(value) => fields.push((id.to_owned(), value.clone())),
        }
    }
    Ok(fields)
}

/// `assignees` on update: a diff of user ids with both arrays, as the spec requires.
fn user_change(body: &Body) -> Result<SetChange<u64>, ApiError> {
    if body.field("assignees").is_some_and(Value::is_array) {
        return Ok(SetChange::IgnoredArray);
    }

    let diff = body.optional_diff("assignees")?;
    Ok(diff.map_or(SetChange::Keep, |diff| SetChange::Diff {
        add: diff.add,
        rem: diff.rem,
    }))
}

/// `group_assignees` on update: a diff of group UUIDs, where the spec requires neither part.
fn group_change(body: &Body) -> Result<SetChange<String>, ApiError> {
    let name = "group_assignees";
    let Some(value) = body.field(name) else {
        return Ok(SetChange::Keep);
    };
    if value.is_array() {
        return Ok(SetChange::IgnoredArray);
    }

    let fields = value
        .as_object()
        .ok_or_else(|| ApiError::wrong_type(name, "an object with add and rem arrays"))?;
    let part = |key: &str| match fields.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => string_list(value, &format!("{name}.{key}")),
    };
    Ok(SetChange::Diff {
        add: part("add")?,
        rem: part("rem")?,
    })
}
