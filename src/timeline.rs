//! Access timelines: grant rows turned into intervals of access, with how each began (a rule,
//! or an access request and its approvers) and how it ended (in a small closed vocabulary,
//! the raw record kept beside it), and the point-in-time question "who had access to X at T".
//!
//! No IO except in `query`, which reads the store (and ClickUp's hierarchy, when given) and
//! hands the rows to the pure functions here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::{Approval, GrantKind, GrantRecord};

mod ending;
mod input;
pub mod query;

pub use ending::{classify, EndCause};
pub use input::{check_audit_object, parse_time, ObjectKey, ObjectKeyError, TimeError};

/// One stretch of access: one grant row, from its opening to its closing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub grant_id: i64,
    pub iam_id: String,
    pub kind: GrantKind,
    /// `workspace:<team>`, a user group's name, `space:<id>`, `folder:<id>` or `list:<id>`.
    pub object: String,
    pub level: String,
    pub from: DateTime<Utc>,
    /// `None` while the access is held.
    pub to: Option<DateTime<Utc>>,
    /// The planned end of time-bound access.
    pub until: Option<DateTime<Utc>>,
    pub granted_by: GrantedBy,
    pub ended: Option<Ended>,
}

/// How an interval began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GrantedBy {
    /// A mapping of the rules, by name.
    Rule { name: String },
    /// An approved access request (the ClickUp task) and whoever approved each step.
    Request {
        task_id: String,
        approvers: Vec<Approver>,
    },
}

/// One approving decision behind a request's access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Approver {
    pub step: i64,
    /// As recorded: `clickup:<user id>`, `iam:<iam id>`, `iam:<dn>`, `iam:workflow`.
    pub decided_by: String,
    /// The approver's email or IAM id when the record knows them.
    pub who: Option<String>,
    pub via: String,
}

/// How an interval ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ended {
    pub cause: EndCause,
    /// The access went on at another level (the next interval on the same object).
    pub level_changed: bool,
    /// The record's `ended_by` and `end_reason`, as written.
    pub ended_by: String,
    pub reason: String,
}

impl GrantedBy {
    /// `rule <name>` or `request <task> approved by <who>, <who>`.
    pub fn describe(&self) -> String {
        match self {
            GrantedBy::Rule { name } => format!("rule {name}"),
            GrantedBy::Request { task_id, approvers } if approvers.is_empty() => {
                format!("request {task_id}")
            }
            GrantedBy::Request { task_id, approvers } => {
                let names: Vec<&str> = approvers
                    .iter()
                    .map(|a| a.who.as_deref().unwrap_or(&a.decided_by))
                    .collect();
                format!("request {task_id} approved by {}", names.join(", "))
            }
        }
    }
}

impl Ended {
    /// `mover`, `mover (level changed)`, `leaver`, ...
    pub fn describe(&self) -> String {
        match self.level_changed {
            true => format!("{} (level changed)", self.cause.as_str()),
            false => self.cause.as_str().to_owned(),
        }
    }
}

impl Interval {
    /// Whether the access was held at `at`: `from <= at < to`.
    pub fn held_at(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.to.is_none_or(|to| at < to)
    }

    /// Whether the interval overlaps `[from, to)`.
    pub fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.from < to && self.to.is_none_or(|end| end > from)
    }
}

/// The approver `decided_by` names, resolved to an email or IAM id by the caller.
pub type Names = HashMap<String, String>;

/// Turns grant rows into intervals, in the order they began (ties by row id), with the
/// approvers of the requests behind them (`approvals` of any requests; `names` resolves
/// `decided_by` values to people).
pub fn intervals(grants: &[GrantRecord], approvals: &[Approval], names: &Names) -> Vec<Interval> {
    let mut intervals: Vec<Interval> = grants
        .iter()
        .map(|grant| interval(grant, approvals, names))
        .collect();
    intervals.sort_by_key(|a| (a.from, a.grant_id));
    intervals
}

