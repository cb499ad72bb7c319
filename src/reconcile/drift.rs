//! Access drift: every identity's desired access (rules and approved requests, as the
//! provision worker computes it) against what ClickUp shows, reported per person and object
//! and, with `apply`, repaired through the provision worker's applier.
//!
//! Read-only without `apply`: the only write is one `reconcile.drift` audit row with the
//! counts (and the `drift_items` gauge). With `apply`, repairs are recorded as the worker
//! records them (grant and audit rows, cause `reconcile`), removals pass the mass-removal
//! brake for the whole run, and ClickUp is read again to report what remains. Releasing a
//! drift hold repairs the held person's drift again (`release`).

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::{
    clickup::{ClickUpClient, ClickUpError},
    rules::{Desired, Identity, ObjectRef, RuleSet, INACTIVE_STATUSES},
    store::{AuditEntry, IdentityRecord, Store, StoreError},
    worker::{
        approvals::add_requests,
        brake::Brake,
        deprovision::ROUTER_ACTOR,
        provision::{has_ended, Provisioner},
    },
};

mod compare;
mod fix;
mod observe;
mod render;

pub use compare::{
    compare, fixes, Compared, DriftItem, DriftKind, Observed, ObservedAccount, Scope,
};
pub use fix::{correlation_id as release_correlation_id, release, CAUSE};
pub use render::{to_json, write_text};

use observe::Workspace;

/// What a drift run needs: the store, ClickUp, the rules and the brake's settings.
pub struct DriftContext {
    pub store: Store,
    pub clickup: ClickUpClient,
    pub team_id: u64,
    pub rules: Arc<RuleSet>,
    pub brake: Brake,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("ClickUp: {0}")]
    ClickUp(#[from] ClickUpError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Setup(String),
}

/// A desired object ClickUp's API cannot show (a Space share).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unchecked {
    pub iam_id: String,
    pub object: ObjectRef,
}

/// A person left out, and why (e.g. an identity record the rules cannot read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub iam_id: String,
    pub reason: String,
}

/// A person's removals the brake held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Held {
    pub iam_id: String,
    pub actions: Vec<String>,
    pub reason: String,
}

/// A person whose repair failed (the rest of the run went on).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failed {
    pub iam_id: String,
    pub error: String,
}

/// The outcome of a run. Ids only (IAM and ClickUp), never emails.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DriftReport {
    /// The correlation id of the run's audit rows.
    pub run_id: String,
    pub apply: bool,
    pub people: usize,
    pub items: Vec<DriftItem>,
    pub unchecked: Vec<Unchecked>,
    pub skipped: Vec<Skipped>,
    /// Actions applied (with `apply`).
    pub applied: usize,
    pub held: Vec<Held>,
    pub failed: Vec<Failed>,
    /// What ClickUp still shows differently after the repairs (with `apply`).
    pub remaining: Vec<DriftItem>,
}

impl DriftReport {
    /// How many items of `kind` were found.
    pub fn count(&self, kind: DriftKind) -> usize {
        self.items.iter().filter(|item| item.kind == kind).count()
    }
}

/// One person's comparison, with what a repair needs.
struct Examined {
    record: IdentityRecord,
    identity: Identity,
    compared: Compared,
}

impl DriftContext {
    /// The context the `reconcile` command builds from the router's settings: the store
    /// (read-write: the run writes its audit row), the ClickUp workspace and the rules.
    pub async fn from_settings(settings: &crate::app::Settings) -> Result<Self, DriftError> {
        let clickup = &settings.clickup;
        if clickup.clickup_token.is_empty() || clickup.clickup_team_id == 0 {
            return Err(DriftError::Setup(
                "drift reads the ClickUp workspace: set CLICKUP_TOKEN and CLICKUP_TEAM_ID (and CLICKUP_API_URL)".into(),
            ));
        }
        let store = Store::open(&settings.store).await?;
        let client =
            ClickUpClient::new(clickup).map_err(|e| DriftError::Setup(format!("ClickUp: {e}")))?;
        let loaded = crate::worker::load_rules(&settings.rules)
            .map_err(|e| DriftError::Setup(format!("rules: {e}")))?;
        let provisioner =
            crate::worker::provisioner(client, store, clickup.clickup_team_id, loaded.rules);
        Ok(DriftContext::from_provisioner(provisioner))
    }

    /// The context of a provision worker: the same store, client, rules and brake.
    pub fn from_provisioner(provisioner: Provisioner) -> Self {
        DriftContext::of(&provisioner)
    }

    /// The context of a provision worker still in use (a brake release).
    pub fn of(provisioner: &Provisioner) -> Self {
        DriftContext {
            store: provisioner.store.clone(),
            clickup: provisioner.clickup.clone(),
            team_id: provisioner.team_id,
            rules: provisioner.rules.clone(),
            brake: provisioner.brake.clone(),
        }
    }

    /// The emails of the people in `report`, for the operator's terminal only (`write_text`).
    pub async fn emails_for(
        &self,
        report: &DriftReport,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let mut emails = BTreeMap::new();
        let people = report.items.iter().chain(&report.remaining);
        for iam_id in people.map(|item| &item.iam_id) {
            if emails.contains_key(iam_id) {
                continue;
            }
            let email = self.store.identity(iam_id).await?.and_then(|r| r.email);
            emails.insert(iam_id.clone(), email.unwrap_or_default());
        }
        Ok(emails)
    }

