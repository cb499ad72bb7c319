//! Reconciliation: what ClickUp's webhooks lost, found and mended by the router itself.
//!
//! ClickUp suspends a webhook without telling anyone and drops a delivery for good after five
//! failed tries. Each part here compares ClickUp with what the router knows and acts on the
//! difference: `webhooks` brings back failing or suspended webhooks, `tasks` publishes the
//! task changes no webhook delivered (each task version newer than the one the task lane saw,
//! `versions`, as one synthesized event deduplicated by the receipts, handled by the task
//! lane), `drift` compares every identity's desired access with what ClickUp shows and, with
//! `--apply`, repairs it under the brake. Each part answers with its own report; a pass is
//! the parts run in order, each one's failure kept apart from the others'.
//!
//! `clickup-iam-router reconcile [--apply] [--only PART]` runs one pass from the command line
//! ([`execute`]); the worker runs the scheduled parts every `RECONCILE_INTERVAL`.
//!
//! Invariant: reconciliation acts through the same paths as the webhooks (the bus and the
//! task lane), so what it decides is recorded and audited as any event is.

pub mod cursor;
pub mod drift;
pub mod tasks;
pub mod versions;
pub mod webhooks;

use std::{fmt, path::Path, sync::Arc, time::Duration};

use anyhow::Context as _;

use crate::{
    bus::{Bus, PublishError, Publisher},
    cli::WorkerArgs,
    clickup::{ClickUpClient, ClickUpError},
    rules::RuleSet,
    store::{Store, StoreError},
};

/// What one pass works with.
#[derive(Clone)]
pub struct Context {
    pub clickup: ClickUpClient,
    pub store: Store,
    pub publisher: Arc<dyn Publisher>,
    pub team_id: u64,
    /// The webhooks the router has a secret for (`CLICKUP_WEBHOOK_SECRETS`).
    pub webhook_ids: Vec<String>,
    pub rules: Arc<RuleSet>,
    /// Whether parts that may change access do so (`--apply`), or only report.
    pub apply: bool,
}

/// The parts of a reconciliation, in the order a pass runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Task changes no webhook delivered (the task versions the task lane has not seen).
    Tasks,
    /// Failing or suspended webhooks brought back; missing ones reported.
    Webhooks,
    /// Desired access against ClickUp's: reported, or repaired with `--apply`.
    Drift,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Tasks => "tasks",
            Part::Webhooks => "webhooks",
            Part::Drift => "drift",
        }
    }
}

/// The worker's scheduled pass: what webhooks lost. Drift reads every identity's access from
/// ClickUp (calls per person), so it runs when an operator asks for it.
pub const SCHEDULED: &[Part] = &[Part::Tasks, Part::Webhooks];

/// The command's pass when no part is chosen.
pub const ALL: &[Part] = &[Part::Tasks, Part::Webhooks, Part::Drift];

/// `RECONCILE_INTERVAL`: how often the worker runs a pass; `0` or `off` turns it off.
/// Written as seconds (`300`), or with a unit: `90s`, `5m`, `1h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval(pub Option<Duration>);

impl Interval {
    pub const OFF: Interval = Interval(None);
}

impl std::str::FromStr for Interval {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Interval::OFF);
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let wrong =
            || format!("{text:?} is not an interval: write 0, off, or a number with s, m or h");
        let number: u64 = digits.parse().map_err(|_| wrong())?;
        let seconds = match unit {
            "" | "s" => number,
            "m" => number.saturating_mul(60),
            "h" => number.saturating_mul(3600),
            _ => return Err(wrong()),
        };
        Ok(Interval(
            (seconds > 0).then(|| Duration::from_secs(seconds)),
        ))
    }
}

