//! A person's desired ClickUp access: every mapping evaluated, the matches merged, each
//! decision explained.
//!
//! Merge: the highest role wins (with that mapping's custom role); without any role the
//! employment type decides (guest for externals, member otherwise). The highest level wins per
//! object, with the latest end among the grants at that level (none if one is unbounded).
//! Grants already ended are left out. Guests hold Space shares like members (the worker gives
//! them through the v3 ACL). An inactive or ended identity gets nothing. A rule that fails at run time does not match; its error is explained.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::rules::{
    expr::{person_value, render_attribute, Cel},
    file::Mapping,
    grant::{Level, ObjectRef, WorkspaceRole},
    identity::Identity,
};

/// Statuses that remove all access, whatever the rules say.
pub const INACTIVE_STATUSES: [&str; 3] = ["terminated", "disabled", "deleted"];

/// The file named in explanations of the engine's own rules.
pub const BUILT_IN: &str = "built-in";

/// What a person should have in ClickUp.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Desired {
    /// `None`: the person should have no ClickUp account.
    pub role: Option<RoleGrant>,
    /// Group name → the rule that asks for it.
    pub groups: BTreeMap<String, String>,
    pub shares: BTreeMap<ObjectRef, ShareGrant>,
    /// One per mapping, in rule order (or one built-in entry for an inactive identity).
    pub explanations: Vec<Explanation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleGrant {
    pub role: WorkspaceRole,
    pub custom_role_id: Option<u64>,
    pub rule: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShareGrant {
    pub level: Level,
    pub until: Option<DateTime<Utc>>,
    pub rule: String,
}

/// How one rule went for one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub rule: String,
    pub file: String,
    pub matched: bool,
    pub condition: String,
    /// The person attributes the condition read, rendered (`person.title`, `"Manager"`).
    pub values: Vec<(String, String)>,
    /// A run-time failure of the condition, or of part of a matched rule.
    pub error: Option<String>,
}

/// Why no desired state could be computed; rule failures are explained instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("the identity has no id")]
    MissingId,
}

/// Evaluates `mappings` for `identity` at `now`.
pub fn evaluate(
    cel: &Cel,
    mappings: &[Mapping],
    identity: &Identity,
    now: DateTime<Utc>,
) -> Result<Desired, EvalError> {
    if identity.id.trim().is_empty() {
        return Err(EvalError::MissingId);
    }
    let person = person_value(identity);
    if let Some(explanation) = inactive(identity, &person, now) {
        let explanations = vec![explanation];
        return Ok(Desired {
            explanations,
            ..Desired::default()
        });
    }

    let context = cel.context(person.clone(), now);
    let mut merge = Merge::default();
    let mut explanations = Vec::with_capacity(mappings.len());
    for mapping in mappings {
        let values = mapping.when.reads().iter();
        let mut explanation = Explanation {
            rule: mapping.name.clone(),
            file: mapping.file.clone(),
            matched: false,
            condition: mapping.when.source().to_owned(),
            values: values
                .map(|path| (path.clone(), render_attribute(&person, path)))
                .collect(),
            error: None,
        };
        match mapping.when.is_true(&context) {
            Ok(matched) => explanation.matched = matched,
            Err(error) => note(&mut explanation, format!("`when` failed: {error}")),
        }
        if explanation.matched {
            merge.add(mapping, &context, now, &mut explanation);
        }
        explanations.push(explanation);
    }

    Ok(merge.finish(identity, explanations))
}