    /// Every identity on record, compared, and those that cannot be, with the reason.
    async fn examine_all(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Examined>, Vec<Skipped>), DriftError> {
        let workspace = Workspace::read(&self.clickup, self.team_id).await?;
        let named = Scope {
            groups: self.rules.named_groups(),
            objects: self.rules.named_objects(),
        };
        let (records, _) = self.store.identities_changed_since(0).await?;

        let (mut examined, mut skipped) = (Vec::new(), Vec::new());
        for record in records {
            match self.examine(record, &workspace, &named, now).await? {
                Ok(person) => examined.push(person),
                Err(person) => skipped.push(person),
            }
        }
        Ok((examined, skipped))
    }

    /// One identity compared, or why it cannot be.
    async fn examine(
        &self,
        record: IdentityRecord,
        workspace: &Workspace,
        named: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Result<Examined, Skipped>, DriftError> {
        let skip = |reason: String| {
            let iam_id = record.iam_id.clone();
            Ok(Err(Skipped { iam_id, reason }))
        };
        let mut identity = match Identity::from_iam_user(&record.attributes) {
            Ok(identity) => identity,
            Err(error) => return skip(format!("the record cannot be read by the rules: {error}")),
        };
        // A status set as a fact (an account removed) ends access whatever the attributes say.
        if INACTIVE_STATUSES.contains(&record.status.as_str()) {
            identity.status = record.status.clone();
        }
        let desired = match self.desired(&identity, now).await {
            Ok(desired) => desired,
            Err(reason) => return skip(reason),
        };

        let scope = self.scope(named, &record.iam_id).await?;
        let account = workspace.account_of(&record);
        let observed = workspace
            .observe(&self.clickup, self.team_id, account, &scope)
            .await?;

        let iam_id = &record.iam_id;
        let compared = compare(iam_id, self.team_id, &desired, &observed, &scope, now);
        Ok(Ok(Examined {
            record,
            identity,
            compared,
        }))
    }

    /// What the provision worker would want for the person now.
    async fn desired(&self, identity: &Identity, now: DateTime<Utc>) -> Result<Desired, String> {
        if has_ended(identity, now) {
            return Ok(Desired::default());
        }
        let mut desired = self
            .rules
            .desired(identity, now)
            .map_err(|e| format!("rules could not be evaluated: {e}"))?;
        let requests = self
            .store
            .granted_requests(&identity.id)
            .await
            .map_err(|e| format!("store: {e}"))?;
        add_requests(&mut desired, &requests, now);
        Ok(desired)
    }

    /// What the rules name, and whatever the person's record holds besides.
    async fn scope(&self, named: &Scope, iam_id: &str) -> Result<Scope, StoreError> {
        let mut scope = named.clone();
        for grant in self.store.open_grants(iam_id).await? {
            match grant.kind {
                crate::store::GrantKind::Group => {
                    scope.groups.insert(grant.object);
                }
                crate::store::GrantKind::Share => {
                    scope.objects.extend(grant.object.parse::<ObjectRef>().ok());
                }
                crate::store::GrantKind::Role => {}
            }
        }
        Ok(scope)
    }
}

/// Compares every identity on record with ClickUp; with `apply`, repairs what differs and
/// reads ClickUp again. Writes one `reconcile.drift` audit row either way.
pub async fn run(ctx: &DriftContext, apply: bool) -> Result<DriftReport, DriftError> {
    let now = Utc::now();
    let mut report = DriftReport {
        run_id: format!("reconcile-drift:{}", now.timestamp_millis()),
        apply,
        ..DriftReport::default()
    };

    let (examined, skipped) = ctx.examine_all(now).await?;
    report.people = examined.len();
    report.skipped = skipped;
    for person in &examined {
        report.items.extend(person.compared.items.iter().cloned());
        let unchecked = person.compared.unchecked.iter().map(|object| Unchecked {
            iam_id: person.record.iam_id.clone(),
            object: object.clone(),
        });
        report.unchecked.extend(unchecked);
    }

    if apply {
        fix::repair(ctx, &examined, &mut report, now).await?;
        let (again, _) = ctx.examine_all(Utc::now()).await?;
        let remaining = again.into_iter().flat_map(|p| p.compared.items);
        report.remaining = remaining.collect();
    }

    for kind in DriftKind::ALL {
        ctx.clickup
            .metrics()
            .drift_items(kind.as_str(), report.count(kind));
    }
    audit_run(ctx, &report).await?;
    Ok(report)
}

/// The run's summary row: counts only.
async fn audit_run(ctx: &DriftContext, report: &DriftReport) -> Result<(), StoreError> {
    let counts: BTreeMap<&str, usize> = DriftKind::ALL
        .iter()
        .map(|kind| (kind.as_str(), report.count(*kind)))
        .collect();
    let outcome = match (report.apply, report.held.is_empty()) {
        (false, _) => "reported",
        (true, true) => "applied",
        (true, false) => "held",
    };
    let audit = AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: "reconcile.drift".into(),
        subject: None,
        object: Some(format!("workspace:{}", ctx.team_id)),
        outcome: outcome.into(),
        correlation_id: report.run_id.clone(),
        event_id: report.run_id.clone(),
        detail: json!({
            "apply": report.apply,
            "people": report.people,
            "counts": counts,
            "unchecked": report.unchecked.len(),
            "skipped": report.skipped.len(),
            "applied": report.applied,
            "held_people": report.held.len(),
            "failed_people": report.failed.len(),
            "remaining": report.remaining.len(),
        }),
    };
    ctx.store.append_audit(&audit).await
}
