//! The demo's identity lifecycle: a joiner, the same person moving, a contractor whose
//! contract ends during the demo, and a disable, each checked in the sandbox; then the
//! timeline of the person who left, as `audit timeline` prints it.

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use super::scenario::{Row, Scenario};
use crate::{
    operator::{audit, Format, Subject},
    sandbox::{Role, SandboxShare},
    timeline::{query, EndCause, GrantedBy},
};

const JOINER: &str = include_str!("../../tests/fixtures/iam/01-joiner-employee.json");
const MOVER: &str = include_str!("../../tests/fixtures/iam/03-mover-dept-title-role.json");
const CONTRACTOR: &str =
    include_str!("../../tests/fixtures/iam/02-joiner-contractor-end-date.json");
const DISABLE: &str = include_str!("../../tests/fixtures/iam/05-disable.json");

/// Seconds from now at which the demo's contractor's contract ends.
const CONTRACT_SECONDS: i64 = 4;

/// What a person should hold in the sandbox after an event.
struct Expected<'a> {
    email: &'a str,
    role: Role,
    shares: Vec<(&'a str, &'a str, &'a str)>,
    groups: &'a [&'a str],
}

pub async fn rows(scenario: &Scenario<'_>) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();

    let joiner = Expected {
        email: "jane.doe@example.com",
        role: Role::Member,
        shares: vec![
            ("list", "901100000310", "edit"),
            ("space", "901100000100", "read"),
        ],
        groups: &["All staff", "Contributors"],
    };
    let action = "member; All staff, Contributors; edit list 310, read space 100";
    rows.push(
        provision(
            scenario,
            "IAM joiner (employee)",
            serde_json::from_str(JOINER)?,
            action,
            joiner,
        )
        .await?,
    );

    let mover = Expected {
        email: "jane.doe@example.com",
        role: Role::Member,
        shares: vec![
            ("list", "901100000310", "create"),
            ("space", "901100000100", "read"),
        ],
        groups: &["All staff", "Approvers"],
    };
    let action = "Contributors -> Approvers; list 310 edit -> create";
    rows.push(
        provision(
            scenario,
            "IAM mover (role and title)",
            serde_json::from_str(MOVER)?,
            action,
            mover,
        )
        .await?,
    );

    let mut contractor: Value = serde_json::from_str(CONTRACTOR)?;
    let ends = Utc::now() + chrono::Duration::seconds(CONTRACT_SECONDS);
    contractor["data"]["user"]["profile"]["end_at"] =
        json!(ends.to_rfc3339_opts(SecondsFormat::Secs, true));
    contractor["data"]["user"]["profile"]["end_date"] = Value::Null;
    let expected = Expected {
        email: "carlos.rivera@example.com",
        role: Role::Guest,
        shares: vec![("list", "901100000510", "edit")],
        groups: &[],
    };
    let action = format!("guest; edit list 510 until {}", ends.format("%H:%M:%S"));
    rows.push(
        provision(
            scenario,
            "IAM joiner (contractor)",
            contractor,
            &action,
            expected,
        )
        .await?,
    );
    rows.push(contract_end(scenario).await?);

    let disable: Value = serde_json::from_str(DISABLE)?;
    let status = scenario.post_iam(&serde_json::to_vec(&disable)?).await?;
    let mut row = Row::new(
        "IAM disable (Jane)",
        status,
        202,
        "remove member, close every grant",
    );
    if row.passed {
        let outcome = scenario.wait_outcome(&disable).await?.map(|p| p.outcome);
        let open = scenario
            .store
            .open_grants("9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50")
            .await?
            .len();
        row.passed = outcome.as_deref() == Some("removed_member") && open == 0;
        row.result = format!(
            "{} ({open} open grants)",
            outcome.unwrap_or_else(|| "no outcome".into())
        );
    }
    rows.push(row);
    Ok(rows)
}

