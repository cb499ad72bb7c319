//! Access requests: per area, who may ask, for what, who approves in which steps, and what
//! happens on timeout; reading the request form from a ClickUp task and decisions from comments.
//!
//! The policy comes from the `access_requests:` section of the rule files, checked at load
//! (`file::access`). Everything here is pure: the worker reads the task, calls these functions
//! and does the IO. Invariants: evaluation never panics (a failing expression is an `Err` or a
//! reason), and no error or reason echoes a justification, which is personal data.

mod comment;
mod form;

use std::collections::HashMap;

use cel::Value;
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub use comment::{parse_decision_comment, CommentDecision};
pub use form::{FieldRef, FormError, RequestForm};

use crate::rules::{
    desired::INACTIVE_STATUSES,
    expr::{person_value, Cel, Expr},
    grant::{Level, ObjectRef},
    identity::Identity,
};

/// The checked `access_requests:` section.
#[derive(Debug)]
pub struct AccessPolicy {
    pub intake: Intake,
    pub areas: Vec<Area>,
    pub(in crate::rules) cel: Cel,
}

/// Where requests are made: the intake list, its custom fields and the statuses the worker sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intake {
    pub list_id: String,
    pub fields: IntakeFields,
    pub statuses: DecisionStatuses,
}

/// The intake list's custom fields, each by name (case-insensitive) or UUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntakeFields {
    pub area: FieldRef,
    pub level: FieldRef,
    pub duration: Option<FieldRef>,
    pub justification: Option<FieldRef>,
}

/// The task statuses of a request's life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionStatuses {
    pub pending: String,
    pub approved: String,
    pub denied: String,
    pub closed: String,
}

/// One area that can be asked for: a ClickUp object and the policy around it.
#[derive(Debug)]
pub struct Area {
    /// The name of the area drop-down's option; unique among areas, case-insensitively.
    pub name: String,
    pub object: ObjectRef,
    /// The levels that may be asked for; never empty.
    pub levels: Vec<Level>,
    /// The longest access; `None`: no limit, and the duration is optional.
    pub max_duration: Option<chrono::Duration>,
    pub decide_in: DecideIn,
    /// With `Iam` the request definition to start; with `ClickUp` where to report the outcome.
    pub iam_prd: Option<String>,
    /// Never empty.
    pub steps: Vec<ApprovalStep>,
    pub timeout: Option<Timeout>,
    /// The area's security approvers (emails, `group:<name>` or IAM ids), as `area.approvers`.
    pub approvers: Vec<String>,
    /// `None`: anyone active may ask.
    pub(in crate::rules) may_ask: Option<Expr>,
}

/// Where the decision is taken; written `clickup` or `iam`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecideIn {
    /// In the ClickUp task, by `/approve` or `/deny` comments of the step's approvers.
    ClickUp,
    /// In the IAM's own workflow, started with the area's `iam_prd`.
    Iam,
}

/// One approval step; its approvers are computed per request.
#[derive(Debug)]
pub struct ApprovalStep {
    pub name: String,
    pub(in crate::rules) approvers: Expr,
}

/// Remind the approvers after `remind_after`; after `after`, do `then`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeout {
    pub remind_after: chrono::Duration,
    pub after: chrono::Duration,
    pub then: OnTimeout,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnTimeout {
    /// Hand the pending step to these approvers (emails, `group:<name>` or IAM ids).
    Escalate { to: Vec<String> },
    /// Close the request without access.
    Expire,
}

/// An approver as an expression named them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ApproverRef {
    /// Written with an `@`.
    Email(String),
    /// Anything else: an IAM identity id.
    IamId(String),
    /// Written `group:<IAM group name>`.
    Group(String),
}

impl ApproverRef {
    /// Reads one approver as written; `None` for an empty text or an empty group name.
    pub fn parse(text: &str) -> Option<ApproverRef> {
        let text = text.trim();
        let group = text
            .get(..6)
            .filter(|prefix| prefix.eq_ignore_ascii_case("group:"))
            .map(|_| text[6..].trim());
        match group {
            Some("") => None,
            Some(name) => Some(ApproverRef::Group(name.to_owned())),
            None if text.is_empty() => None,
            None if text.contains('@') => Some(ApproverRef::Email(text.to_owned())),
            None => Some(ApproverRef::IamId(text.to_owned())),
        }
    }

