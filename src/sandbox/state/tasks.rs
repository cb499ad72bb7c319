//! Seeding and inspection of what the task endpoints write: a List's statuses, its Custom
//! Fields, a task with its assignees and field values, the comments on a task, how many
//! flat assignee arrays UpdateTask has ignored, and the webhook deliveries attempted.
//!
//! Field values read back the way the API shows them (a drop-down as its option's
//! orderindex, a number as a string), so a test can compare them with a task read.

use anyhow::ensure;

use super::{
    super::{
        access::ObjectKind,
        dispatch::SandboxDelivery,
        fields::{CustomFieldType, SandboxCustomField},
        statuses::parse_statuses,
        tasks::{SandboxComment, SandboxTask},
    },
    SandboxState,
};

impl SandboxState {
    /// The task with this id, with its assignees, group assignees and field values.
    pub fn task(&self, task_id: &str) -> Option<SandboxTask> {
        self.with(|ws| {
            let task = ws.hierarchy.task(task_id)?;
            Some(SandboxTask::from_record(ws, task))
        })
    }

    /// The comments on a task, oldest first; empty for unknown tasks.
    pub fn comments(&self, task_id: &str) -> Vec<SandboxComment> {
        self.with(|ws| {
            ws.comments
                .on_task(task_id)
                .map(|comment| comment.to_public())
                .collect()
        })
    }

    /// Replaces a List's statuses with `(name, type)` pairs in workflow order, `type` being
    /// `open`, `custom`, `done` or `closed` (e.g. `[("new", "open"), ("granted", "closed")]`).
    /// New tasks start in the first. Fails on an unknown List or an invalid set.
    pub fn set_list_statuses(
        &self,
        list_id: &str,
        statuses: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let statuses = parse_statuses(statuses)?;
        let found = self.with(|ws| ws.hierarchy.set_list_statuses(list_id, statuses));
        ensure!(found, "no List {list_id} to set statuses on");
        Ok(())
    }

    /// Defines a Custom Field on a List; returns its UUID. Drop-down `options` are names,
    /// given UUIDs and their position as orderindex (see [`Self::custom_fields`]); other
    /// types ignore them. The List is not checked, as with the other `add_*` helpers.
    pub fn add_custom_field(
        &self,
        list_id: &str,
        name: &str,
        field_type: CustomFieldType,
        options: &[&str],
    ) -> String {
        let options = match field_type {
            CustomFieldType::DropDown => options,
            _ => &[],
        };
        self.with(|ws| ws.fields.add(list_id, name, field_type, options))
    }

    /// Defines a Custom Field with the given ids, e.g. ones a rule file names. Fails when the
    /// List does not exist, the field id is taken, or options repeat an id or orderindex.
    pub fn insert_custom_field(&self, field: SandboxCustomField) -> anyhow::Result<()> {
        self.with(|ws| {
            let list_id = &field.list_id;
            ensure!(
                ws.hierarchy.contains(ObjectKind::List, list_id),
                "no List {list_id} for Custom Field {}",
                field.id
            );
            ws.fields.insert(field)
        })
    }

    /// The Custom Fields of a List with their options, in the order they were defined.
    pub fn custom_fields(&self, list_id: &str) -> Vec<SandboxCustomField> {
        self.with(|ws| {
            ws.fields
                .on_list(list_id)
                .map(|field| field.definition.clone())
                .collect()
        })
    }

    /// How many flat arrays UpdateTask has received as `assignees` or `group_assignees`
    /// and, like ClickUp, answered with 200 while changing nothing.
    pub fn ignored_assignee_arrays(&self) -> usize {
        self.with(|ws| ws.ignored_assignee_arrays)
    }

    /// Every webhook delivery attempted so far, in the order of the attempts (which is the
    /// order the changes happened); `Sandbox::settle` waits for the ones queued so far.
    pub fn deliveries(&self) -> Vec<SandboxDelivery> {
        self.with(|ws| ws.outbox.deliveries())
    }
}
