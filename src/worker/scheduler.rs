//! The durable scheduler: applies changed rules to everyone, revokes access whose end is due
//! and reminds sponsors before it. One worker at a time runs it (`worker::lease`).
//!
//! Nothing is kept in memory: every tick reads the due grants from the store, so a restart
//! (even one that spans the due time) loses nothing. Contract ends are not braked.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{
    brake::Verdict,
    provision::{display_name, BrakeMode, Provisioner},
};
use crate::{
    clickup::answers,
    reconcile::drift::{self, DriftContext},
    rules::Identity,
    store::{AuditEntry, Store, StoreError},
    worker::deprovision::{scim, Deprovisioner, ROUTER_ACTOR},
};

/// How long a person whose expiry ClickUp partly refused waits before the next attempt.
const FAILED_EXPIRY_BACKOFF: Duration = Duration::from_secs(600);

/// Name of the stored fingerprint of the rules last applied to everyone.
const RULES_FINGERPRINT: &str = "rules_fingerprint";

/// Every `tick` until the token is cancelled: applies changed rules to everyone (once per
/// change: the fingerprint of the rules applied is stored), then runs expiries, reminders and
/// brake releases asked for through the API.
pub async fn run_until_stopped(
    provisioner: Arc<Provisioner>,
    fingerprint: &str,
    tick: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let now = Utc::now();
        answers::collect(async {
            match reload_rules(&provisioner, fingerprint, now).await {
                Ok((0, _)) => {}
                Ok((affected, held)) => {
                    info!(affected, held, "rules changed since they were last applied")
                }
                Err(e) => warn!(error = %e, "rules reload failed; the next tick tries again"),
            }
            if let Err(e) = expire_due(&provisioner, now).await {
                warn!(error = %e, "expiry pass failed; the next tick tries again");
            }
            if let Err(e) = send_reminders(&provisioner, now).await {
                warn!(error = %e, "reminder pass failed; the next tick tries again");
            }
            if let Err(e) = release_requested(&provisioner, now).await {
                warn!(error = %e, "requested brake release failed; the next tick tries again");
            }
        })
        .await;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

/// Runs a reconciliation pass (missed task changes, then webhook health) at start and then
/// every `every`, one pass at a time, until the token is cancelled. A failed part is logged
/// and tried again at the next pass.
pub async fn reconcile_until_stopped(
    context: crate::reconcile::Context,
    every: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let pass = crate::reconcile::run(&context, crate::reconcile::SCHEDULED);
        let summary = answers::collect(pass).await;
        match summary.failed() {
            true => warn!(summary = %summary, "reconciliation pass left something undone"),
            false => info!(summary = %summary, "reconciliation pass done"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Reconciles everyone with a grant whose end has passed.
pub async fn expire_due(
    provisioner: &Provisioner,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let due = provisioner
        .store
        .people_with_due_grants(now.timestamp_millis())
        .await?;
    let backoff_since = now.timestamp_millis() - FAILED_EXPIRY_BACKOFF.as_millis() as i64;
    for iam_id in &due {
        // A plan ClickUp refused part of is applied as far as it can be; try it again later,
        // not on every tick.
        if provisioner
            .store
            .failed_since(iam_id, backoff_since)
            .await?
        {
            continue;
        }
        match provisioner
            .reconcile_stored(iam_id, "expiry", now, BrakeMode::Bypass)
            .await
        {
            Ok(done) => info!(applied = done.applied, "expired access revoked"),
            Err(e) => warn!(error = %e, "expiry not fully applied; tried again later"),
        }
    }
    Ok(due.len())
}

/// Creates one reminder task per person and end time, `before` ahead of the end.
pub async fn send_reminders(
    provisioner: &Provisioner,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let settings = provisioner.rules.settings().reminder.clone();
    let Some(list_id) = settings.list_id else {
        return Ok(0);
    };
    let horizon = now.timestamp_millis() + settings.before.as_millis() as i64;
    let mut sent = 0;

    for grant in provisioner.store.grants_ending_before(horizon).await? {
        let Some(until) = grant.until else { continue };
        if until <= now.timestamp_millis()
            || provisioner
                .store
                .reminder_sent(&grant.iam_id, until)
                .await?
        {
            continue;
        }
        let Some(record) = provisioner.store.identity(&grant.iam_id).await? else {
            continue;
        };
        let Ok(identity) = Identity::from_iam_user(&record.attributes) else {
            continue;
        };
        let ends = DateTime::from_timestamp_millis(until).unwrap_or(now);
        let sponsor = identity
            .sponsor
            .as_ref()
            .or(identity.manager.as_ref())
            .and_then(|p| p.email.clone());

        let assignee = match &sponsor {
            Some(email) => provisioner
                .clickup
                .find_member(provisioner.team_id, email)
                .await
                .ok()
                .flatten()
                .map(|m| m.id),
            None => None,
        };
        let name = format!(
            "Access of {} ends on {}",
            display_name(&identity),
            ends.format("%Y-%m-%d")
        );
        let description = format!(
            "ClickUp access of {} ({}) ends at {} (grant: {} by rule {}). Ask the IAM to extend the end date if it should continue.",
            display_name(&identity),
            identity.id,
            ends.to_rfc3339(),
            grant.object,
            grant.rule
        );
        match provisioner
            .clickup
            .create_task(&list_id, &name, &description, assignee)
            .await
        {
            Ok(task_id) => {
                // Recorded after the task exists: a failed creation is tried again next tick.
                provisioner
                    .store
                    .record_reminder(&grant.iam_id, until)
                    .await?;
                sent += 1;
                // The reminder belongs to the IAM event that gave the time-bound access.
                let correlation_id = provisioner
                    .store
                    .correlation_of_event(&grant.event_id)
                    .await?
                    .unwrap_or_else(|| format!("expiry:{}", identity.id));
                let audit = AuditEntry {
                    actor: ROUTER_ACTOR.into(),
                    action: "reminder.sent".into(),
                    subject: Some(format!("user:{}", identity.id)),
                    object: Some(format!("task:{task_id}")),
                    outcome: "sent".into(),
                    correlation_id,
                    event_id: format!("reminder:{}:{until}", identity.id),
                    detail: json!({ "until": until, "assignee": assignee, "list_id": list_id }),
                };
                provisioner.store.append_audit(&audit).await?;
            }
            Err(e) => warn!(error = %e, "reminder task could not be created"),
        }
    }
    Ok(sent)
}

/// When the rules changed since they were last applied to everyone, reconciles every known
/// person; removals over the brake's limit are held.
pub async fn reload_rules(
    provisioner: &Provisioner,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(usize, usize), StoreError> {
    let previous = provisioner.store.setting(RULES_FINGERPRINT).await?;
    if previous.as_deref() == Some(fingerprint) {
        return Ok((0, 0));
    }
    if previous.is_none() && provisioner.store.identity_ids().await?.is_empty() {
        provisioner
            .store
            .set_setting(RULES_FINGERPRINT, fingerprint)
            .await?;
        return Ok((0, 0));
    }

    let ids = provisioner.store.identity_ids().await?;
    let mut affected = Vec::new();
    for iam_id in &ids {
        let Some(record) = provisioner.store.identity(iam_id).await? else {
            continue;
        };
        let Ok(identity) = Identity::from_iam_user(&record.attributes) else {
            continue;
        };
        if let Ok(actions) = provisioner.plan_for(&identity, now).await {
            if actions.iter().any(|a| a.is_removal()) {
                affected.push(iam_id.clone());
            }
        }
    }

    let mode = match provisioner
        .brake
        .check_batch(&provisioner.store, affected.len())
        .await?
    {
        Verdict::Pass => BrakeMode::Bypass,
        Verdict::Hold { reason } => BrakeMode::HoldAll(reason),
    };
    let mut held = 0;
    for iam_id in &ids {
        match provisioner
            .reconcile_stored(iam_id, "rules-reload", now, mode.clone())
            .await
        {
            Ok(done) => held += done.held.min(1),
            Err(e) => warn!(error = %e, "rules reload could not reconcile a person"),
        }
    }
    provisioner
        .store
        .set_setting(RULES_FINGERPRINT, fingerprint)
        .await?;
    info!(
        people = ids.len(),
        affected = affected.len(),
        held,
        "rules reload applied"
    );
    Ok((affected.len(), held))
}

/// Carries out every hold without the brake and marks the holds released: a hold from the
/// rules re-plans the person against the record, a hold from a drift repair repairs the
/// person's drift again (ClickUp read anew, the held removals applied), a hold of a removal
/// that came through SCIM deprovisions the person as the deprovision lane would.
pub async fn release_brake(
    provisioner: &Provisioner,
    by: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let held = provisioner.brake.held(&provisioner.store).await?;
    let drift = DriftContext::of(provisioner);
    let deprovisioner = Deprovisioner::new(
        provisioner.clickup.clone(),
        provisioner.store.clone(),
        provisioner.team_id,
        provisioner.brake.clone(),
    );
    let mut released = 0;
    for hold in held {
        let done = match hold.kind() {
            drift::CAUSE => drift::release(&drift, &hold, by, now).await,
            scim::CAUSE => deprovisioner.release(&hold, by).await.map(|_| 1),
            _ => provisioner
                .reconcile_stored(&hold.iam_id, "brake-release", now, BrakeMode::Bypass)
                .await
                .map(|done| done.applied),
        };
        match done {
            // Refused actions are audited and stay visible there; keeping the hold would keep
            // the brake engaged for everyone.
            Err(e) if !e.is_transient() => {
                warn!(error = %e, "a released removal was partly refused by ClickUp");
                released += provisioner
                    .brake
                    .mark_released(&provisioner.store, hold.id, by)
                    .await? as usize;
            }
            Ok(_) => {
                released += provisioner
                    .brake
                    .mark_released(&provisioner.store, hold.id, by)
                    .await? as usize;
            }
            Err(e) => warn!(error = %e, "a held removal could not be applied; it stays held"),
        }
    }
    Ok(released)
}

/// Carries out a brake release asked for through the admin API, as `brake release` does,
/// and records its outcome with the request's actor and correlation id. Returns whether a
/// request was waiting. A crash before the record repeats the release, which finds nothing
/// more to release.
pub async fn release_requested(
    provisioner: &Provisioner,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(request) = provisioner.store.pending_brake_release().await? else {
        return Ok(false);
    };

    let released = release_brake(provisioner, &request.by, now).await?;

    let audit = AuditEntry {
        actor: request.by.clone(),
        action: "brake.release".into(),
        subject: None,
        object: None,
        outcome: "released".into(),
        correlation_id: request.correlation_id.clone(),
        event_id: request.correlation_id.clone(),
        detail: json!({ "released_people": released, "requested_at": request.at }),
    };
    provisioner.store.finish_brake_release(&audit).await?;
    info!(
        released,
        "brake released as requested through the admin API"
    );
    Ok(true)
}

/// The fingerprint of the rules last applied to everyone, if any were.
pub async fn applied_fingerprint(store: &Store) -> Result<Option<String>, StoreError> {
    store.setting(RULES_FINGERPRINT).await
}

/// A fingerprint of the rule files' names and contents.
pub fn fingerprint(sources: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in sources {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}
