//! Repairs through the provision worker's applier: the record is first corrected where
//! ClickUp shows a grant gone or changed (so a re-given share opens a new grant row instead of
//! claiming access held all along), then each person's repairs are applied, removals only when
//! the brake lets the run through.
//!
//! A drift hold is released by repairing the held person's drift again, alone (`release`): a
//! hold from the rules is released by re-planning against the record, which never holds a
//! share added by hand. ClickUp is read anew, compared with the desired access now, and the
//! repair applied through the same applier (cause `reconcile`, actor the releaser). What
//! ClickUp no longer shows is not removed again: a second release, or one repeated after a
//! crash before the hold was marked released, removes nothing twice.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    compare::{apply_order, fixes, DriftItem, DriftKind},
    observe::Workspace,
    DriftContext, DriftError, DriftReport, Examined, Failed, Held, Scope,
};
use crate::{
    rules::Action,
    store::{AuditEntry, GrantChange, GrantEnd},
    worker::{
        apply::{Applier, ApplyError, Cause},
        brake::{self, Verdict},
        deprovision::ROUTER_ACTOR,
        provision::{display_name, ending, ends_at_ms},
    },
};

/// The cause kind of every repair: grant rows end `reconcile:<event>`, audit rows say it.
pub const CAUSE: &str = "reconcile";

pub(super) async fn repair(
    ctx: &DriftContext,
    examined: &[Examined],
    report: &mut DriftReport,
    now: DateTime<Utc>,
) -> Result<(), DriftError> {
    let plans: Vec<(&Examined, Vec<Action>)> = examined
        .iter()
        .map(|person| (person, fixes(&person.compared.items)))
        .filter(|(_, actions)| !actions.is_empty())
        .collect();
    // As for the worker, removals of a person the IAM ended never wait for the brake.
    let ended = |person: &Examined| ending(&person.identity, now).is_some();
    let removing = plans
        .iter()
        .filter(|(person, _)| !ended(person))
        .filter(|(_, actions)| actions.iter().any(Action::is_removal))
        .count();
    let verdict = ctx.brake.check_run(&ctx.store, removing, now).await?;

    let applier = Applier {
        clickup: &ctx.clickup,
        store: &ctx.store,
        team_id: ctx.team_id,
    };
    for (person, actions) in plans {
        let cause = cause(&report.run_id, person, now);
        correct_record(ctx, &cause, &person.compared.items).await?;

        let (removals, mut actions): (Vec<Action>, Vec<Action>) =
            actions.into_iter().partition(Action::is_removal);
        // A release of this hold repairs the person's drift again (`release`), so a share
        // added by hand, which the record does not hold, is removed then.
        match &verdict {
            Verdict::Hold { reason } if !removals.is_empty() && !ended(person) => {
                ctx.brake
                    .hold(&ctx.store, &cause, &removals, reason)
                    .await?;
                ctx.clickup.metrics().brake_held();
                report.held.push(Held {
                    iam_id: cause.iam_id.clone(),
                    actions: removals.iter().map(Action::describe).collect(),
                    reason: reason.clone(),
                });
            }
            _ => actions.extend(removals),
        }
        actions.sort_by_key(apply_order);

        match applier.apply(&cause, &actions).await {
            Ok(applied) => report.applied += applied,
            Err(error) => report.failed.push(Failed {
                iam_id: cause.iam_id.clone(),
                error: error.to_string(),
            }),
        }
    }
    Ok(())
}

fn cause(run_id: &str, person: &Examined, now: DateTime<Utc>) -> Cause {
    let iam_id = person.record.iam_id.clone();
    Cause {
        event_id: format!("{CAUSE}:{iam_id}:{}", now.timestamp_millis()),
        iam_id,
        email: person.identity.email.clone(),
        display_name: display_name(&person.identity),
        correlation_id: run_id.to_owned(),
        kind: CAUSE,
        ends_at: ends_at_ms(&person.identity),
        ending: ending(&person.identity, now),
        actor: None,
    }
}

