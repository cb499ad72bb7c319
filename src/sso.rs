//! The SSO alignment report, pure: the ClickUp workspace's accounts against the identities on
//! record. Accounts with no active IAM identity bypass SSO; disabled or terminated identities
//! that keep an account or open grants keep access the IAM ended; an identity linked to an
//! account whose email differs has drifted. `operator::sso` reads both sides and prints it.

use std::collections::HashMap;

use serde::Serialize;

use crate::{
    clickup::{Member, Role},
    store::IdentityRecord,
};

/// A ClickUp account as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub user_id: u64,
    pub email: Option<String>,
    pub role: &'static str,
}

/// An account that bypasses SSO, and what the record says of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bypass {
    pub account: Account,
    /// The identities it matches (by link or email), none active; `iam id (status)`.
    pub identities: Vec<String>,
}

/// The router's own account or the workspace owner: expected outside the IAM's reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Privileged {
    pub account: Account,
    /// `router account`, `workspace owner`, or both.
    pub what: Vec<&'static str>,
}

/// An identity the IAM ended that still has access in ClickUp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inactive {
    pub iam_id: String,
    pub email: Option<String>,
    pub status: String,
    /// The account it still has (linked on record, or with its email).
    pub account: Option<Account>,
    pub open_grants: i64,
}

/// An identity linked to an account whose email differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub iam_id: String,
    pub iam_email: String,
    pub account: Account,
}

/// The whole report; the counts are the lengths of the lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SsoReport {
    pub bypass: Vec<Bypass>,
    pub privileged: Vec<Privileged>,
    pub inactive_with_access: Vec<Inactive>,
    pub email_mismatches: Vec<Mismatch>,
}

/// An email as both sides are compared: trimmed and lowercased.
pub fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Compares the workspace's accounts (`router` is the router's own account) with the
/// identities on record and how many open grants each holds.
pub fn compare(
    accounts: &[Member],
    router: Option<u64>,
    identities: &[IdentityRecord],
    open_grants: &HashMap<String, i64>,
) -> SsoReport {
    let mut report = SsoReport::default();
    let same_email = |identity: &IdentityRecord, member: &Member| {
        let (Some(a), Some(b)) = (&identity.email, &member.email) else {
            return false;
        };
        normalise(a) == normalise(b)
    };
    let matches = |member: &Member| -> Vec<&IdentityRecord> {
        identities
            .iter()
            .filter(|i| {
                i.clickup_user_id == Some(member.id as i64)
                    || (i.clickup_user_id.is_none() && same_email(i, member))
            })
            .collect()
    };

    for member in accounts {
        let mut what = Vec::new();
        if Some(member.id) == router {
            what.push("router account");
        }
        if member.role() == Role::Owner {
            what.push("workspace owner");
        }
        if !what.is_empty() {
            report.privileged.push(Privileged {
                account: account(member),
                what,
            });
            continue;
        }
        let found = matches(member);
        if !found.iter().any(|i| i.status == "active") {
            report.bypass.push(Bypass {
                account: account(member),
                identities: found
                    .iter()
                    .map(|i| format!("{} ({})", i.iam_id, i.status))
                    .collect(),
            });
        }
    }

    for identity in identities {
        let linked = identity
            .clickup_user_id
            .and_then(|id| accounts.iter().find(|m| m.id as i64 == id));
        if identity.status != "active" {
            let held = linked.or_else(|| accounts.iter().find(|m| same_email(identity, m)));
            let open = open_grants.get(&identity.iam_id).copied().unwrap_or(0);
            if held.is_some() || open > 0 {
                report.inactive_with_access.push(Inactive {
                    iam_id: identity.iam_id.clone(),
                    email: identity.email.clone(),
                    status: identity.status.clone(),
                    account: held.map(account),
                    open_grants: open,
                });
            }
        }
        if let (Some(member), Some(email)) = (linked, &identity.email) {
            if member.email.is_some() && !same_email(identity, member) {
                report.email_mismatches.push(Mismatch {
                    iam_id: identity.iam_id.clone(),
                    iam_email: email.clone(),
                    account: account(member),
                });
            }
        }
    }
    report
}

fn account(member: &Member) -> Account {
    Account {
        user_id: member.id,
        email: member.email.clone(),
        role: match member.role() {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Guest => "guest",
        },
    }
}

#[cfg(test)]
mod tests;
