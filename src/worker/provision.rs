//! Joiners, movers, re-enables and memberships: the person's desired access from the rules,
//! diffed against the grants on record, applied in ClickUp.
//!
//! The same reconciliation serves events, the expiry scheduler, a rules reload and a brake
//! release; only the cause differs. Removals that are not a leaver's pass the mass-removal
//! brake first.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    apply::{Applier, ApplyError, Cause},
    brake::{Brake, Verdict},
    deprovision::scim,
    lane::{self, Failure, Outcome},
    people,
};
use crate::{
    bus::{Disposition, Handler, Lane},
    clickup::ClickUpClient,
    ingest::envelope::Envelope,
    rules::{self, Action, CurrentAccess, Identity, Level, ObjectRef, RuleSet, WorkspaceRole},
    store::{person_locks, Grant, GrantKind, IdentityRecord, Store},
};

/// How long a handler waits for a person another worker is handling: past a dead holder's
/// lease, so the person is never stuck; then the message is retried.
pub const PERSON_WAIT: Duration = Duration::from_secs(person_locks::LEASE.as_secs() + 5);

pub struct Provisioner {
    pub clickup: ClickUpClient,
    pub store: Store,
    pub team_id: u64,
    pub rules: Arc<RuleSet>,
    pub brake: Brake,
}

/// How removals meet the brake.
#[derive(Clone, Debug)]
pub enum BrakeMode {
    /// Count this person's removals against the window (events).
    Check,
    /// Apply removals without the brake (leavers, contract ends, releases).
    Bypass,
    /// Hold every removal (a rules reload over the limit).
    HoldAll(String),
}

/// What one reconciliation did.
#[derive(Debug)]
pub struct Reconciled {
    pub applied: usize,
    pub held: usize,
}

impl Provisioner {
    /// Computes and applies one person's plan.
    pub async fn reconcile(
        &self,
        cause: &Cause,
        identity: &Identity,
        now: DateTime<Utc>,
        brake: BrakeMode,
    ) -> Result<Reconciled, ApplyError> {
        // A person whose access ends loses everything: every closed grant says why.
        let ended;
        let cause = match ending(identity, now) {
            Some(why) => {
                ended = Cause {
                    ending: Some(why),
                    ..cause.clone()
                };
                &ended
            }
            None => cause,
        };
        let applier = Applier {
            clickup: &self.clickup,
            store: &self.store,
            team_id: self.team_id,
        };
        if cause.ending.is_none() {
            // An end date set, moved or cleared after the invitation moves the role's end,
            // which the expiry scheduler and the reminders read.
            applier.follow_end(cause).await?;
        }

        let actions = self.plan_for(identity, now).await?;
        let (removals, others): (Vec<Action>, Vec<Action>) =
            actions.into_iter().partition(Action::is_removal);

        let mut applier_actions = others;
        let mut held = 0;
        if !removals.is_empty() {
            let verdict = match brake {
                BrakeMode::Check => self.brake.check(&self.store, &cause.iam_id, now).await?,
                BrakeMode::Bypass => Verdict::Pass,
                BrakeMode::HoldAll(reason) => Verdict::Hold { reason },
            };
            match verdict {
                Verdict::Pass => applier_actions.extend(removals),
                Verdict::Hold { reason } => {
                    held = removals.len();
                    self.brake
                        .hold(&self.store, cause, &removals, &reason)
                        .await?;
                    self.clickup.metrics().brake_held();
                }
            }
        }
        applier_actions.sort_by_key(apply_order);

        let applied = applier.apply(cause, &applier_actions).await?;
        Ok(Reconciled { applied, held })
    }