    /// Two refs to the same approver: emails compare case-insensitively.
    fn same_as(&self, other: &ApproverRef) -> bool {
        match (self, other) {
            (ApproverRef::Email(a), ApproverRef::Email(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

impl AccessPolicy {
    /// The area called `name`, case-insensitively.
    pub fn area(&self, name: &str) -> Option<&Area> {
        let name = name.trim();
        self.areas
            .iter()
            .find(|area| area.name.to_lowercase() == name.to_lowercase())
    }

    /// Who may ask, the level, the duration against `max_duration`: every reason that fails,
    /// in words the requester can read.
    pub fn check_eligible(
        &self,
        area: &Area,
        form: &RequestForm,
        requester: &Identity,
        now: DateTime<Utc>,
    ) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        if form.area.to_lowercase() != area.name.to_lowercase() {
            reasons.push(format!(
                "the form asks for {}, not {}",
                form.area, area.name
            ));
        }

        if INACTIVE_STATUSES.contains(&requester.status.as_str()) {
            reasons.push("the requester is not active in the IAM".to_owned());
        }
        if let Some(may_ask) = &area.may_ask {
            let context = self
                .cel
                .area_context(person_value(requester), area.value(), now);
            match may_ask.is_true(&context) {
                Ok(true) => {}
                Ok(false) => reasons.push(format!("the requester may not ask for {}", area.name)),
                Err(error) => reasons.push(format!(
                    "{}: whether the requester may ask could not be decided: `may_ask` {error}",
                    area.name
                )),
            }
        }

        if !area.levels.contains(&form.level) {
            let offered: Vec<&str> = area.levels.iter().map(Level::as_v2).collect();
            reasons.push(format!(
                "Access level: {} is not offered for {} (offered: {})",
                form.level,
                area.name,
                offered.join(", ")
            ));
        }

        match (form.duration, area.max_duration) {
            (Some(asked), Some(max)) if asked > max => reasons.push(format!(
                "Duration: {} is longer than {} allows ({})",
                describe(asked),
                area.name,
                describe(max)
            )),
            (None, Some(max)) => reasons.push(format!(
                "Duration: {} grants access for at most {}: give a duration",
                area.name,
                describe(max)
            )),
            _ => {}
        }

        match reasons.is_empty() {
            true => Ok(()),
            false => Err(reasons),
        }
    }

    /// The approvers of step `step` (0-based): evaluated, deduplicated, in order. An error
    /// names the step; an expression that names nobody is an error too.
    pub fn approvers(
        &self,
        area: &Area,
        step: usize,
        requester: &Identity,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApproverRef>, String> {
        let Some(approval) = area.steps.get(step) else {
            let count = area.steps.len();
            return Err(format!(
                "{} has {count} step(s), not a step {}",
                area.name,
                step + 1
            ));
        };

        let context = self
            .cel
            .area_context(person_value(requester), area.value(), now);
        let named = approval
            .approvers
            .strings(&context)
            .map_err(|error| format!("step `{}`: approvers {error}", approval.name))?;

        let mut approvers: Vec<ApproverRef> = Vec::new();
        for approver in named.iter().filter_map(|text| ApproverRef::parse(text)) {
            if !approvers.iter().any(|known| known.same_as(&approver)) {
                approvers.push(approver);
            }
        }
        if approvers.is_empty() {
            return Err(format!("step `{}`: no approver", approval.name));
        }
        Ok(approvers)
    }
}

impl Area {
    /// The CEL value of `area`: `name`, `approvers` and `object` (`folder:901100000200`).
    fn value(&self) -> Value {
        let fields: HashMap<String, Value> = HashMap::from([
            ("name".to_owned(), Value::from(self.name.clone())),
            ("approvers".to_owned(), Value::from(self.approvers.clone())),
            ("object".to_owned(), Value::from(self.object.to_string())),
        ]);
        Value::from(fields)
    }
}

/// A duration for people: whole days, else hours, else minutes, else seconds.
pub(in crate::rules) fn describe(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds();
    let (amount, unit) = match seconds {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    let plural = if amount == 1 { "" } else { "s" };
    format!("{amount} {unit}{plural}")
}

#[cfg(test)]
mod tests;
