//! The Space → Folder → List → task hierarchy that tests seed, and the lookups the read,
//! share and ACL endpoints make in it. The read endpoints are in `hierarchy/reads.rs`, the
//! JSON shapes in `hierarchy/render.rs`, task deletion and a task's place for webhook
//! matching in `hierarchy/removal.rs`.
//!
//! Ids follow ClickUp's types: numeric strings for Spaces, Folders and Lists, short
//! alphanumeric strings for tasks. A List sits either in a Folder or directly in its Space
//! (ClickUp's "folderless" List, shown in the Space's hidden folder). Generated ids never
//! collide with ids seeded explicitly. Every List has a status set (ClickUp's defaults until
//! a test sets its own), and every task is in one of its List's statuses. A deleted task's
//! id is remembered and never reused.

mod reads;
mod removal;
mod render;
mod team_tasks;

use anyhow::{bail, ensure};
use serde_json::Value;

use super::{
    access::ObjectKind,
    statuses::{default_statuses, Status},
};

pub(crate) use reads::configure;
pub(crate) use removal::TaskScope;
pub(crate) use render::{render_task, shared_folder_json, shared_list_json, shared_task_json};

/// Where a List lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListParent {
    /// A folderless List directly in the Space with this id.
    Space(String),
    /// A List in the Folder with this id.
    Folder(String),
}

#[derive(Debug, Clone)]
struct Space {
    id: String,
    name: String,
    hidden_folder_id: String,
}

#[derive(Debug, Clone)]
struct Folder {
    id: String,
    space_id: String,
    name: String,
}

#[derive(Debug, Clone)]
struct List {
    id: String,
    parent: ListParent,
    name: String,
    statuses: Vec<Status>,
}

/// A task and what the task endpoints write on it; timestamps are Unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub id: String,
    pub list_id: String,
    pub name: String,
    pub creator: u64,
    pub date_created: u64,
    pub date_updated: u64,
    /// When the task entered a `done` or `closed` status; `None` while it is open.
    pub date_closed: Option<u64>,
    /// Plain text; `markdown` keeps the Markdown it was written in, if it was.
    pub description: String,
    pub markdown: Option<String>,
    /// The status name as the List spells it.
    pub status: String,
    /// 1 (urgent) to 4 (low).
    pub priority: Option<u8>,
    pub due_date: Option<u64>,
    pub assignees: Vec<u64>,
    /// User group UUIDs.
    pub group_assignees: Vec<String>,
    pub tags: Vec<String>,
    pub parent: Option<String>,
    /// `(field id, value)` in the stored form of `fields::FieldRecord::accept`.
    pub custom_fields: Vec<(String, Value)>,
}

/// Every Space, Folder, List and task in the workspace.
#[derive(Debug)]
pub(crate) struct Hierarchy {
    spaces: Vec<Space>,
    folders: Vec<Folder>,
    lists: Vec<List>,
    tasks: Vec<Task>,
    /// Ids of deleted tasks, which are never handed out again.
    deleted_tasks: Vec<String>,
    next_number: u64,
}

impl Default for Hierarchy {
    fn default() -> Self {
        Hierarchy {
            spaces: Vec::new(),
            folders: Vec::new(),
            lists: Vec::new(),
            tasks: Vec::new(),
            deleted_tasks: Vec::new(),
            next_number: 1,
        }
    }
}

impl Hierarchy {
    /// A fresh id from `format`, skipping any that `taken` reports in use.
    fn fresh(&mut self, format: fn(u64) -> String, taken: fn(&Hierarchy, &str) -> bool) -> String {
        loop {
            let number = self.next_number;
            self.next_number += 1;

            let id = format(number);
            if !taken(self, &id) {
                return id;
            }
        }
    }

    fn space_taken(&self, id: &str) -> bool {
        self.space(id).is_some()
    }

    /// Folder ids include the hidden folders of Spaces.
    fn folder_taken(&self, id: &str) -> bool {
        self.folder(id).is_some() || self.spaces.iter().any(|s| s.hidden_folder_id == id)
    }

    fn list_taken(&self, id: &str) -> bool {
        self.list(id).is_some()
    }

    fn task_taken(&self, id: &str) -> bool {
        self.task(id).is_some() || self.was_deleted(id)
    }

    fn hidden_folder_id(&mut self) -> String {
        self.fresh(|n| format!("9012{n:07}"), Self::folder_taken)
    }

    pub fn add_space(&mut self, name: &str) -> String {
        let id = self.fresh(|n| format!("9011{n:07}"), Self::space_taken);
        let hidden_folder_id = self.hidden_folder_id();

        self.spaces.push(Space {
            id: id.clone(),
            name: name.to_owned(),
            hidden_folder_id,
        });
        id
    }

    pub fn insert_space(&mut self, id: &str, name: &str) -> anyhow::Result<()> {
        ensure_numeric("Space", id)?;
        ensure!(!self.space_taken(id), "Space id {id} is already in use");

        let hidden_folder_id = self.hidden_folder_id();
        self.spaces.push(Space {
            id: id.to_owned(),
            name: name.to_owned(),
            hidden_folder_id,
        });
        Ok(())
    }

    pub fn add_folder(&mut self, space_id: &str, name: &str) -> String {
        let id = self.fresh(|n| format!("9013{n:07}"), Self::folder_taken);

        self.folders.push(Folder {
            id: id.clone(),
            space_id: space_id.to_owned(),
            name: name.to_owned(),
        });
        id
    }

