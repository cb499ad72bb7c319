//! Timelines read from the store: a person's, an object's, the intervals overlapping a time
//! range, and who had access to an object at a time. The CLI, the admin API and the pages
//! call these; ClickUp is read only for the hierarchy above an object, when a client is given.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{access_at, access_to, intervals, request_tasks, Access, Interval, Names, ObjectKey};
use crate::{
    clickup::{ClickUpClient, ClickUpError},
    rules::ObjectKind,
    store::{GrantRecord, IdentityRecord, Store, StoreError},
};

/// A person and every stretch of access the router gave them, in the order they began.
#[derive(Clone, Debug, Serialize)]
pub struct PersonTimeline {
    pub iam_id: String,
    pub email: Option<String>,
    pub status: String,
    pub intervals: Vec<Interval>,
}

/// What is known of the hierarchy above an object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Hierarchy {
    /// Its folder and space, nearest first (none for a space).
    Known { ancestors: Vec<String> },
    /// Not read: access inherited from above is not counted, for this reason.
    Unknown { reason: Unread },
}

/// Why the hierarchy above an object is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unread {
    /// No ClickUp settings in this process.
    NoClickup,
    /// ClickUp answered 404: the list or folder was deleted, or never existed.
    NotInClickup,
    /// ClickUp failed otherwise (5xx, network, rate limit); only the pages go on without it.
    ClickupUnavailable,
}

impl Hierarchy {
    fn ancestors(&self) -> &[String] {
        match self {
            Hierarchy::Known { ancestors } => ancestors,
            Hierarchy::Unknown { .. } => &[],
        }
    }

    /// What the answer leaves out, for people: `None` when the hierarchy is known.
    pub fn note(&self) -> Option<&'static str> {
        let Hierarchy::Unknown { reason } = self else {
            return None;
        };
        Some(match reason {
            Unread::NoClickup => "No ClickUp settings in this process: access inherited from a folder or space above is not counted.",
            Unread::NotInClickup => "ClickUp does not know this object (deleted, or never there): access inherited from a folder or space above is not counted.",
            Unread::ClickupUnavailable => "ClickUp could not be read: access inherited from a folder or space above is not counted.",
        })
    }
}

/// The access to one object: every interval, or those held at `at`.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectAccess {
    pub object: String,
    pub hierarchy: Hierarchy,
    /// Why inherited access is not counted, when the hierarchy is unknown.
    pub note: Option<&'static str>,
    pub at: Option<DateTime<Utc>>,
    pub access: Vec<Access>,
    /// Emails on record of the people in `access`, by IAM id.
    pub emails: std::collections::BTreeMap<String, String>,
}

/// The timeline of the person with this IAM id or email; `None` when nobody has it.
pub async fn person_timeline(
    store: &Store,
    person: &str,
) -> Result<Option<PersonTimeline>, StoreError> {
    let Some(IdentityRecord {
        iam_id,
        email,
        status,
        ..
    }) = store.person(person).await?
    else {
        return Ok(None);
    };
    let grants = store.grant_history_of(&iam_id).await?;
    let intervals = explained(store, &grants).await?;
    Ok(Some(PersonTimeline {
        iam_id,
        email,
        status,
        intervals,
    }))
}

/// Every interval that gave access to `object` (grants on it, shares of its ancestors when
/// the hierarchy is known, admin and owner roles for spaces, folders and lists), or, with
/// `at`, those held at that time.
pub async fn object_access(
    store: &Store,
    object: &ObjectKey,
    hierarchy: Hierarchy,
    at: Option<DateTime<Utc>>,
) -> Result<ObjectAccess, StoreError> {
    let target = object.grant_object();
    let mut objects = vec![target.clone()];
    objects.extend(hierarchy.ancestors().iter().cloned());
    let mut grants = store.grant_history_on(&objects).await?;
    if matches!(object, ObjectKey::Shared(_)) {
        grants.extend(store.admin_role_history().await?);
    }

    let intervals = explained(store, &grants).await?;
    let access = match at {
        Some(at) => access_at(&intervals, &target, hierarchy.ancestors(), at),
        None => access_to(&intervals, &target, hierarchy.ancestors()),
    };
    let mut people: Vec<String> = access.iter().map(|a| a.interval.iam_id.clone()).collect();
    people.dedup();
    let emails = store.emails_of(&people).await?.into_iter().collect();
    Ok(ObjectAccess {
        object: target,
        note: hierarchy.note(),
        hierarchy,
        at,
        access,
        emails,
    })
}

