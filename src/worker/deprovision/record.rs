//! What a removal leaves on record: the person's status, every open grant closed (for every
//! identity linked to the removed account), the leaver's tasks noted for reassignment; and
//! the keys an account is looked up by.

use serde_json::json;

use super::{Deprovisioner, ROUTER_ACTOR};
use crate::{
    ingest::envelope::Envelope,
    store::{AuditEntry, GrantChange, GrantEnd, IdentityRecord},
    worker::people,
};

impl Deprovisioner {
    /// After the account is gone: the person's status on record, and every open grant closed.
    pub(super) async fn close_record(
        &self,
        envelope: &Envelope,
        removed: Option<u64>,
    ) -> Result<(), crate::store::StoreError> {
        let Ok(data) = serde_json::from_str::<serde_json::Value>(envelope.data.get()) else {
            return Ok(());
        };
        let Some(iam_id) = data["user"]["id"].as_str() else {
            return Ok(());
        };

        let stored = self.store.identity(iam_id).await?;
        let merged = people::merge(
            stored.as_ref().map(|s| &s.attributes),
            &envelope.event_type,
            &data,
            envelope.time.timestamp_millis(),
        );
        let status = people::status_of(&envelope.event_type).unwrap_or("terminated");
        let record = IdentityRecord {
            iam_id: iam_id.to_string(),
            email: merged["email"].as_str().map(String::from),
            status: status.into(),
            attributes: merged,
            clickup_user_id: None,
            event_time: envelope.time.timestamp_millis(),
            enabled_at: None,
        };
        // The account is gone whatever the order of events: the record says so too.
        self.store.save_identity(&record).await?;
        self.store.set_status(iam_id, status).await?;

        // Every identity linked to the removed account lost its access with it.
        let mut people = vec![iam_id.to_string()];
        if let Some(user_id) = removed {
            people.extend(self.store.identities_linked_to(user_id as i64).await?);
            // Their open tasks are reassigned (or reported) by the assignment scheduler.
            self.store
                .note_leaver_tasks(iam_id, user_id as i64, &envelope.correlationid)
                .await?;
        }
        people.dedup();
        for person in &people {
            self.close_grants(envelope, person, status).await?;
            self.store.set_clickup_user(person, None).await?;
        }
        Ok(())
    }

    async fn close_grants(
        &self,
        envelope: &Envelope,
        iam_id: &str,
        status: &str,
    ) -> Result<(), crate::store::StoreError> {
        for grant in self.store.open_grants(iam_id).await? {
            let end = GrantEnd {
                ended_by: format!("leaver:{}", envelope.dedup_key()),
                reason: status.into(),
            };
            let change = GrantChange::Close {
                iam_id: iam_id.into(),
                kind: grant.kind,
                object: grant.object.clone(),
                end,
            };
            let audit = AuditEntry {
                actor: ROUTER_ACTOR.into(),
                action: "grant.close".into(),
                subject: Some(format!("user:{iam_id}")),
                object: Some(grant.object.clone()),
                outcome: "applied".into(),
                correlation_id: envelope.correlationid.clone(),
                event_id: envelope.dedup_key(),
                detail: json!({ "kind": grant.kind.as_str(), "cause": "leaver", "rule": grant.rule }),
            };
            self.store.change_grant(&change, &audit).await?;
        }
        Ok(())
    }
}

/// The ClickUp id and the emails an event (or the record) gives to find the account by:
/// `ids.clickup_user_id`, `email`, `profile.email`, `profile.emails[]` (primary first), a
/// `username` that is an email, then the email on record.
pub(crate) fn account_keys(
    user: &serde_json::Value,
    stored: Option<&IdentityRecord>,
) -> (Option<u64>, Vec<String>) {
    let id_of = |v: &serde_json::Value| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let user_id = id_of(&user["ids"]["clickup_user_id"])
        .or(stored.and_then(|s| s.clickup_user_id).map(|id| id as u64));

    let mut listed: Vec<&serde_json::Value> = user["profile"]["emails"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    listed.sort_by_key(|e| !e["primary"].as_bool().unwrap_or(false));
    let mut emails: Vec<String> = [&user["email"], &user["profile"]["email"]]
        .into_iter()
        .chain(listed.into_iter().map(|e| &e["value"]))
        .chain(std::iter::once(&user["username"]))
        .filter_map(|v| v.as_str())
        .filter(|e| e.contains('@'))
        .map(str::to_string)
        .chain(stored.and_then(|s| s.email.clone()))
        .collect();
    emails.dedup();
    (user_id, emails)
}