    pub fn insert_folder(&mut self, id: &str, space_id: &str, name: &str) -> anyhow::Result<()> {
        ensure_numeric("Folder", id)?;
        ensure!(!self.folder_taken(id), "Folder id {id} is already in use");
        ensure!(
            self.space_taken(space_id),
            "no Space {space_id} for Folder {id}"
        );

        self.folders.push(Folder {
            id: id.to_owned(),
            space_id: space_id.to_owned(),
            name: name.to_owned(),
        });
        Ok(())
    }

    /// Adds a List under `parent`; the parent is not checked, as with the other `add_*`.
    pub fn add_list(&mut self, parent: ListParent, name: &str) -> String {
        let id = self.fresh(|n| format!("90110{n:07}"), Self::list_taken);

        self.lists.push(List {
            id: id.clone(),
            parent,
            name: name.to_owned(),
            statuses: default_statuses(),
        });
        id
    }

    pub fn insert_list(&mut self, id: &str, parent: ListParent, name: &str) -> anyhow::Result<()> {
        ensure_numeric("List", id)?;
        ensure!(!self.list_taken(id), "List id {id} is already in use");
        match &parent {
            ListParent::Space(space_id) if !self.space_taken(space_id) => {
                bail!("no Space {space_id} for List {id}")
            }
            ListParent::Folder(folder_id) if self.folder(folder_id).is_none() => {
                bail!("no Folder {folder_id} for List {id}")
            }
            _ => {}
        }

        self.lists.push(List {
            id: id.to_owned(),
            parent,
            name: name.to_owned(),
            statuses: default_statuses(),
        });
        Ok(())
    }

    /// Adds a task in its List's first status (`to do` by default); the List is not checked.
    pub fn add_task(&mut self, list_id: &str, name: &str, creator: u64, now_ms: u64) -> String {
        let id = self.fresh(|n| format!("86abc{n:04}"), Self::task_taken);
        let status = self
            .list_statuses(list_id)
            .and_then(|statuses| statuses.first())
            .map_or_else(|| "to do".to_owned(), |status| status.name.clone());

        self.tasks.push(Task {
            id: id.clone(),
            list_id: list_id.to_owned(),
            name: name.to_owned(),
            creator,
            date_created: now_ms,
            date_updated: now_ms,
            date_closed: None,
            description: String::new(),
            markdown: None,
            status,
            priority: None,
            due_date: None,
            assignees: Vec::new(),
            group_assignees: Vec::new(),
            tags: Vec::new(),
            parent: None,
            custom_fields: Vec::new(),
        });
        id
    }

    /// The statuses of the List with this id, in workflow order.
    pub fn list_statuses(&self, list_id: &str) -> Option<&[Status]> {
        self.list(list_id).map(|list| list.statuses.as_slice())
    }

    /// Replaces a List's statuses. Tasks keep their status name; one the new set lacks is
    /// shown as a `custom` status until the task is moved.
    pub fn set_list_statuses(&mut self, list_id: &str, statuses: Vec<Status>) -> bool {
        let Some(list) = self.lists.iter_mut().find(|list| list.id == list_id) else {
            return false;
        };
        list.statuses = statuses;
        true
    }

    fn space(&self, id: &str) -> Option<&Space> {
        self.spaces.iter().find(|space| space.id == id)
    }

    fn folder(&self, id: &str) -> Option<&Folder> {
        self.folders.iter().find(|folder| folder.id == id)
    }

    fn list(&self, id: &str) -> Option<&List> {
        self.lists.iter().find(|list| list.id == id)
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.id == id)
    }

    pub fn task_mut(&mut self, id: &str) -> Option<&mut Task> {
        self.tasks.iter_mut().find(|task| task.id == id)
    }

    /// The Folder a List is in, or `None` for a folderless List.
    fn folder_of(&self, list: &List) -> Option<&Folder> {
        match &list.parent {
            ListParent::Folder(folder_id) => self.folder(folder_id),
            ListParent::Space(_) => None,
        }
    }

    /// The Space a List is in, through its Folder when it has one.
    fn space_of(&self, list: &List) -> Option<&Space> {
        match &list.parent {
            ListParent::Space(space_id) => self.space(space_id),
            ListParent::Folder(folder_id) => {
                self.folder(folder_id).and_then(|f| self.space(&f.space_id))
            }
        }
    }

    fn task_count(&self, list_id: &str) -> usize {
        self.tasks
            .iter()
            .filter(|task| task.list_id == list_id)
            .count()
    }

    fn lists_in(&self, parent: &ListParent) -> impl Iterator<Item = &List> {
        let parent = parent.clone();
        self.lists.iter().filter(move |list| list.parent == parent)
    }

    /// Whether an object of this kind and id exists.
    pub fn contains(&self, kind: ObjectKind, id: &str) -> bool {
        match kind {
            ObjectKind::Space => self.space(id).is_some(),
            ObjectKind::Folder => self.folder(id).is_some(),
            ObjectKind::List => self.list(id).is_some(),
            ObjectKind::Task => self.task(id).is_some(),
        }
    }
}

fn ensure_numeric(what: &str, id: &str) -> anyhow::Result<()> {
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    ensure!(numeric, "{what} id {id:?} must be a numeric string");
    Ok(())
}

#[cfg(test)]
mod tests;