    /// The actions that bring the person's ClickUp access to what the rules say now.
    pub async fn plan_for(
        &self,
        identity: &Identity,
        now: DateTime<Utc>,
    ) -> Result<Vec<Action>, ApplyError> {
        let current = current_access(&self.store.open_grants(&identity.id).await?);
        if has_ended(identity, now) {
            return Ok(rules::plan_removal(&current));
        }
        let mut desired = self
            .rules
            .desired(identity, now)
            .map_err(|e| ApplyError::Refused(format!("rules could not be evaluated: {e}")))?;
        let requests = self.store.granted_requests(&identity.id).await?;
        super::approvals::add_requests(&mut desired, &requests, now);
        Ok(rules::plan(&desired, &current, now))
    }

    /// Reconciles a stored person (scheduler, reload, release).
    pub async fn reconcile_stored(
        &self,
        iam_id: &str,
        kind: &'static str,
        now: DateTime<Utc>,
        brake: BrakeMode,
    ) -> Result<Reconciled, ApplyError> {
        let _lock = self.store.lock_person(iam_id, PERSON_WAIT).await?;
        let Some(record) = self.store.identity(iam_id).await? else {
            return Err(ApplyError::Refused(format!(
                "no identity {iam_id} on record"
            )));
        };
        let identity = Identity::from_iam_user(&record.attributes)
            .map_err(|e| ApplyError::Refused(e.to_string()))?;
        let cause = Cause {
            iam_id: iam_id.to_string(),
            email: identity.email.clone(),
            display_name: display_name(&identity),
            event_id: format!("{kind}:{iam_id}:{}", now.timestamp_millis()),
            correlation_id: format!("{kind}:{iam_id}"),
            kind,
            ends_at: ends_at_ms(&identity),
            ending: None,
            actor: None,
        };
        self.reconcile(&cause, &identity, now, brake).await
    }

    async fn handle_event(
        &self,
        envelope: &Envelope,
    ) -> Result<(&'static str, String), ApplyError> {
        let data: Value = serde_json::from_str(envelope.data.get())
            .map_err(|e| ApplyError::Refused(format!("event data unreadable: {e}")))?;
        let iam_id = data["user"]["id"]
            .as_str()
            .ok_or_else(|| ApplyError::Refused("the event names no user id".into()))?;
        // One worker at a time per person, from reading the record to the last ClickUp call:
        // a leaver handled meanwhile in the deprovision lane would miss what this invites.
        let _lock = self.store.lock_person(iam_id, PERSON_WAIT).await?;

        let stored = self.store.identity(iam_id).await?;
        let merged = people::merge(
            stored.as_ref().map(|s| &s.attributes),
            &envelope.event_type,
            &data,
            envelope.time.timestamp_millis(),
        );
        let identity =
            Identity::from_iam_user(&merged).map_err(|e| ApplyError::Refused(e.to_string()))?;
        let record = IdentityRecord {
            iam_id: iam_id.to_string(),
            email: identity.email.clone(),
            status: identity.status.clone(),
            attributes: merged,
            clickup_user_id: None,
            event_time: envelope.time.timestamp_millis(),
            enabled_at: re_enables(&envelope.event_type, &data)
                .then(|| envelope.time.timestamp_millis()),
        };
        self.store.save_identity(&record).await?;

        // A person the IAM ended, even by an update (a status, an end already past), is a
        // leaver: never held by the brake nor counted in its window, unless the event came
        // through SCIM, whose removals pass the brake.
        let now = Utc::now();
        let leaver = has_ended(&identity, now) && !scim::is_scim(&envelope.source);
        let (kind, brake) = match leaver {
            true => ("leaver", BrakeMode::Bypass),
            false => ("event", BrakeMode::Check),
        };
        let cause = Cause {
            iam_id: iam_id.to_string(),
            email: identity.email.clone(),
            display_name: display_name(&identity),
            event_id: envelope.dedup_key(),
            correlation_id: envelope.correlationid.clone(),
            kind,
            ends_at: ends_at_ms(&identity),
            ending: None,
            actor: None,
        };
        let done = self.reconcile(&cause, &identity, now, brake).await?;
        let outcome = if done.held > 0 {
            "held_by_brake"
        } else {
            "applied"
        };
        Ok((
            outcome,
            format!("{} action(s) applied, {} held", done.applied, done.held),
        ))
    }
}

