//! Removals that come through SCIM pass the mass-removal brake (#8).
//!
//! SCIM clients (Entra, Okta, the IDM's SCIM driver) are known to deprovision whole
//! populations after a scoping mistake, so a removal whose envelope `source` is a SCIM client's
//! (`urn:scim:…`) counts as one more person in the brake's window, as a rule removal does; over
//! the limit, or with the brake engaged, it is held with its bus message (cause `scim`) and
//! nothing is removed. `brake release` carries it out as the lane would, without the broker;
//! unless the person came back meanwhile: re-enabled (the lane's own check) or created again
//! (another identity, still active, was given the same ClickUp account after the hold).
//! Leavers from the IAM's own drivers never meet the brake.

use chrono::Utc;
use serde_json::{json, Value};
use tracing::{error, info};

use super::{outcome::Outcome, person_of, Deprovisioner, IdentityData};
use crate::{
    bus::{Disposition, Lane},
    clickup::Member,
    ingest::envelope::Envelope,
    store::{AuditEntry, Held, NewHold, Processed, Store, StoreError},
    worker::{
        apply::{ApplyError, Cause},
        brake::{self, Brake, Verdict},
        provision::PERSON_WAIT,
    },
};

/// The cause kind of a held SCIM removal (`held_removals.cause` is `scim: <reason>`).
pub const CAUSE: &str = "scim";

/// What a SCIM hold would have done, as `brake status` shows it.
const ACTION: &str = "remove the ClickUp account";

/// How SCIM clients' sources begin (`urn:scim:client:<client name>`).
const SOURCE_PREFIX: &str = "urn:scim:";

/// Who carries a removal out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode<'a> {
    /// The deprovision lane, for a message on the bus: SCIM removals meet the brake.
    Lane,
    /// `brake release` of a SCIM hold recorded at `held_at` (epoch ms).
    Release { by: &'a str, held_at: i64 },
}

/// One removal to carry out: the message and who carries it out.
pub(super) struct Job<'a> {
    pub envelope: &'a Envelope,
    pub mode: Mode<'a>,
}

impl Job<'_> {
    /// The cause the audit rows name, which the brake's window reads: only `scim` counts.
    fn cause(&self) -> &'static str {
        match self.mode {
            Mode::Release { .. } => "brake-release",
            Mode::Lane if is_scim(&self.envelope.source) => CAUSE,
            Mode::Lane => "leaver",
        }
    }

    /// Adds the cause (and the releaser) to an audit row's detail.
    pub(super) fn describe(&self, detail: &mut Value) {
        detail["cause"] = json!(self.cause());
        if let Mode::Release { by, .. } = self.mode {
            detail["released_by"] = json!(by);
        }
    }
}

/// Whether an event came from a SCIM client (the URN's `urn` and namespace are
/// case-insensitive).
pub fn is_scim(source: &str) -> bool {
    source
        .get(..SOURCE_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(SOURCE_PREFIX))
}

/// The brake's verdict on removing `iam_id`'s account: a SCIM removal in the lane counts as one
/// more person in the window (and is held by an engaged brake); anything else passes.
pub(super) async fn verdict(
    brake: &Brake,
    store: &Store,
    job: &Job<'_>,
    iam_id: &str,
) -> Result<Verdict, StoreError> {
    match job.mode {
        Mode::Lane if is_scim(&job.envelope.source) => brake.check(store, iam_id, Utc::now()).await,
        Mode::Lane | Mode::Release { .. } => Ok(Verdict::Pass),
    }
}

impl Deprovisioner {
    /// What stops the removal of a found account, if anything: in the lane the brake (for
    /// SCIM removals), on release a person created again since the hold.
    pub(super) async fn before_removal(
        &self,
        job: &Job<'_>,
        data: &IdentityData,
        member: &Member,
    ) -> Option<Outcome> {
        match job.mode {
            Mode::Lane => match verdict(&self.brake, &self.store, job, &data.user.id).await {
                Ok(Verdict::Pass) => None,
                Ok(Verdict::Hold { reason }) => Some(self.held(job, data, &reason)),
                Err(e) => Some(self.retry(e)),
            },
            Mode::Release { held_at, .. } => {
                match self.recreated(&data.user.id, member, held_at).await {
                    Ok(false) => None,
                    Ok(true) => Some(self.stale(
                        job,
                        data,
                        "the IAM created the person again after the held removal",
                    )),
                    Err(e) => Some(self.retry(e)),
                }
            }
        }
    }