/// The task ids of the access requests behind these rows.
pub fn request_tasks(grants: &[GrantRecord]) -> Vec<String> {
    let mut tasks: Vec<String> = grants
        .iter()
        .filter_map(|g| g.rule.strip_prefix("request:"))
        .map(str::to_owned)
        .collect();
    tasks.sort();
    tasks.dedup();
    tasks
}

fn interval(grant: &GrantRecord, approvals: &[Approval], names: &Names) -> Interval {
    let granted_by = match grant.rule.strip_prefix("request:") {
        Some(task_id) => GrantedBy::Request {
            task_id: task_id.to_owned(),
            approvers: approvals
                .iter()
                .filter(|a| a.task_id == task_id)
                .map(|a| Approver {
                    step: a.step,
                    decided_by: a.decided_by.clone(),
                    who: names.get(&a.decided_by).cloned(),
                    via: a.via.clone(),
                })
                .collect(),
        },
        None => GrantedBy::Rule {
            name: grant.rule.clone(),
        },
    };
    let ended = grant.ended_at.map(|_| {
        let ended_by = grant.ended_by.clone().unwrap_or_default();
        let reason = grant.end_reason.clone().unwrap_or_default();
        let (cause, level_changed) = classify(&ended_by, &reason, &grant.rule);
        Ended {
            cause,
            level_changed,
            ended_by,
            reason,
        }
    });
    Interval {
        grant_id: grant.id,
        iam_id: grant.iam_id.clone(),
        kind: grant.kind,
        object: grant.object.clone(),
        level: grant.level.clone(),
        from: millis(grant.since),
        to: grant.ended_at.map(millis),
        until: grant.until.map(millis),
        granted_by,
        ended,
    }
}

/// Epoch milliseconds as a time (the record's times are always in range).
pub fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// How someone reached an object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Via {
    /// A grant on the object itself.
    Direct,
    /// A share of a folder or space above it.
    Inherited { from: String },
    /// A workspace admin or owner: they see every object.
    WorkspaceAdmin,
}

/// An interval that gave access to the object asked about, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Access {
    #[serde(flatten)]
    pub interval: Interval,
    pub via: Via,
}

/// The intervals that gave access to `object`: grants on it, shares of its `ancestors`
/// (nearest first), and, for a space, folder or list, admin or owner workspace roles;
/// ordered by person, then start. Intervals on anything else are left out.
pub fn access_to(intervals: &[Interval], object: &str, ancestors: &[String]) -> Vec<Access> {
    let shared = ["space:", "folder:", "list:"]
        .iter()
        .any(|kind| object.starts_with(kind));
    let mut found: Vec<Access> = intervals
        .iter()
        .filter_map(|interval| {
            let via = if interval.object == object {
                Via::Direct
            } else if interval.kind == GrantKind::Share && ancestors.contains(&interval.object) {
                Via::Inherited {
                    from: interval.object.clone(),
                }
            } else if shared
                && interval.kind == GrantKind::Role
                && matches!(interval.level.as_str(), "admin" | "owner")
            {
                Via::WorkspaceAdmin
            } else {
                return None;
            };
            Some(Access {
                interval: interval.clone(),
                via,
            })
        })
        .collect();
    found.sort_by(|a, b| {
        (&a.interval.iam_id, a.interval.from, a.interval.grant_id).cmp(&(
            &b.interval.iam_id,
            b.interval.from,
            b.interval.grant_id,
        ))
    });
    found
}

/// Who had access to `object` at `at`: [`access_to`] narrowed to intervals held then.
pub fn access_at(
    intervals: &[Interval],
    object: &str,
    ancestors: &[String],
    at: DateTime<Utc>,
) -> Vec<Access> {
    access_to(intervals, object, ancestors)
        .into_iter()
        .filter(|access| access.interval.held_at(at))
        .collect()
}

#[cfg(test)]
mod tests;
