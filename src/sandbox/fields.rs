//! Custom Fields on Lists, as much as access-request intake needs: drop-down, short text,
//! number and date fields that tests define, `GET /v2/list/{list_id}/field`,
//! `POST|DELETE /v2/task/{task_id}/field/{field_id}`, and the `custom_fields` of a task read.
//!
//! Values are stored in one form per type and read back the way ClickUp shows them: a
//! drop-down as its option's orderindex (writes take the option UUID or that index), a
//! number as a string, a date as a millisecond string. Only fields on the task's List
//! apply: the field endpoint refuses others, task creation skips them (ClickUp saves only
//! applicable values). A write that changes the stored value publishes `taskUpdated`.

use actix_web::{web, HttpResponse};
use anyhow::ensure;
use serde_json::{json, Value};

use super::{
    access::ObjectKind,
    body::Body,
    errors::ApiError,
    events::{self, Change},
    hierarchy::Task,
    routes::{parse_id, resource},
    state::{now_ms, SandboxState, Workspace},
    tasks::find_task,
};

/// A Custom Field type the sandbox models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomFieldType {
    DropDown,
    ShortText,
    Number,
    Date,
}

impl CustomFieldType {
    /// The `type` ClickUp shows: `drop_down`, `short_text`, `number` or `date`.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomFieldType::DropDown => "drop_down",
            CustomFieldType::ShortText => "short_text",
            CustomFieldType::Number => "number",
            CustomFieldType::Date => "date",
        }
    }
}

/// One option of a drop-down field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxFieldOption {
    /// A UUID.
    pub id: String,
    pub name: String,
    pub orderindex: u64,
}

/// A Custom Field as tests define and inspect it; `options` is empty unless a drop-down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxCustomField {
    /// A UUID.
    pub id: String,
    pub list_id: String,
    pub name: String,
    pub field_type: CustomFieldType,
    pub options: Vec<SandboxFieldOption>,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldRecord {
    pub definition: SandboxCustomField,
    pub date_created: u64,
}

impl FieldRecord {
    fn id(&self) -> &str {
        &self.definition.id
    }

    /// Checks a written value and returns its stored form: the option UUID of a drop-down,
    /// the text, the number, or the date in milliseconds.
    pub fn accept(&self, value: &Value) -> Result<Value, ApiError> {
        match self.definition.field_type {
            CustomFieldType::DropDown => self
                .option_for(value)
                .map(|option| Value::String(option.id.clone()))
                .ok_or_else(ApiError::dropdown_value_invalid),
            CustomFieldType::ShortText => value
                .as_str()
                .map(|text| Value::String(text.to_owned()))
                .ok_or_else(|| ApiError::field_value_invalid("a string")),
            CustomFieldType::Number if value.is_number() => Ok(value.clone()),
            CustomFieldType::Number => Err(ApiError::field_value_invalid("a number")),
            CustomFieldType::Date => value
                .as_u64()
                .map(Value::from)
                .ok_or_else(|| ApiError::field_value_invalid("a Unix time in milliseconds")),
        }
    }

    /// The option a drop-down value names: by UUID (ignoring case) or by orderindex.
    fn option_for(&self, value: &Value) -> Option<&SandboxFieldOption> {
        let options = &self.definition.options;
        match value {
            Value::String(id) => options.iter().find(|o| o.id.eq_ignore_ascii_case(id)),
            Value::Number(index) => {
                let index = index.as_u64()?;
                options.iter().find(|option| option.orderindex == index)
            }
            _ => None,
        }
    }

    /// A stored value as a task read shows it.
    pub fn read_value(&self, stored: &Value) -> Value {
        match (self.definition.field_type, stored) {
            (CustomFieldType::DropDown, stored) => self
                .option_for(stored)
                .map_or(Value::Null, |option| json!(option.orderindex)),
            (CustomFieldType::Number | CustomFieldType::Date, Value::Number(number)) => {
                Value::String(number.to_string())
            }
            (_, stored) => stored.clone(),
        }
    }

