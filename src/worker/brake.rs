//! The mass-removal brake: when removals reach more people than the limit within the window,
//! further removals are held until someone releases them.
//!
//! The brake trips on whichever limit comes first: more than `max_people`, or more than
//! `max_percent` of the identities the router manages (active, or still holding access; never
//! less than one person, so a tiny workspace still lets one person's access change at a time). Leavers from the IAM's
//! own drivers never pass through the brake: an identity the IAM ends loses its access at
//! once. Removals that come through SCIM do (`worker::deprovision::scim`): a SCIM client with a
//! wrong scope deprovisions whole populations.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::apply::Cause;
use crate::{
    rules::{Action, BrakeSettings},
    store::{AuditEntry, NewHold, Store, StoreError},
    worker::deprovision::ROUTER_ACTOR,
};

pub use crate::store::Held;

/// Audit actions that take access away because of rules (not leavers).
const RULE_REMOVALS: &str =
    "'clickup.unshare', 'clickup.remove_from_group', 'clickup.downgrade_share', 'grant.close'";

/// Audit actions of the deprovision lane that remove an account (counted when its cause is
/// `scim`, the kind of a removal that came through SCIM; IAM-driver leavers are `leaver`).
const ACCOUNT_REMOVALS: &str = "'clickup.remove_member', 'clickup.remove_guest'";

#[derive(Clone, Debug)]
pub struct Brake {
    pub settings: BrakeSettings,
}

/// Whether a removal may go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Hold { reason: String },
}

impl Brake {
    /// Decides for one more person, counting people already affected in the window.
    pub async fn check(
        &self,
        store: &Store,
        iam_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        if self.is_engaged(store).await? {
            return Ok(Verdict::Hold {
                reason: "the brake is engaged: earlier removals are held".into(),
            });
        }
        let since = now.timestamp_millis() - self.settings.window.as_millis() as i64;
        let people = recent_people(store, since, iam_id).await?;
        let limit = self.limit(store).await?;
        if people + 1 > limit {
            return Ok(Verdict::Hold {
                reason: format!(
                    "removals would reach {} people within {:?} (limit {limit})",
                    people + 1,
                    self.settings.window
                ),
            });
        }
        Ok(Verdict::Pass)
    }

    /// Decides for a batch (a rules reload) of `people` people at once.
    pub async fn check_batch(&self, store: &Store, people: usize) -> Result<Verdict, StoreError> {
        let limit = self.limit(store).await?;
        if people > limit {
            return Ok(Verdict::Hold {
                reason: format!(
                    "a rules reload would remove access from {people} people (limit {limit})"
                ),
            });
        }
        Ok(Verdict::Pass)
    }

    /// Decides for a drift repair that would take access from `people` people at once,
    /// counting people already affected in the window; an engaged brake holds it too.
    pub async fn check_run(
        &self,
        store: &Store,
        people: usize,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        if people == 0 {
            return Ok(Verdict::Pass);
        }
        if self.is_engaged(store).await? {
            return Ok(Verdict::Hold {
                reason: "the brake is engaged: earlier removals are held".into(),
            });
        }
        let since = now.timestamp_millis() - self.settings.window.as_millis() as i64;
        let recent = recent_people(store, since, "").await?;
        let limit = self.limit(store).await?;
        if recent + people > limit {
            return Ok(Verdict::Hold {
                reason: format!(
                    "a drift repair would remove access from {people} people, {recent} more \
                     within {:?} (limit {limit})",
                    self.settings.window
                ),
            });
        }
        Ok(Verdict::Pass)
    }

    /// The most people whose access may be cut within one window.
    pub async fn limit(&self, store: &Store) -> Result<usize, StoreError> {
        let managed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM identities WHERE status = 'active' \
                 OR iam_id IN (SELECT iam_id FROM grants WHERE ended_at IS NULL)",
        )
        .fetch_one(store.pool())
        .await?;
        Ok(limit_for(managed.max(0) as usize, &self.settings))
    }

    pub async fn is_engaged(&self, store: &Store) -> Result<bool, StoreError> {
        Ok(!self.held(store).await?.is_empty())
    }

    /// Records held removals and an audit row saying why.
    pub async fn hold(
        &self,
        store: &Store,
        cause: &Cause,
        actions: &[Action],
        reason: &str,
    ) -> Result<(), StoreError> {
        let descriptions: Vec<String> = actions.iter().map(Action::describe).collect();
        let (hold, audit) = hold_of(cause, descriptions, reason, None);
        store.hold_removals(&hold, &audit).await
    }

    /// Unreleased holds, oldest first.
    pub async fn held(&self, store: &Store) -> Result<Vec<Held>, StoreError> {
        store.open_holds().await
    }

    /// Marks one hold released (after its person was reconciled without the brake); a hold
    /// already released keeps its first release. Returns whether this call released it.
    pub async fn mark_released(
        &self,
        store: &Store,
        id: i64,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE held_removals SET released_at = $2, released_by = $3
             WHERE id = $1 AND released_at IS NULL",
        )
        .bind(id)
        .bind(Utc::now().timestamp_millis())
        .bind(by)
        .execute(store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// A hold of `cause`'s removals (`descriptions`), and its `brake.hold` audit row; `envelope`
/// is the bus message held, when its release needs it.
pub fn hold_of(
    cause: &Cause,
    descriptions: Vec<String>,
    reason: &str,
    envelope: Option<String>,
) -> (NewHold, AuditEntry) {
    let audit = AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: "brake.hold".into(),
        subject: Some(format!("user:{}", cause.iam_id)),
        object: None,
        outcome: "held".into(),
        correlation_id: cause.correlation_id.clone(),
        event_id: cause.event_id.clone(),
        detail: json!({ "reason": reason, "actions": descriptions, "cause": cause.kind }),
    };
    let hold = NewHold {
        iam_id: cause.iam_id.clone(),
        actions: descriptions,
        cause: format!("{}: {reason}", cause.kind),
        envelope,
    };
    (hold, audit)
}

/// Other people who lost access since `since` (epoch ms): by rules (a plan of an event, a
/// rules reload or a drift repair) or by a removal that came through SCIM. Leavers of the
/// IAM's drivers are not counted, nor removals a person released (a drift hold's, whose rows
/// name the releaser as actor; a rules or SCIM hold's, cause `brake-release`).
async fn recent_people(store: &Store, since: i64, except: &str) -> Result<usize, StoreError> {
    let query = format!(
        "SELECT COUNT(DISTINCT subject) FROM audit
         WHERE at >= $1 AND subject IS DISTINCT FROM $2 AND actor = $3
           AND ((action IN ({RULE_REMOVALS})
                 AND json_extract(detail, '$.cause') IN ('event', 'rules-reload', 'reconcile'))
             OR (action IN ({ACCOUNT_REMOVALS}) AND json_extract(detail, '$.cause') = 'scim'))"
    );
    let row = sqlx::query(&query)
        .bind(since)
        .bind(format!("user:{except}"))
        .bind(ROUTER_ACTOR)
        .fetch_one(store.pool())
        .await?;
    Ok(row.get::<i64, _>(0) as usize)
}

/// The most people whose access may be cut within one window when `managed` identities hold
/// access: "more than `max_people`, or more than `max_percent` of them" trips the brake, so
/// the limit is the smaller of the two, and at least one person.
pub fn limit_for(managed: usize, settings: &BrakeSettings) -> usize {
    let by_share = (managed as f64 * settings.max_percent / 100.0).floor() as usize;

    settings.max_people.min(by_share.max(1))
}

#[cfg(test)]
pub(crate) mod tests;