/// Jane, who joined, moved and was disabled: every interval began by a rule and ended by the
/// mover or the disable. Returns the row and the timeline's text.
pub async fn leaver_timeline(scenario: &Scenario<'_>) -> anyhow::Result<(Row, String)> {
    let jane = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
    let mut row = Row::new(
        "audit timeline (Jane, who left)",
        0,
        0,
        "each interval: the rule that began it, how it ended",
    );
    row.http = "-".into();

    let found = query::person_timeline(&scenario.store, jane).await?;
    let intervals = found.map(|t| t.intervals).unwrap_or_default();
    let by_rule = intervals
        .iter()
        .all(|i| matches!(i.granted_by, GrantedBy::Rule { .. }));
    let count = |cause| {
        intervals
            .iter()
            .filter(|i| i.ended.as_ref().is_some_and(|e| e.cause == cause))
            .count()
    };
    let (mover, disabled) = (count(EndCause::Mover), count(EndCause::Disabled));
    row.check(
        by_rule && mover == 2 && mover + disabled == intervals.len(),
        &format!(
            "{} intervals: {mover} ended by the mover, {disabled} by the disable",
            intervals.len()
        ),
    );

    let mut text =
        b"Timeline of the person who left (audit timeline --person jane.doe@example.com):\n"
            .to_vec();
    let person = Subject::Person(jane.into());
    audit::timeline(
        &scenario.store,
        None,
        &person,
        None,
        Format::Text,
        &mut text,
    )
    .await?;
    Ok((row, String::from_utf8_lossy(&text).into_owned()))
}

/// Posts an event and checks the person's account, shares and groups in the sandbox.
async fn provision(
    scenario: &Scenario<'_>,
    name: &str,
    event: Value,
    action: &str,
    expected: Expected<'_>,
) -> anyhow::Result<Row> {
    let status = scenario.post_iam(&serde_json::to_vec(&event)?).await?;
    let mut row = Row::new(name, status, 202, action);
    if !row.passed {
        return Ok(row);
    }

    let outcome = scenario.wait_outcome(&event).await?;
    let state = scenario.sandbox.state();
    let Some(user) = state.find_by_email(expected.email) else {
        row.passed = false;
        row.result = format!("{:?}: no account", outcome.map(|p| p.outcome));
        return Ok(row);
    };
    let shares = state.shares_of_user(user.id);
    let wanted: Vec<SandboxShare> = expected
        .shares
        .iter()
        .map(|(kind, id, level)| SandboxShare {
            object_type: kind.to_string(),
            object_id: id.to_string(),
            level: level.to_string(),
            via: if expected.role == Role::Guest {
                "guest"
            } else {
                "acl"
            }
            .into(),
        })
        .collect();
    let in_groups = expected.groups.iter().all(|group| {
        state
            .group_members(group)
            .is_some_and(|members| members.contains(&user.id))
    });
    let group_count = state
        .groups()
        .iter()
        .filter(|g| g.members.contains(&user.id))
        .count();

    row.passed = user.role == expected.role
        && shares == wanted
        && in_groups
        && group_count == expected.groups.len();
    row.result = match outcome {
        Some(p) if row.passed => format!("{} (user {})", p.outcome, user.id),
        Some(p) => format!(
            "{}: role {:?}, {} share(s), {group_count} group(s)",
            p.outcome,
            user.role,
            shares.len()
        ),
        None => "no outcome before the timeout".into(),
    };
    Ok(row)
}

/// Waits for the scheduler to revoke the contractor at the end of the contract.
async fn contract_end(scenario: &Scenario<'_>) -> anyhow::Result<Row> {
    let deadline = tokio::time::Instant::now() + scenario.timeout;
    let state = scenario.sandbox.state();
    let open_grants = || {
        scenario
            .store
            .open_grants("1a2b3c4d5e6f47808192a3b4c5d6e7f8")
    };
    while tokio::time::Instant::now() < deadline {
        let gone = state.find_by_email("carlos.rivera@example.com").is_none();
        if gone && open_grants().await?.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let gone = state.find_by_email("carlos.rivera@example.com").is_none();
    let open = open_grants().await?.len();

    let mut row = Row::new(
        "scheduler: contract end",
        0,
        0,
        "remove guest at the end date",
    );
    row.http = "-".into();
    row.passed = gone && open == 0;
    row.result = if row.passed {
        "revoked, grants closed".into()
    } else {
        format!("account present: {}, {open} open grants", !gone)
    };
    Ok(row)
}
