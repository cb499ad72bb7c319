//! Assignment rules: which ClickUp tasks go to whom, by IAM attributes.
//!
//! The rules come from the `assignments:` sections of the rule files, checked at load
//! (`file::assign`). Everything here is pure: the worker reads the task into [`TaskFacts`],
//! asks [`RuleSet::assignment_for`] which rule covers it and [`AssignmentRule::conditions`]
//! what candidates must meet, selects them from the directory, keeps those
//! [`AssignmentRule::keeps`] accepts and lets [`choose`] pick one. Invariants: evaluation never
//! panics (a failure is an `Err` with a reason), [`choose`] is deterministic, and no reason
//! echoes a task's name or a field's value, which may be personal data; reasons quote the rule.

mod explain;
mod facts;

use chrono::{DateTime, Utc};
use serde::Deserialize;

pub use explain::explain_assignment;
pub use facts::{FieldValue, TaskFacts};

use crate::rules::{
    approval::FieldRef,
    desired::INACTIVE_STATUSES,
    expr::{person_value, Expr},
    grant::{ObjectKind, ObjectRef},
    identity::Identity,
    RuleSet,
};

/// The directory attributes candidates can be selected by (`where`, `by_field.attribute`).
pub const ASSIGNMENT_ATTRIBUTES: [&str; 8] = [
    "department",
    "location",
    "title",
    "group",
    "employment_type",
    "division",
    "cost_center",
    "role",
];

/// The ClickUp webhook events about a task, the ones an assignment rule may match.
pub const TASK_EVENTS: [&str; 13] = [
    "taskCreated",
    "taskUpdated",
    "taskDeleted",
    "taskPriorityUpdated",
    "taskStatusUpdated",
    "taskAssigneeUpdated",
    "taskDueDateUpdated",
    "taskTagUpdated",
    "taskMoved",
    "taskCommentPosted",
    "taskCommentUpdated",
    "taskTimeEstimateUpdated",
    "taskTimeTrackedUpdated",
];

/// One checked rule of an `assignments:` section.
#[derive(Debug)]
pub struct AssignmentRule {
    /// Unique across all rule files.
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub strategy: Strategy,
    pub fallback: Option<Fallback>,
    pub(in crate::rules) matching: TaskMatch,
    /// `where`, by attribute name.
    pub(in crate::rules) conditions: Vec<(String, String)>,
    pub(in crate::rules) filter: Option<Expr>,
    /// Present exactly when `strategy` is [`Strategy::ByField`].
    pub(in crate::rules) by_field: Option<ByField>,
}

/// How one candidate is picked among those who qualify; written in snake case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    RoundRobin,
    LeastLoaded,
    ByField,
}

/// Who gets the task when nobody qualifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// A ClickUp user's email.
    Email(String),
    /// A ClickUp user group's name.
    Group(String),
}

/// One person who qualifies, as the worker knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The ClickUp user id.
    pub user_id: u64,
    pub iam_id: String,
    /// Open tasks assigned to them, as the worker counts them.
    pub load: u32,
}

/// What a task must be to be covered; texts compared case-insensitively are kept lowercase.
#[derive(Debug)]
pub(in crate::rules) struct TaskMatch {
    /// Never empty.
    pub events: Vec<String>,
    /// `None`: anywhere.
    pub place: Option<ObjectRef>,
    pub tags: Vec<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    /// Each field and the value it must have, as written.
    pub fields: Vec<(FieldRef, String)>,
}

/// `by_field`: the task's field gives the value of a directory attribute.
#[derive(Debug)]
pub(in crate::rules) struct ByField {
    pub field: FieldRef,
    pub attribute: String,
    /// Field value → attribute value; `None`: the field's value itself.
    pub map: Option<Vec<(String, String)>>,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::RoundRobin => "round_robin",
            Strategy::LeastLoaded => "least_loaded",
            Strategy::ByField => "by_field",
        }
    }
}

impl RuleSet {
    /// Assignment rules, in file and rule order.
    pub fn assignments(&self) -> &[AssignmentRule] {
        &self.assignments
    }

    /// The first assignment rule that covers the task, in file and rule order.
    pub fn assignment_for(&self, facts: &TaskFacts) -> Option<&AssignmentRule> {
        let covering = |rule: &&AssignmentRule| rule.covers(facts).is_ok();
        self.assignments.iter().find(covering)
    }
}

impl AssignmentRule {
    /// Whether the rule matches tasks on this event at all (checked before reading the task).
    pub fn listens_to(&self, event: &str) -> bool {
        self.matching
            .events
            .iter()
            .any(|listened| listened == event)
    }

    /// The List the rule's `match` names, when it names a List (not a Folder or Space).
    pub fn list_id(&self) -> Option<&str> {
        match &self.matching.place {
            Some(place) if place.kind == ObjectKind::List => Some(place.id.as_str()),
            _ => None,
        }
    }

