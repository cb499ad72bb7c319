//! Where an object sits: the folder and space above a List (`GET /v2/list/{id}`) and the
//! space above a Folder (`GET /v2/folder/{id}`), for answers that count inherited access.

use reqwest::Method;
use serde_json::Value;

use super::{ClickUpClient, ClickUpError};
use crate::rules::{ObjectKind, ObjectRef};

impl ClickUpClient {
    /// The Folder (unless it is the Space's hidden one) and the Space a List sits in,
    /// nearest first.
    pub async fn list_parents(&self, list_id: &str) -> Result<Vec<ObjectRef>, ClickUpError> {
        let path = format!("/v2/list/{list_id}");
        let list: Value = self.call(Method::GET, &path, None).await?;

        let mut parents = Vec::new();
        let hidden = list["folder"]["hidden"].as_bool().unwrap_or(false);
        if let (Some(folder), false) = (id_of(&list["folder"]["id"]), hidden) {
            parents.push(ObjectRef::new(ObjectKind::Folder, folder));
        }
        let space = id_of(&list["space"]["id"])
            .ok_or_else(|| ClickUpError::Contract(format!("{path}: the List names no space")))?;
        parents.push(ObjectRef::new(ObjectKind::Space, space));
        Ok(parents)
    }

    /// The Space a Folder sits in.
    pub async fn folder_space(&self, folder_id: &str) -> Result<ObjectRef, ClickUpError> {
        let path = format!("/v2/folder/{folder_id}");
        let folder: Value = self.call(Method::GET, &path, None).await?;
        let space = id_of(&folder["space"]["id"])
            .ok_or_else(|| ClickUpError::Contract(format!("{path}: the Folder names no space")))?;
        Ok(ObjectRef::new(ObjectKind::Space, space))
    }
}

/// An id ClickUp sends as a string or an integer.
fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) if number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}