/// Every interval overlapping `[from, to)`, by person then start.
pub async fn intervals_between(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Interval>, StoreError> {
    let grants = store
        .grant_history_between(from.timestamp_millis(), to.timestamp_millis())
        .await?;
    let mut found = explained(store, &grants).await?;
    found.sort_by(|a, b| (&a.iam_id, a.from, a.grant_id).cmp(&(&b.iam_id, b.from, b.grant_id)));
    Ok(found)
}

/// The hierarchy above `object`, the one path the CLI, the admin API and the pages take:
/// unknown without a ClickUp client, and unknown when ClickUp answers 404 (a deleted or
/// unknown list or folder: "who had access to the list we deleted" is still answered, from
/// the object's own grants). Other ClickUp failures are returned; the caller decides.
pub async fn hierarchy(
    clickup: Option<&ClickUpClient>,
    object: &ObjectKey,
) -> Result<Hierarchy, ClickUpError> {
    let Some(clickup) = clickup else {
        return Ok(Hierarchy::Unknown {
            reason: Unread::NoClickup,
        });
    };

    match hierarchy_of(clickup, object).await {
        Err(error) if error.status() == Some(404) => {
            tracing::info!(%object, "ClickUp does not know the object: hierarchy unknown");
            Ok(Hierarchy::Unknown {
                reason: Unread::NotInClickup,
            })
        }
        other => other,
    }
}

/// The folder and space above `object`, read from ClickUp (nothing above a space, a group
/// or the workspace).
async fn hierarchy_of(
    clickup: &ClickUpClient,
    object: &ObjectKey,
) -> Result<Hierarchy, ClickUpError> {
    let ancestors = match object {
        ObjectKey::Shared(shared) => match shared.kind {
            ObjectKind::List => clickup.list_parents(&shared.id).await?,
            ObjectKind::Folder => vec![clickup.folder_space(&shared.id).await?],
            ObjectKind::Space => Vec::new(),
        },
        ObjectKey::Workspace(_) | ObjectKey::Group(_) => Vec::new(),
    };
    Ok(Hierarchy::Known {
        ancestors: ancestors.iter().map(ToString::to_string).collect(),
    })
}

/// Intervals of these rows, with the approvers of the requests behind them named.
async fn explained(store: &Store, grants: &[GrantRecord]) -> Result<Vec<Interval>, StoreError> {
    let approvals = store.request_approvals(&request_tasks(grants)).await?;
    let mut names = Names::new();
    for approval in &approvals {
        if names.contains_key(&approval.decided_by) {
            continue;
        }
        if let Some(name) = approver_name(store, &approval.decided_by).await? {
            names.insert(approval.decided_by.clone(), name);
        }
    }
    Ok(intervals(grants, &approvals, &names))
}

/// The email (else IAM id) of the person a decision names: `clickup:<user id>` through the
/// account linked on record, `iam:<iam id>` directly.
async fn approver_name(store: &Store, decided_by: &str) -> Result<Option<String>, StoreError> {
    let record = if let Some(user) = decided_by.strip_prefix("clickup:") {
        match user.parse::<i64>() {
            Ok(user) => store.identity_by_clickup_user(user).await?,
            Err(_) => None,
        }
    } else if let Some(iam_id) = decided_by.strip_prefix("iam:") {
        store.identity(iam_id).await?
    } else {
        None
    };
    Ok(record.map(|r| r.email.unwrap_or(r.iam_id)))
}

#[cfg(test)]
mod tests;
