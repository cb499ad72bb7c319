//! Recording applied actions: grant changes with their audit rows, and failed actions.

use serde_json::json;

use super::{Applier, ApplyError, Cause};
use crate::{
    rules::Action,
    store::{AuditEntry, GrantChange, GrantEnd, GrantKind, NewGrant},
    worker::deprovision::ROUTER_ACTOR,
};

impl Applier<'_> {
    pub(super) async fn record(
        &self,
        cause: &Cause,
        change: GrantChange,
        action: &str,
        user_id: Option<u64>,
        detail: serde_json::Value,
    ) -> Result<(), ApplyError> {
        let (object, rule) = match &change {
            GrantChange::Open(g) | GrantChange::Replace { grant: g, .. } => {
                (g.object.clone(), Some(g.rule.clone()))
            }
            GrantChange::Close { object, .. } => (object.clone(), None),
        };
        let mut detail = detail;
        detail["cause"] = json!(cause.kind);
        detail["rule"] = json!(rule);
        detail["clickup_user_id"] = json!(user_id);
        let audit = AuditEntry {
            actor: cause.actor.as_deref().unwrap_or(ROUTER_ACTOR).into(),
            action: action.into(),
            subject: Some(format!("user:{}", cause.iam_id)),
            object: Some(object),
            outcome: "applied".into(),
            correlation_id: cause.correlation_id.clone(),
            event_id: cause.event_id.clone(),
            detail,
        };
        self.store.change_grant(&change, &audit).await?;
        Ok(())
    }

    /// Moves the end of the person's open role grant to the cause's (the identity's effective
    /// end, read by the expiry scheduler and the reminders) when an end date was set, moved or
    /// cleared after the role was given. ClickUp knows no end, so nothing is called; the row is
    /// replaced (`role changed`), as a share's changed end replaces its row. Returns whether
    /// it moved.
    pub async fn follow_end(&self, cause: &Cause) -> Result<bool, ApplyError> {
        let grants = self.store.open_grants(&cause.iam_id).await?;
        let Some(role) = grants.iter().find(|grant| grant.kind == GrantKind::Role) else {
            return Ok(false);
        };
        if role.until == cause.ends_at {
            return Ok(false);
        }

        let grant = NewGrant {
            iam_id: cause.iam_id.clone(),
            kind: GrantKind::Role,
            object: role.object.clone(),
            level: role.level.clone(),
            custom_role_id: role.custom_role_id,
            rule: role.rule.clone(),
            event_id: cause.event_id.clone(),
            until: cause.ends_at,
        };
        let change = GrantChange::Replace {
            end: self.end(cause, "role changed"),
            grant,
        };
        let user_id = self
            .store
            .identity(&cause.iam_id)
            .await?
            .and_then(|identity| identity.clickup_user_id)
            .map(|id| id as u64);
        let detail = json!({ "from": role.until, "to": cause.ends_at });
        self.record(cause, change, "grant.end_moved", user_id, detail)
            .await?;
        Ok(true)
    }

    pub(super) async fn audit_failure(&self, cause: &Cause, action: &Action, error: &ApplyError) {
        if error.is_transient() {
            return;
        }
        let audit = AuditEntry {
            actor: cause.actor.as_deref().unwrap_or(ROUTER_ACTOR).into(),
            action: "plan.action_failed".into(),
            subject: Some(format!("user:{}", cause.iam_id)),
            object: None,
            outcome: "failed".into(),
            correlation_id: cause.correlation_id.clone(),
            event_id: cause.event_id.clone(),
            detail: json!({"action": action.describe(), "error": error.to_string(), "cause": cause.kind}),
        };
        if let Err(e) = self.store.append_audit(&audit).await {
            tracing::error!(error = %e, "could not audit a failed action");
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn grant(
        &self,
        cause: &Cause,
        kind: GrantKind,
        object: String,
        level: &str,
        custom_role_id: Option<u64>,
        rule: &str,
        until: Option<i64>,
    ) -> NewGrant {
        NewGrant {
            iam_id: cause.iam_id.clone(),
            kind,
            object,
            level: level.into(),
            custom_role_id: custom_role_id.map(|id| id as i64),
            rule: rule.into(),
            event_id: cause.event_id.clone(),
            until,
        }
    }

    pub(super) fn close(
        &self,
        cause: &Cause,
        kind: GrantKind,
        object: &str,
        reason: &str,
    ) -> GrantChange {
        GrantChange::Close {
            iam_id: cause.iam_id.clone(),
            kind,
            object: object.into(),
            end: self.end(cause, reason),
        }
    }

    pub(super) fn end(&self, cause: &Cause, reason: &str) -> GrantEnd {
        GrantEnd {
            ended_by: format!("{}:{}", cause.kind, cause.event_id),
            reason: reason.into(),
        }
    }

    pub(super) fn workspace(&self) -> String {
        format!("workspace:{}", self.team_id)
    }
}
