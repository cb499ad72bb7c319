//! Rules engine: rule files say who gets which ClickUp access; this computes and plans it.
//!
//! [`RuleSet`] loads and checks `rules/*.yaml` once (CEL compiled at load, errors placed at
//! file:line:column); [`RuleSet::desired`] evaluates every mapping for an [`Identity`] and
//! merges the matches into a [`Desired`] with [`Explanation`]s; [`plan`] diffs that against the
//! [`CurrentAccess`] on record; [`explain`] puts a plan in words. [`RuleSet::access_policy`]
//! gives the access-request policy: areas, who may ask, approvers per step, reading the
//! request form from a task and decisions from comments. [`RuleSet::assignment_for`] says which
//! assignment rule routes a task ([`TaskFacts`]), what its candidates must meet, and [`choose`]
//! picks one.
//!
//! Invariant: no IO here except reading rule files in [`RuleSet::load_dir`]; evaluation never
//! panics and a failing rule only fails to match.

mod approval;
mod assign;
mod desired;
mod explain;
mod expr;
mod file;
mod grant;
mod identity;
mod plan;

use std::{collections::BTreeSet, fmt, path::Path};

use chrono::{DateTime, Utc};

pub use approval::{
    parse_decision_comment, AccessPolicy, ApprovalStep, ApproverRef, Area, CommentDecision,
    DecideIn, DecisionStatuses, FieldRef, FormError, Intake, IntakeFields, OnTimeout, RequestForm,
    Timeout,
};
pub use assign::{
    choose, explain_assignment, AssignmentRule, Candidate, Fallback, FieldValue, Strategy,
    TaskFacts, ASSIGNMENT_ATTRIBUTES, TASK_EVENTS,
};
pub use desired::{
    Desired, EvalError, Explanation, RoleGrant, ShareGrant, BUILT_IN, INACTIVE_STATUSES,
};
pub use explain::{ending_rule, explain, GrantedBy};
pub use expr::{ExprError, AREA_FIELDS, PERSON_FIELDS};
pub use file::{
    parse_duration, BrakeSettings, ReminderSettings, RuleSettings, RulesError, SourcePos,
};
pub use grant::{is_numeric_id, Level, ObjectKind, ObjectRef, UnknownName, WorkspaceRole};
pub use identity::{Identity, IdentityError, PersonRef, EXTERNAL_EMPLOYMENT_TYPES};
pub use plan::{plan, plan_removal, Action, CurrentAccess};

use self::{expr::Cel, file::Mapping};

/// Checked rules, ready to evaluate; cheap to share behind an `Arc`.
pub struct RuleSet {
    cel: Cel,
    mappings: Vec<Mapping>,
    settings: RuleSettings,
    access: Option<AccessPolicy>,
    assignments: Vec<AssignmentRule>,
}

impl RuleSet {
    /// Loads every `*.yaml` / `*.yml` file of `dir`, sorted by name. A directory without rule
    /// files is an error: an empty rule set would take everyone's access away.
    pub fn load_dir(dir: &Path) -> Result<RuleSet, RulesError> {
        let sources = file::read_dir(dir)?;
        let sources: Vec<(&str, &str)> = sources
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        RuleSet::from_sources(&sources)
    }

    /// Checks `(file name, text)` sources, in the order given.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<RuleSet, RulesError> {
        let cel = Cel::new();
        let compiled = file::compile_sources(sources, &cel)?;
        Ok(RuleSet {
            cel,
            mappings: compiled.mappings,
            settings: compiled.settings,
            access: compiled.access,
            assignments: compiled.assignments,
        })
    }

    /// Mapping names in evaluation order.
    pub fn mapping_names(&self) -> Vec<&str> {
        self.mappings
            .iter()
            .map(|mapping| mapping.name.as_str())
            .collect()
    }

    /// The `description` of the mapping called `name`, if it has one.
    pub fn mapping_description(&self, name: &str) -> Option<&str> {
        let mapping = self.mappings.iter().find(|mapping| mapping.name == name)?;
        mapping.description.as_deref()
    }

    /// Brake and reminder settings, with defaults for what the files leave out.
    pub fn settings(&self) -> &RuleSettings {
        &self.settings
    }

    /// The access-request policy, when a rule file has an `access_requests:` section.
    pub fn access_policy(&self) -> Option<&AccessPolicy> {
        self.access.as_ref()
    }

    /// Every object a mapping shares or an access-request area names: the objects whose
    /// shares the router manages.
    pub fn named_objects(&self) -> BTreeSet<ObjectRef> {
        let shared = self.mappings.iter().flat_map(|mapping| &mapping.shares);
        let areas = self.access.iter().flat_map(|policy| &policy.areas);
        let shared = shared.map(|share| share.object.clone());
        shared
            .chain(areas.map(|area| area.object.clone()))
            .collect()
    }

    /// Every user group a mapping names: the groups whose members the router manages.
    pub fn named_groups(&self) -> BTreeSet<String> {
        let groups = self.mappings.iter().flat_map(|mapping| &mapping.groups);
        groups.cloned().collect()
    }

    /// What `identity` should have at `now`. Rule failures are explained, not returned.
    pub fn desired(&self, identity: &Identity, now: DateTime<Utc>) -> Result<Desired, EvalError> {
        desired::evaluate(&self.cel, &self.mappings, identity, now)
    }
}

impl RuleSet {
    /// Names of the access-request areas (no approvers: those are people's addresses).
    fn access_area_names(&self) -> Vec<&str> {
        let areas = self.access.iter().flat_map(|policy| policy.areas.iter());
        areas.map(|area| area.name.as_str()).collect()
    }

    fn assignment_names(&self) -> Vec<&str> {
        let rules = self.assignments.iter();
        rules.map(|rule| rule.name.as_str()).collect()
    }
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet")
            .field("mappings", &self.mapping_names())
            .field("settings", &self.settings)
            .field("access_areas", &self.access_area_names())
            .field("assignments", &self.assignment_names())
            .finish()
    }
}

#[cfg(test)]
mod tests;