#[async_trait]
impl Handler for Provisioner {
    async fn handle(&self, envelope: Envelope, _redelivered: bool) -> Disposition {
        let key = envelope.dedup_key();
        let work = async {
            let (outcome, detail) = self.handle_event(&envelope).await?;
            Ok::<_, ApplyError>(Outcome::new(outcome, detail))
        };
        lane::run(
            &self.store,
            &key,
            Lane::Provision,
            "identity.event",
            &envelope,
            work,
        )
        .await
    }
}

impl Failure for ApplyError {
    fn is_transient(&self) -> bool {
        ApplyError::is_transient(self)
    }

    fn code(&self) -> &'static str {
        match self {
            ApplyError::ClickUp(e) => e.code(),
            ApplyError::Store(_) => "store_unavailable",
            ApplyError::Refused(_) => "refused",
        }
    }
}

/// The access on record, in the planner's terms.
pub fn current_access(grants: &[Grant]) -> CurrentAccess {
    let mut current = CurrentAccess::default();
    for grant in grants {
        match grant.kind {
            GrantKind::Role => {
                let role = match grant.level.as_str() {
                    "guest" => WorkspaceRole::Guest,
                    "admin" => WorkspaceRole::Admin,
                    _ => WorkspaceRole::Member,
                };
                current.role = Some((role, grant.custom_role_id.map(|id| id as u64)));
            }
            GrantKind::Group => {
                current.groups.insert(grant.object.clone());
            }
            GrantKind::Share => {
                let (Ok(object), Ok(level)) = (
                    grant.object.parse::<ObjectRef>(),
                    grant.level.parse::<Level>(),
                ) else {
                    continue;
                };
                let until = grant.until.and_then(DateTime::from_timestamp_millis);
                current.shares.insert(object, (level, until));
            }
        }
    }
    current
}

/// Whether the event gives a disabled or departed person their access back.
fn re_enables(event_type: &str, data: &Value) -> bool {
    let lifecycle = data["lifecycle"].as_str().unwrap_or_default();
    event_type.contains(".user.enabled.") || matches!(lifecycle, "enable" | "rehire")
}

/// Whether the person's access must end: no longer active, or past their end date.
pub fn has_ended(identity: &Identity, now: DateTime<Utc>) -> bool {
    ending(identity, now).is_some()
}

/// Why all of the person's access ends now, if it does: the IAM status that ends it, else
/// the end that passed (the earlier of `end_at` and the last second of `end_date`).
pub fn ending(identity: &Identity, now: DateTime<Utc>) -> Option<&'static str> {
    match identity.status.as_str() {
        "terminated" => Some("terminated"),
        "disabled" => Some("disabled"),
        "deleted" => Some("deleted"),
        _ if identity.ends_at().is_some_and(|end| end <= now) => Some("contract ended"),
        _ => None,
    }
}

/// When the person's access ends (`Identity::ends_at`), epoch ms: the end every role grant
/// records, so the scheduler revokes and reminds even when no rule gives an `until`.
pub fn ends_at_ms(identity: &Identity) -> Option<i64> {
    identity.ends_at().map(|end| end.timestamp_millis())
}

/// The name to show for a person: display name, user name, or IAM id.
pub fn display_name(identity: &Identity) -> String {
    identity
        .display_name
        .clone()
        .or_else(|| identity.username.clone())
        .unwrap_or_else(|| identity.id.clone())
}

/// Invites and role changes first, then additions, then removals, the account itself last.
fn apply_order(action: &Action) -> u8 {
    match action {
        Action::Invite { .. } | Action::ChangeRole { .. } => 0,
        Action::AddToGroup { .. } | Action::Share { .. } | Action::ChangeShare { .. } => 1,
        Action::RemoveFromGroup { .. } | Action::Unshare { .. } => 2,
        Action::RemoveFromWorkspace => 3,
    }
}