    fn type_config(&self) -> Value {
        if self.definition.field_type != CustomFieldType::DropDown {
            return json!({});
        }

        let options: Vec<Value> = self
            .definition
            .options
            .iter()
            .map(|o| json!({ "id": o.id, "name": o.name, "color": null, "orderindex": o.orderindex }))
            .collect();
        json!({ "sorting": "manual", "new_drop_down": true, "options": options })
    }

    /// The field as `GET /v2/list/{list_id}/field` lists it.
    fn definition_json(&self) -> Value {
        json!({
            "id": self.definition.id,
            "name": self.definition.name,
            "type": self.definition.field_type.as_str(),
            "type_config": self.type_config(),
            "date_created": self.date_created.to_string(),
            "hide_from_guests": false,
            "required": false
        })
    }

    /// The field in a task's `custom_fields`; `value` and `value_richtext` only when set,
    /// as in ClickUp's examples.
    fn task_entry_json(&self, stored: Option<&Value>) -> Value {
        let mut entry = self.definition_json();
        if let Some(stored) = stored {
            entry["value"] = self.read_value(stored);
            entry["value_richtext"] = json!("");
        }
        entry
    }
}

/// Every Custom Field in the workspace, in the order they were defined.
#[derive(Debug, Default)]
pub(crate) struct CustomFields {
    fields: Vec<FieldRecord>,
}

impl CustomFields {
    /// Defines a field with a fresh UUID; drop-down options get UUIDs and their position as
    /// orderindex. The List is not checked, as with the other `add_*` helpers.
    pub fn add(
        &mut self,
        list_id: &str,
        name: &str,
        field_type: CustomFieldType,
        options: &[&str],
    ) -> String {
        let options = options
            .iter()
            .zip(0..)
            .map(|(name, orderindex)| SandboxFieldOption {
                id: uuid::Uuid::new_v4().to_string(),
                name: (*name).to_owned(),
                orderindex,
            })
            .collect();
        let definition = SandboxCustomField {
            id: uuid::Uuid::new_v4().to_string(),
            list_id: list_id.to_owned(),
            name: name.to_owned(),
            field_type,
            options,
        };

        let id = definition.id.clone();
        self.fields.push(FieldRecord {
            definition,
            date_created: now_ms(),
        });
        id
    }

    /// Defines a field with the given ids; fails when its id is empty or taken, or when two
    /// options share an id or an orderindex.
    pub fn insert(&mut self, definition: SandboxCustomField) -> anyhow::Result<()> {
        let id = definition.id.as_str();
        ensure!(!id.trim().is_empty(), "a Custom Field needs an id");
        ensure!(
            self.get(id).is_none(),
            "Custom Field id {id} is already in use"
        );

        let options = &definition.options;
        for (position, option) in options.iter().enumerate() {
            let clash = options[..position].iter().any(|o| {
                o.id.eq_ignore_ascii_case(&option.id) || o.orderindex == option.orderindex
            });
            ensure!(
                !clash,
                "option {:?} repeats an id or orderindex",
                option.name
            );
        }

        self.fields.push(FieldRecord {
            definition,
            date_created: now_ms(),
        });
        Ok(())
    }

    /// The field with this id (UUIDs compare ignoring case).
    pub fn get(&self, id: &str) -> Option<&FieldRecord> {
        self.fields.iter().find(|f| f.id().eq_ignore_ascii_case(id))
    }

    /// The fields of a List, in the order they were defined.
    pub fn on_list<'a>(&'a self, list_id: &'a str) -> impl Iterator<Item = &'a FieldRecord> {
        self.fields
            .iter()
            .filter(move |field| field.definition.list_id == list_id)
    }

    /// The field with this id, if it applies to tasks of `list_id`.
    pub fn applicable(&self, list_id: &str, id: &str) -> Option<&FieldRecord> {
        self.get(id)
            .filter(|field| field.definition.list_id == list_id)
    }
}