    /// The removal held: its hold (with the message) and `brake.hold` row, nothing removed.
    fn held(&self, job: &Job, data: &IdentityData, reason: &str) -> Outcome {
        let envelope = job.envelope;
        let cause = Cause {
            iam_id: data.user.id.clone(),
            email: None,
            display_name: data.user.id.clone(),
            event_id: envelope.dedup_key(),
            correlation_id: envelope.correlationid.clone(),
            kind: CAUSE,
            ends_at: None,
            ending: None,
            actor: None,
        };
        let message = String::from_utf8_lossy(&envelope.to_bytes()).into_owned();
        let (hold, audit) = brake::hold_of(&cause, vec![ACTION.into()], reason, Some(message));
        Outcome {
            outcome: "held_by_brake",
            code: None,
            detail: format!("held by the brake: {reason}"),
            audit: Some(audit),
            disposition: Disposition::Ack,
            hold: Some(hold),
            error: None,
        }
    }

    /// Records a held message (processed, hold, `brake.hold`) in one transaction, then acks.
    pub(super) async fn record_hold(
        &self,
        key: &str,
        outcome: Outcome,
        hold: &NewHold,
    ) -> Disposition {
        let processed = Processed {
            lane: Lane::Deprovision.name().into(),
            outcome: outcome.outcome.into(),
            detail: outcome.detail,
        };
        let audit: Vec<AuditEntry> = outcome.audit.into_iter().collect();
        match self.store.record_held(key, &processed, hold, &audit).await {
            Ok(recorded) => {
                if recorded {
                    self.clickup.metrics().brake_held();
                }
                info!(recorded, "a removal through SCIM is held by the brake");
                Disposition::Ack
            }
            Err(e) => {
                error!(error = %e, "could not record the hold; the leaver goes back to the queue");
                Disposition::Retry
            }
        }
    }

    /// Carries out a held SCIM removal as the lane would have (account removed, grants closed,
    /// audit rows of cause `brake-release` naming the releaser), without the brake or the
    /// broker. Repeated after a crash it finds the account gone and closes nothing twice.
    /// Returns the outcome (`removed_member`, `already_absent`, `stale`, ...); a permanent
    /// failure is audited and returned as refused, a transient one leaves the hold for later.
    pub async fn release(&self, hold: &Held, by: &str) -> Result<&'static str, ApplyError> {
        let text = hold
            .envelope
            .as_deref()
            .ok_or_else(|| ApplyError::Refused("the hold keeps no message to carry out".into()))?;
        let envelope: Envelope = serde_json::from_str(text)
            .map_err(|e| ApplyError::Refused(format!("the held message is unreadable: {e}")))?;
        let _lock = match person_of(&envelope) {
            Some(iam_id) => Some(self.store.lock_person(&iam_id, PERSON_WAIT).await?),
            None => None,
        };
        let job = Job {
            envelope: &envelope,
            mode: Mode::Release {
                by,
                held_at: hold.held_at,
            },
        };

        let mut outcome = self.deprovision(&job).await;
        if let Some(error) = outcome.error.take() {
            return Err(error);
        }
        if outcome.removes() {
            self.close_record(&envelope, outcome.removed()).await?;
        }
        if let Some(audit) = &outcome.audit {
            self.store.append_audit(audit).await?;
        }

        match outcome.disposition {
            Disposition::Ack => Ok(outcome.outcome),
            _ => Err(ApplyError::Refused(outcome.detail)),
        }
    }

    /// Whether another identity, still active, was given this account after the hold: the
    /// person was created again (a SCIM client's new `id`), and the account is theirs now.
    async fn recreated(
        &self,
        iam_id: &str,
        member: &Member,
        held_at: i64,
    ) -> Result<bool, StoreError> {
        for other in self.store.identities_linked_to(member.id as i64).await? {
            if other == iam_id {
                continue;
            }
            let Some(record) = self.store.identity(&other).await? else {
                continue;
            };
            if matches!(
                record.status.as_str(),
                "terminated" | "disabled" | "deleted"
            ) {
                continue;
            }
            let grants = self.store.open_grants(&other).await?;
            if grants.iter().any(|grant| grant.since > held_at) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
