//! A drift hold released: the held person's drift repaired again, alone, with the removals the
//! hold named let through the brake.
//!
//! A hold from the rules is released by re-planning the person against the record; a drift
//! hold is about what ClickUp shows (a share added by hand, which the record never held), so
//! its release reads ClickUp again, compares it with the desired access now and applies the
//! repair through the provision worker's applier (cause `reconcile`, actor the releaser).
//! What ClickUp no longer shows is not removed again: a second release, or one repeated after
//! a crash before the hold was marked released, removes nothing twice.

use chrono::{DateTime, Utc};

use super::{fix, fixes, observe::Workspace, DriftContext, DriftError, Scope};
use crate::{
    rules::Action,
    worker::{
        apply::{Applier, ApplyError},
        brake::Held,
        provision::ending,
    },
};

/// The correlation id of a released drift hold's audit rows.
pub fn correlation_id(iam_id: &str) -> String {
    format!("brake-release:{iam_id}")
}

/// Repairs the drift of the person `hold` names, with the removals it held (every removal,
/// when the IAM has ended the person); returns how many actions were applied. Removals that
/// appeared since the hold are left to the next drift run, under the brake.
pub async fn release(
    ctx: &DriftContext,
    hold: &Held,
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

    let mut cause = fix::cause(&correlation_id(&hold.iam_id), &person, now);
    cause.actor = Some(by.to_owned());
    fix::correct_record(ctx, &cause, &person.compared.items)
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