/// Why a part could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("ClickUp: {0}")]
    ClickUp(#[from] ClickUpError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("bus: {0}")]
    Publish(#[from] PublishError),
    #[error("drift: {0}")]
    Drift(#[from] drift::DriftError),
    #[error("{0}")]
    Incomplete(String),
}

/// What a part did, as counts with closed names.
pub trait Report: Send {
    fn counts(&self) -> Vec<(&'static str, u64)>;

    /// Things the part found but could not mend: the pass counts as failed.
    fn failures(&self) -> u64 {
        0
    }

    /// A longer account for the operator's terminal, after the counts.
    fn detail(&self) -> Option<String> {
        None
    }
}

/// What one part came to: its report, or why it failed.
pub type PartResult = Result<Box<dyn Report>, ReconcileError>;

/// One pass: each part's counts, or why it failed.
pub struct Summary {
    pub parts: Vec<(Part, PartResult)>,
}

impl Summary {
    /// Whether any part failed or left something it could not mend.
    pub fn failed(&self) -> bool {
        self.parts.iter().any(|(_, result)| match result {
            Ok(report) => report.failures() > 0,
            Err(_) => true,
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (part, result) in &self.parts {
            match result {
                Ok(report) => {
                    let counts: Vec<String> = report
                        .counts()
                        .iter()
                        .map(|(name, count)| format!("{name}={count}"))
                        .collect();
                    writeln!(f, "{}: {}", part.as_str(), counts.join(" "))?;
                    if let Some(detail) = report.detail() {
                        write!(f, "{detail}")?;
                    }
                }
                Err(error) => writeln!(f, "{}: failed: {error}", part.as_str())?,
            }
        }
        Ok(())
    }
}

/// Runs the parts in the order given, one after the other; a failed part does not stop the
/// next. Adding a part is one arm here.
pub async fn run(context: &Context, parts: &[Part]) -> Summary {
    let mut summary = Summary { parts: Vec::new() };
    for part in parts {
        let result = match part {
            Part::Tasks => tasks::run(context).await.map(boxed),
            Part::Webhooks => webhooks::run(context).await.map(boxed),
            Part::Drift => run_drift(context).await.map(boxed),
        };
        if let Err(error) = &result {
            tracing::warn!(part = part.as_str(), error = %error, "reconciliation part failed");
        }
        summary.parts.push((*part, result));
    }
    summary
}

async fn run_drift(context: &Context) -> Result<drift::DriftReport, ReconcileError> {
    let drift_context = drift::DriftContext {
        store: context.store.clone(),
        clickup: context.clickup.clone(),
        team_id: context.team_id,
        rules: context.rules.clone(),
        brake: crate::worker::brake::Brake {
            settings: context.rules.settings().brake.clone(),
        },
    };
    Ok(drift::run(&drift_context, context.apply).await?)
}

impl Report for drift::DriftReport {
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let n = |count: usize| count as u64;
        let mut counts = vec![("people", n(self.people))];
        counts.extend(
            drift::DriftKind::ALL
                .iter()
                .map(|kind| (kind.as_str(), n(self.count(*kind)))),
        );
        counts.extend([
            ("unchecked", n(self.unchecked.len())),
            ("applied", n(self.applied)),
            ("held_people", n(self.held.len())),
            ("failed_people", n(self.failed.len())),
            ("remaining", n(self.remaining.len())),
        ]);
        counts
    }

    /// A repair that failed for someone, or left a difference (held by the brake, or not
    /// taken by ClickUp), is undone work; a read-only report of drift is not a failure.
    fn failures(&self) -> u64 {
        let left = if self.apply { self.remaining.len() } else { 0 };
        (self.failed.len() + left) as u64
    }

    /// The report's tables with ids only (no emails: the pass may run in the worker's log).
    fn detail(&self) -> Option<String> {
        let mut out = Vec::new();
        drift::write_text(self, &Default::default(), &mut out).ok()?;
        String::from_utf8(out).ok()
    }
}

fn boxed<R: Report + 'static>(report: R) -> Box<dyn Report> {
    Box::new(report)
}

/// The command's arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub worker: WorkerArgs,

    /// Change ClickUp where desired access and ClickUp differ (drift); without it drift is
    /// only reported. Webhooks and missed task changes are always mended.
    #[arg(long)]
    pub apply: bool,

    /// Run one part only: webhooks, tasks or drift.
    #[arg(long, value_enum)]
    pub only: Option<Part>,
}

/// Runs the pass, prints its report, and fails when a part did.
pub async fn execute(args: ReconcileArgs) -> anyhow::Result<()> {
    let settings = args.worker;
    anyhow::ensure!(
        settings.clickup.clickup_team_id != 0,
        "CLICKUP_TEAM_ID is required for reconcile"
    );
    anyhow::ensure!(
        !settings.clickup.clickup_token.is_empty(),
        "CLICKUP_TOKEN is required for reconcile"
    );
    let rules = RuleSet::load_dir(Path::new(&settings.rules.rules_dir))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = Store::open(&settings.store)
        .await
        .context("opening the store")?;

    let publisher = Arc::new(Bus::from_settings(&settings.bus, &store)?);
    let context = Context {
        clickup: ClickUpClient::new(&settings.clickup)?,
        store,
        publisher,
        team_id: settings.clickup.clickup_team_id,
        webhook_ids: settings.clickup.clickup_webhook_secrets.ids(),
        rules: Arc::new(rules),
        apply: args.apply,
    };
    let only = args.only.map(|part| vec![part]);
    let summary = run(&context, only.as_deref().unwrap_or(ALL)).await;

    print!("{summary}");
    anyhow::ensure!(!summary.failed(), "reconciliation left something undone");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counted(u64, u64);

    impl Report for Counted {
        fn counts(&self) -> Vec<(&'static str, u64)> {
            vec![("done", self.0), ("failed", self.1)]
        }

        fn failures(&self) -> u64 {
            self.1
        }
    }

    #[test]
    fn a_pass_fails_when_a_part_failed_or_left_something_unmended() {
        let ok = || -> PartResult { Ok(Box::new(Counted(2, 0))) };
        let unmended = || -> PartResult { Ok(Box::new(Counted(1, 1))) };
        let cases: Vec<(Summary, bool, &str)> = vec![
            (
                Summary {
                    parts: vec![(Part::Tasks, ok()), (Part::Webhooks, ok())],
                },
                false,
                "tasks: done=2 failed=0\nwebhooks: done=2 failed=0\n",
            ),
            (
                Summary {
                    parts: vec![(Part::Webhooks, unmended())],
                },
                true,
                "webhooks: done=1 failed=1\n",
            ),
            (
                Summary {
                    parts: vec![(
                        Part::Drift,
                        Err(drift::DriftError::Setup("no token".into()).into()),
                    )],
                },
                true,
                "drift: failed: drift: no token\n",
            ),
            (Summary { parts: vec![] }, false, ""),
        ];
        for (summary, failed, text) in cases {
            assert_eq!(summary.failed(), failed, "{text}");
            assert_eq!(summary.to_string(), text);
        }
    }

    #[test]
    fn intervals_are_seconds_or_have_a_unit_and_zero_or_off_turn_the_pass_off() {
        let minutes = |m: u64| Interval(Some(Duration::from_secs(m * 60)));
        let cases = [
            ("5m", Ok(minutes(5))),
            ("300", Ok(minutes(5))),
            ("300s", Ok(minutes(5))),
            ("1h", Ok(minutes(60))),
            ("0", Ok(Interval::OFF)),
            ("0m", Ok(Interval::OFF)),
            ("off", Ok(Interval::OFF)),
            ("OFF", Ok(Interval::OFF)),
            ("5 minutes", Err(())),
            ("m", Err(())),
            ("-1", Err(())),
            ("", Err(())),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Interval>().map_err(|_| ()), expected, "{text}");
        }
    }
}
