//! What `rules explain` plans against: the router's record of each person (attributes and
//! open grants), read once from the store opened read-only, or nothing; then changed in
//! memory only, by the plans of the file's earlier events, as the worker's writes would.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{
    rules::{Action, GrantedBy, ObjectRef},
    store::{AccessRequest, Grant, GrantKind, Store, StoreError},
};

/// Where a person's state before an event comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// The router's record in the store.
    Record,
    /// The router's record as this file's earlier events would change it.
    RecordAndEarlierEvents,
    /// Only this file's earlier events (nothing on record, or no store given).
    EarlierEvents,
    /// Nothing: no record of them, and no earlier event in the file.
    Nothing,
}

/// One person as the next event finds them.
#[derive(Clone, Debug)]
pub struct Person {
    pub attributes: Option<Value>,
    pub clickup_user_id: Option<i64>,
    /// When the IAM last re-enabled them (epoch ms).
    pub enabled_at: Option<i64>,
    pub grants: Vec<Grant>,
    pub known: Known,
    /// The email on record (the deprovisioner's last key to the account).
    pub email: Option<String>,
    /// Whether an earlier event of the file was a full snapshot of the person.
    pub full_snapshot: bool,
}

/// The store (read only) and the changes earlier events of the file would have made.
pub struct Record {
    store: Option<Store>,
    people: HashMap<String, Person>,
}

impl Record {
    pub fn new(store: Option<Store>) -> Self {
        Self {
            store,
            people: HashMap::new(),
        }
    }

    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// The person as the next event finds them.
    pub async fn person(&mut self, iam_id: &str) -> Result<Person, StoreError> {
        if let Some(person) = self.people.get(iam_id) {
            return Ok(person.clone());
        }

        let nobody = Person {
            attributes: None,
            clickup_user_id: None,
            enabled_at: None,
            grants: Vec::new(),
            known: Known::Nothing,
            email: None,
            full_snapshot: false,
        };
        let Some(store) = &self.store else {
            return Ok(nobody);
        };
        let grants = store.open_grants(iam_id).await?;
        let person = match store.identity(iam_id).await? {
            Some(record) => Person {
                attributes: Some(record.attributes),
                clickup_user_id: record.clickup_user_id,
                enabled_at: record.enabled_at,
                grants,
                known: Known::Record,
                email: record.email,
                full_snapshot: false,
            },
            None => Person { grants, ..nobody },
        };
        self.people.insert(iam_id.to_owned(), person.clone());
        Ok(person)
    }

    /// The person on record with this email, as the deprovisioner's account lookup finds
    /// them through ClickUp (`None` without a store, or when nobody has it).
    pub async fn by_email(&self, email: &str) -> Result<Option<(String, i64)>, StoreError> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let Some(found) = store.identity_by_email(email).await? else {
            return Ok(None);
        };
        // An account this file's earlier events removed is not found again.
        let user_id = match self.people.get(&found.iam_id) {
            Some(person) => person.clickup_user_id,
            None => found.clickup_user_id,
        };
        Ok(user_id.map(|id| (found.iam_id, id)))
    }

    /// Every person on record linked to one ClickUp account.
    pub async fn linked_to(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        match &self.store {
            Some(store) => store.identities_linked_to(user_id).await,
            None => Ok(Vec::new()),
        }
    }

    /// Approved access requests of the person, as the provision worker adds them.
    pub async fn granted_requests(&self, iam_id: &str) -> Result<Vec<AccessRequest>, StoreError> {
        match &self.store {
            Some(store) => store.granted_requests(iam_id).await,
            None => Ok(Vec::new()),
        }
    }

    /// After a provision plan: the merged attributes, and the grants as the applier leaves them.
    pub fn planned(
        &mut self,
        iam_id: &str,
        mut person: Person,
        attributes: Value,
        plan: &[Action],
    ) {
        for action in plan {
            apply(&mut person.grants, iam_id, action);
        }
        person.attributes = Some(attributes);
        self.keep(iam_id, person);
    }

    /// After a removal of the account: the person's and every linked person's grants closed.
    pub fn removed(
        &mut self,
        iam_id: &str,
        mut person: Person,
        attributes: Value,
        linked: Vec<(String, Person)>,
    ) {
        person.attributes = Some(attributes);
        let everyone = std::iter::once((iam_id.to_owned(), person)).chain(linked);
        for (id, mut person) in everyone {
            person.grants.clear();
            person.clickup_user_id = None;
            self.keep(&id, person);
        }
    }

    fn keep(&mut self, iam_id: &str, mut person: Person) {
        person.known = match person.known {
            Known::Record | Known::RecordAndEarlierEvents => Known::RecordAndEarlierEvents,
            Known::EarlierEvents | Known::Nothing => Known::EarlierEvents,
        };
        self.people.insert(iam_id.to_owned(), person);
    }
}