/// The built-in explanation when the identity must have nothing: inactive status, or ended.
fn inactive(identity: &Identity, person: &cel::Value, now: DateTime<Utc>) -> Option<Explanation> {
    let rendered = |path: &str| (path.to_owned(), render_attribute(person, path));
    let built_in = |rule: &str, condition: &str, values| Explanation {
        rule: rule.to_owned(),
        file: BUILT_IN.to_owned(),
        matched: true,
        condition: condition.to_owned(),
        values,
        error: None,
    };

    let status = identity.status.as_str();
    if INACTIVE_STATUSES
        .iter()
        .any(|inactive| inactive.eq_ignore_ascii_case(status))
    {
        let condition = r#"person.status in ["terminated", "disabled", "deleted"]"#;
        return Some(built_in(
            "inactive",
            condition,
            vec![rendered("person.status")],
        ));
    }
    let ended = identity.ends_at().filter(|end| *end <= now)?;
    let condition = "the earlier of person.end_at and person.end_date (23:59:59 UTC) <= now";
    let values = vec![
        rendered("person.end_at"),
        rendered("person.end_date"),
        ("ended".to_owned(), ended.to_rfc3339()),
        ("now".to_owned(), now.to_rfc3339()),
    ];
    Some(built_in("ended", condition, values))
}

/// Adds `message` to an explanation's error.
fn note(explanation: &mut Explanation, message: String) {
    explanation.error = Some(match explanation.error.take() {
        Some(earlier) => format!("{earlier}; {message}"),
        None => message,
    });
}

/// The matched mappings' grants, merged as they come.
#[derive(Default)]
struct Merge {
    role: Option<RoleGrant>,
    /// The first rule that gave a group or a share: it asks for the default role.
    first_grant: Option<String>,
    groups: BTreeMap<String, String>,
    shares: BTreeMap<ObjectRef, Vec<ShareGrant>>,
}

impl Merge {
    fn add(
        &mut self,
        mapping: &Mapping,
        context: &cel::Context,
        now: DateTime<Utc>,
        explanation: &mut Explanation,
    ) {
        let rule = &mapping.name;
        if let Some(role) = mapping.role {
            if self.role.as_ref().is_none_or(|highest| role > highest.role) {
                let custom_role_id = mapping.custom_role_id;
                let rule = rule.clone();
                self.role = Some(RoleGrant {
                    role,
                    custom_role_id,
                    rule,
                });
            }
        }

        for group in &mapping.groups {
            self.groups
                .entry(group.clone())
                .or_insert_with(|| rule.clone());
            self.first_grant.get_or_insert_with(|| rule.clone());
        }

        for share in &mapping.shares {
            let until = share
                .until
                .as_ref()
                .map(|until| until.timestamp_or_null(context));
            let until = match until.transpose() {
                Ok(until) => until.flatten(),
                Err(error) => {
                    let object = &share.object;
                    let message = format!("`until` of {object} failed: {error}; left out");
                    note(explanation, message);
                    continue;
                }
            };
            if until.is_some_and(|until| until <= now) {
                continue;
            }
            let grant = ShareGrant {
                level: share.level,
                until,
                rule: rule.clone(),
            };
            self.shares
                .entry(share.object.clone())
                .or_default()
                .push(grant);
            self.first_grant.get_or_insert_with(|| rule.clone());
        }
    }

    fn finish(self, identity: &Identity, explanations: Vec<Explanation>) -> Desired {
        let role = self.role.or_else(|| {
            let rule = self.first_grant?;
            let role = match identity.is_external() {
                true => WorkspaceRole::Guest,
                false => WorkspaceRole::Member,
            };
            Some(RoleGrant {
                role,
                custom_role_id: None,
                rule,
            })
        });

        let shares = self
            .shares
            .into_iter()
            .map(|(object, grants)| (object, strongest(grants)))
            .collect();

        Desired {
            role,
            groups: self.groups,
            shares,
            explanations,
        }
    }
}

/// The highest level; the latest end among the grants at that level, none if one is unbounded.
fn strongest(grants: Vec<ShareGrant>) -> ShareGrant {
    let level = grants
        .iter()
        .map(|grant| grant.level)
        .max()
        .unwrap_or(Level::Read);
    let at_level = || grants.iter().filter(|grant| grant.level == level);
    let unbounded = at_level().find(|grant| grant.until.is_none());
    let latest = at_level().fold(None, |latest: Option<&ShareGrant>, grant| match latest {
        Some(latest) if latest.until >= grant.until => Some(latest),
        _ => Some(grant),
    });
    let winner = unbounded.or(latest).cloned();
    winner.unwrap_or(ShareGrant {
        level,
        until: None,
        rule: String::new(),
    })
}
