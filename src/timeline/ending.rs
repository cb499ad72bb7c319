//! How access ended, in a closed vocabulary read from what the workers record: `ended_by` is
//! `<cause kind>:<event id>` and `end_reason` a short phrase.
//!
//! What the workers write (cause kind, reason):
//! - `worker::deprovision`: `leaver`, the IAM status (`terminated`, `disabled`, `deleted`);
//! - `worker::apply` under a plan for a person whose access ends (`Cause::ending`): any kind,
//!   the status or `contract ended`;
//! - `worker::apply` otherwise: `event` (an IAM change: a mover), `expiry` (the scheduler),
//!   `rules-reload`, `brake-release`, `request` (a re-plan after an approval), with
//!   `level changed`, `role changed`, `expired`, `no rule grants it`, `no rule grants access`,
//!   `contract ended`, `leaver`;
//! - `reconcile::drift`: `reconcile`, with the reasons above, or `missing in ClickUp` and
//!   `changed in ClickUp` for a grant ClickUp no longer showed as recorded.

use serde::Serialize;

/// Why a stretch of access ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndCause {
    /// The IAM terminated or deleted the person.
    Leaver,
    /// The IAM disabled the person.
    Disabled,
    /// The person's end date (contract) passed.
    ContractEnd,
    /// Time-bound access given by a rule reached its end.
    Expiry,
    /// An approved access request reached its end.
    RequestEnd,
    /// An IAM change of the person (department, title, groups...): the rules no longer give it.
    Mover,
    /// The rules changed (a reload), or a re-plan found access no rule gives any more.
    RuleChange,
    /// Removals held by the brake and released by an operator.
    ManualRelease,
    /// A drift reconciliation found it different in ClickUp (changed by hand, or no rule
    /// gives it) and repaired or recorded that.
    Drift,
    /// A record this version does not know how to read; the raw values say more.
    Unknown,
}

impl EndCause {
    pub fn as_str(self) -> &'static str {
        match self {
            EndCause::Leaver => "leaver",
            EndCause::Disabled => "disabled",
            EndCause::ContractEnd => "contract_end",
            EndCause::Expiry => "expiry",
            EndCause::RequestEnd => "request_end",
            EndCause::Mover => "mover",
            EndCause::RuleChange => "rule_change",
            EndCause::ManualRelease => "manual_release",
            EndCause::Drift => "drift",
            EndCause::Unknown => "unknown",
        }
    }
}

/// Reads a closed grant's `ended_by` and `end_reason` (and the `rule` that opened it) into
/// the vocabulary, and whether the access went on at another level.
pub fn classify(ended_by: &str, reason: &str, rule: &str) -> (EndCause, bool) {
    let level_changed = matches!(reason, "level changed" | "role changed");
    let trigger = ended_by.split(':').next().unwrap_or_default();
    let by_request = rule.starts_with("request:");

    let cause = match (trigger, reason) {
        // The person's whole access ended: the reason says why, whatever the trigger.
        (_, "terminated" | "deleted" | "leaver") => EndCause::Leaver,
        (_, "disabled") => EndCause::Disabled,
        (_, "contract ended") => EndCause::ContractEnd,
        ("leaver", _) => EndCause::Leaver,
        ("expiry", "expired" | "level changed" | "role changed") if by_request => {
            EndCause::RequestEnd
        }
        ("expiry", "expired" | "level changed" | "role changed") => EndCause::Expiry,
        ("expiry" | "rules-reload" | "request", _) => EndCause::RuleChange,
        ("event", _) => EndCause::Mover,
        ("brake-release", _) => EndCause::ManualRelease,
        ("reconcile", _) => EndCause::Drift,
        _ => EndCause::Unknown,
    };
    (cause, level_changed)
}