/// Sets or replaces a task's stored value for a field.
pub(crate) fn store_value(task: &mut Task, field_id: &str, stored: Value) {
    match task.custom_fields.iter_mut().find(|(id, _)| id == field_id) {
        Some((_, value)) => *value = stored,
        None => task.custom_fields.push((field_id.to_owned(), stored)),
    }
}

fn stored_value<'a>(task: &'a Task, field_id: &str) -> Option<&'a Value> {
    task.custom_fields
        .iter()
        .find(|(id, _)| id == field_id)
        .map(|(_, value)| value)
}

/// A task's `custom_fields`: every field of its List, with the task's value where it has one.
pub(crate) fn task_fields_json(fields: &CustomFields, task: &Task) -> Value {
    let entries = fields
        .on_list(&task.list_id)
        .map(|field| field.task_entry_json(stored_value(task, field.id())));
    Value::Array(entries.collect())
}

/// `(field id, value)` for each value a task holds, as a task read shows the value.
pub(crate) fn read_values(fields: &CustomFields, task: &Task) -> Vec<(String, Value)> {
    task.custom_fields
        .iter()
        .filter_map(|(id, stored)| {
            let field = fields.get(id)?;
            Some((id.clone(), field.read_value(stored)))
        })
        .collect()
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/list/{list_id}/field").route(web::get().to(get_list_fields)))
        .service(
            resource("/v2/task/{task_id}/field/{field_id}")
                .route(web::post().to(set_field_value))
                .route(web::delete().to(remove_field_value)),
        );
}

async fn get_list_fields(
    state: web::Data<SandboxState>,
    list_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&list_id)?;

    state.with(|ws| {
        if !ws.hierarchy.contains(ObjectKind::List, &list_id) {
            return Err(ApiError::list_not_found());
        }

        let fields: Vec<Value> = ws
            .fields
            .on_list(&list_id)
            .map(FieldRecord::definition_json)
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "fields": fields })))
    })
}

/// Answers `{}`, as ClickUp does; the task's `date_updated` moves.
async fn set_field_value(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (task_id, field_id) = path.into_inner();
    let body = Body::parse(&bytes)?;
    let value = body
        .field("value")
        .ok_or_else(|| ApiError::missing_field("value"))?;

    state.with(|ws| {
        let owner = ws.owner_id;
        write_value(ws, owner, &task_id, &field_id, Some(value))?;
        Ok(HttpResponse::Ok().json(json!({})))
    })
}

/// Clears a value; clearing one that is not set also answers `{}`.
async fn remove_field_value(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (task_id, field_id) = path.into_inner();

    state.with(|ws| {
        let owner = ws.owner_id;
        write_value(ws, owner, &task_id, &field_id, None)?;
        Ok(HttpResponse::Ok().json(json!({})))
    })
}

/// Sets (`Some`) or clears (`None`) a task's value for a field on its List, as `actor` (not
/// checked here); publishes the change when the stored value changed.
pub(crate) fn write_value(
    ws: &mut Workspace,
    actor: u64,
    task_id: &str,
    field_id: &str,
    value: Option<&Value>,
) -> Result<(), ApiError> {
    let task = find_task(ws, task_id)?;
    let field = ws
        .fields
        .applicable(&task.list_id, field_id)
        .ok_or_else(ApiError::field_not_on_task)?;
    let stored = value.map(|value| field.accept(value)).transpose()?;
    let field_id = field.id().to_owned();

    let task = ws
        .hierarchy
        .task_mut(task_id)
        .ok_or_else(ApiError::task_not_found)?;
    let before = stored_value(task, &field_id).cloned();
    match stored.clone() {
        Some(stored) => store_value(task, &field_id, stored),
        None => task.custom_fields.retain(|(id, _)| *id != field_id),
    }
    task.date_updated = now_ms();

    if before != stored {
        events::publish(ws, actor, task_id, Change::Field { field_id, before });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