    /// `Ok(())` when the rule covers the task, else why not (for explanations).
    pub fn covers(&self, facts: &TaskFacts) -> Result<(), String> {
        let matching = &self.matching;
        if !matching.events.contains(&facts.event) {
            let events = match matching.events.as_slice() {
                [event] => event.clone(),
                events => format!("one of {}", events.join(", ")),
            };
            return Err(format!("the event is not {events}"));
        }

        if let Some(place) = &matching.place {
            let id = match place.kind {
                ObjectKind::Space => &facts.space_id,
                ObjectKind::Folder => &facts.folder_id,
                ObjectKind::List => &facts.list_id,
            };
            if id.as_deref() != Some(place.id.as_str()) {
                let kind = place.kind.as_str();
                return Err(format!("the task is not in {kind} {}", place.id));
            }
        }

        if let Some(status) = &matching.status {
            if facts.status.trim().to_lowercase() != *status {
                return Err(format!("the status is not \"{status}\""));
            }
        }

        let tags: Vec<String> = facts.tags.iter().map(|tag| lower(tag)).collect();
        if let Some(tag) = matching.tags.iter().find(|tag| !tags.contains(tag)) {
            return Err(format!("the task has no tag \"{tag}\""));
        }

        if let Some(name) = &matching.name {
            if !facts.name.to_lowercase().contains(name.as_str()) {
                return Err(format!("the task name does not contain \"{name}\""));
            }
        }

        for (field, wanted) in &matching.fields {
            let given = field_value(facts, field)?;
            if !same_value(given, wanted) {
                return Err(format!("field `{field}` is not \"{wanted}\""));
            }
        }
        Ok(())
    }

    /// The equality conditions candidates must meet for this task: `where` plus the
    /// `by_field` mapping (`Err` when the task lacks the field or its value has no mapping).
    pub fn conditions(&self, facts: &TaskFacts) -> Result<Vec<(String, String)>, String> {
        let mut conditions = self.conditions.clone();
        let Some(by_field) = &self.by_field else {
            return Ok(conditions);
        };

        let given = field_value(facts, &by_field.field)?;
        let value = match &by_field.map {
            None => given.trim().to_owned(),
            Some(map) => {
                let entry = map.iter().find(|(key, _)| same_value(given, key));
                let Some((_, value)) = entry else {
                    let keys: Vec<&str> = map.iter().map(|(key, _)| key.as_str()).collect();
                    return Err(format!(
                        "field `{}` has a value with no entry in `map` (mapped: {})",
                        by_field.field,
                        keys.join(", ")
                    ));
                };
                value.clone()
            }
        };
        conditions.push((by_field.attribute.clone(), value));
        Ok(conditions)
    }

    /// The CEL filter for one candidate (true when there is none); `Err` on a run-time error.
    /// An inactive person (terminated, disabled, deleted) is never kept, whatever the filter.
    pub fn keeps(
        &self,
        rules: &RuleSet,
        person: &Identity,
        now: DateTime<Utc>,
    ) -> Result<bool, String> {
        if INACTIVE_STATUSES.contains(&person.status.as_str()) {
            return Ok(false);
        }
        let Some(filter) = &self.filter else {
            return Ok(true);
        };
        let context = rules.cel.context(person_value(person), now);
        filter
            .is_true(&context)
            .map_err(|error| format!("`filter` {error}"))
    }
}

/// The pick among `candidates` (already filtered), as an index into them; deterministic.
/// RoundRobin and ByField: candidates sorted by user id (then IAM id), the one at
/// `cursor % len`; LeastLoaded: the smallest load, ties by user id (then IAM id).
pub fn choose(strategy: Strategy, candidates: &[Candidate], cursor: u64) -> Option<usize> {
    let key = |index: &usize| {
        let candidate = &candidates[*index];
        (candidate.user_id, candidate.iam_id.as_str())
    };
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|a, b| key(a).cmp(&key(b)));

    match strategy {
        Strategy::RoundRobin | Strategy::ByField => {
            let length = u64::try_from(order.len()).ok().filter(|len| *len > 0)?;
            let at = usize::try_from(cursor % length).ok()?;
            order.get(at).copied()
        }
        Strategy::LeastLoaded => order
            .into_iter()
            .min_by_key(|index| (candidates[*index].load, key(index))),
    }
}

/// The value of the task's `field`, or why there is none.
fn field_value<'f>(facts: &'f TaskFacts, field: &FieldRef) -> Result<&'f str, String> {
    let found = facts.fields.iter().find(|given| given.is(field));
    let Some(found) = found else {
        return Err(format!("the task has no field `{field}`"));
    };
    match found.value.as_deref().map(str::trim) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(format!("field `{field}` is empty")),
    }
}

/// Whether a task's value is the one a rule wrote: the same text in any case, or the same
/// number (`1234` and `1234.0`).
pub(in crate::rules) fn same_value(given: &str, wanted: &str) -> bool {
    let (given, wanted) = (given.trim(), wanted.trim());
    if lower(given) == lower(wanted) {
        return true;
    }
    let number = |text: &str| text.parse::<f64>().ok().filter(|number| number.is_finite());
    matches!((number(given), number(wanted)), (Some(a), Some(b)) if a == b)
}

pub(in crate::rules) fn lower(text: &str) -> String {
    text.trim().to_lowercase()
}

#[cfg(test)]
mod tests;