/// Closes the open grants ClickUp no longer shows as recorded (gone, or at another level),
/// each with a `reconcile.record_corrected` audit row.
async fn correct_record(
    ctx: &DriftContext,
    cause: &Cause,
    items: &[DriftItem],
) -> Result<(), DriftError> {
    let grants = ctx.store.open_grants(&cause.iam_id).await?;
    for item in items {
        let recorded = grants
            .iter()
            .find(|grant| grant.kind == item.what && grant.object == item.object);
        let Some(grant) = recorded else {
            continue;
        };
        let reason = match item.kind {
            DriftKind::Missing => "missing in ClickUp",
            DriftKind::LevelDiffers if item.observed.as_ref() != Some(&grant.level) => {
                "changed in ClickUp"
            }
            _ => continue,
        };
        let change = GrantChange::Close {
            iam_id: cause.iam_id.clone(),
            kind: grant.kind,
            object: grant.object.clone(),
            end: GrantEnd {
                ended_by: format!("{}:{}", cause.kind, cause.event_id),
                reason: reason.into(),
            },
        };
        let audit = AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: "reconcile.record_corrected".into(),
            subject: Some(format!("user:{}", cause.iam_id)),
            object: Some(grant.object.clone()),
            outcome: "recorded".into(),
            correlation_id: cause.correlation_id.clone(),
            event_id: cause.event_id.clone(),
            detail: json!({
                "cause": cause.kind,
                "kind": grant.kind.as_str(),
                "drift": item.kind.as_str(),
                "recorded": grant.level,
                "observed": item.observed,
                "clickup_user_id": item.clickup_user_id,
            }),
        };
        ctx.store.change_grant(&change, &audit).await?;
    }
    Ok(())
}

/// The correlation id of a released drift hold's audit rows.
pub fn correlation_id(iam_id: &str) -> String {
    format!("brake-release:{iam_id}")
}

/// Repairs the drift of the person `hold` names, with the removals it held (every removal,
/// when the IAM has ended the person); returns how many actions were applied. Removals that
/// appeared since the hold are left to the next drift run, under the brake.
pub async fn release(
    ctx: &DriftContext,
    hold: &brake::Held,
    by: &str,
    now: DateTime<Utc>,
) -> Result<usize, ApplyError> {
    let Some(record) = ctx.store.identity(&hold.iam_id).await? else {
        return Err(ApplyError::Refused(format!(
            "no identity {} on record",
            hold.iam_id
        )));
    };

    let workspace = Workspace::read(&ctx.clickup, ctx.team_id).await?;
    let named = Scope {
        groups: ctx.rules.named_groups(),
        objects: ctx.rules.named_objects(),
    };
    let examined = ctx.examine(record, &workspace, &named, now).await;
    let person = match examined.map_err(from_drift)? {
        Ok(person) => person,
        Err(skipped) => return Err(ApplyError::Refused(skipped.reason)),
    };

    let mut cause = cause(&correlation_id(&hold.iam_id), &person, now);
    cause.actor = Some(by.to_owned());
    correct_record(ctx, &cause, &person.compared.items)
        .await
        .map_err(from_drift)?;

    let ended = ending(&person.identity, now).is_some();
    let released = |action: &Action| ended || hold.actions.contains(&action.describe());
    let actions: Vec<Action> = fixes(&person.compared.items)
        .into_iter()
        .filter(|action| !action.is_removal() || released(action))
        .collect();
    if actions.is_empty() {
        return Ok(0);
    }

    let applier = Applier {
        clickup: &ctx.clickup,
        store: &ctx.store,
        team_id: ctx.team_id,
    };
    applier.apply(&cause, &actions).await
}

/// A drift failure as the applier's, so a release tells transient from permanent alike.
fn from_drift(error: DriftError) -> ApplyError {
    match error {
        DriftError::ClickUp(e) => ApplyError::ClickUp(e),
        DriftError::Store(e) => ApplyError::Store(e),
        DriftError::Setup(reason) => ApplyError::Refused(reason),
    }
}