/// The rule behind each open grant.
pub fn granted_by(grants: &[Grant]) -> GrantedBy {
    let mut granted = GrantedBy::default();
    for grant in grants {
        let rule = grant.rule.clone();
        match grant.kind {
            GrantKind::Role => granted.role = Some(rule),
            GrantKind::Group => {
                granted.groups.insert(grant.object.clone(), rule);
            }
            GrantKind::Share => {
                if let Ok(object) = grant.object.parse::<ObjectRef>() {
                    granted.shares.insert(object, rule);
                }
            }
        }
    }
    granted
}

/// One grant in words: `role member`, `group "All staff"`, `share list:1 at edit`.
pub fn describe(grant: &Grant) -> String {
    let until = grant
        .until
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|until| format!(" until {}", until.format("%Y-%m-%dT%H:%M:%SZ")))
        .unwrap_or_default();
    match grant.kind {
        GrantKind::Role => format!("role {}", grant.level),
        GrantKind::Group => format!("group {:?}", grant.object),
        GrantKind::Share => format!("share {} at {}{until}", grant.object, grant.level),
    }
}

/// The grants after the applier carried out `action`.
fn apply(grants: &mut Vec<Grant>, iam_id: &str, action: &Action) {
    let grant = |kind, object: String, level: String, rule: &str| Grant {
        id: 0,
        iam_id: iam_id.to_owned(),
        kind,
        object,
        level,
        custom_role_id: None,
        rule: rule.to_owned(),
        event_id: String::new(),
        since: 0,
        until: None,
    };
    let opened = match action {
        Action::Invite {
            role,
            custom_role_id,
            rule,
        }
        | Action::ChangeRole {
            to: role,
            custom_role_id,
            rule,
            ..
        } => Grant {
            custom_role_id: custom_role_id.map(|id| id as i64),
            ..grant(GrantKind::Role, "workspace".into(), role.to_string(), rule)
        },
        Action::AddToGroup { group, rule } => {
            grant(GrantKind::Group, group.clone(), "member".into(), rule)
        }
        Action::Share {
            object,
            level,
            until,
            rule,
        }
        | Action::ChangeShare {
            object,
            to: level,
            until,
            rule,
            ..
        } => Grant {
            until: until.map(|until| until.timestamp_millis()),
            ..grant(
                GrantKind::Share,
                object.to_string(),
                level.to_string(),
                rule,
            )
        },
        Action::Unshare { object } => {
            let object = object.to_string();
            grants.retain(|g| !(g.kind == GrantKind::Share && g.object == object));
            return;
        }
        Action::RemoveFromGroup { group } => {
            grants.retain(|g| !(g.kind == GrantKind::Group && &g.object == group));
            return;
        }
        Action::RemoveFromWorkspace => {
            grants.retain(|g| g.kind != GrantKind::Role);
            return;
        }
    };
    let replaced = |g: &Grant| {
        g.kind == opened.kind && (g.kind == GrantKind::Role || g.object == opened.object)
    };
    grants.retain(|g| !replaced(g));
    grants.push(opened);
}

#[cfg(test)]
mod tests;
