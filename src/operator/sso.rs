//! `sso report`: reads the ClickUp workspace (`GET /v2/team`, `GET /v2/user` for the
//! router's own account) and the identities on record, and prints where the two disagree.

use std::io::Write;

use super::render::{Format, Table};
use crate::{
    clickup::ClickUpClient,
    sso::{self, Account, SsoReport},
    store::Store,
};

/// Builds the report for workspace `team_id`.
pub async fn report(
    store: &Store,
    clickup: &ClickUpClient,
    team_id: u64,
) -> anyhow::Result<SsoReport> {
    let teams = clickup.teams().await?;
    let team = teams
        .into_iter()
        .find(|team| team.id == team_id.to_string())
        .ok_or_else(|| anyhow::anyhow!("workspace {team_id} is not visible to the token"))?;
    let accounts: Vec<_> = team.members.into_iter().map(|m| m.user).collect();
    let router = clickup.me().await?;

    let (identities, _) = store.identities_changed_since(0).await?;
    let open = store.open_grant_counts().await?;
    Ok(sso::compare(&accounts, Some(router), &identities, &open))
}

/// Prints the report, the counts last.
pub fn write(report: &SsoReport, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    if format == Format::Json {
        let counts = serde_json::json!({
            "bypass": report.bypass.len(),
            "inactive_with_access": report.inactive_with_access.len(),
            "email_mismatches": report.email_mismatches.len(),
            "privileged": report.privileged.len(),
        });
        let body = serde_json::json!({ "report": report, "counts": counts });
        serde_json::to_writer_pretty(&mut *out, &body)?;
        writeln!(out)?;
        return Ok(());
    }

    let email = |account: &Account| account.email.clone().unwrap_or_default();
    writeln!(
        out,
        "ClickUp accounts with no active IAM identity (they bypass SSO): {}",
        report.bypass.len()
    )?;
    let mut table = Table::new(&["user", "email", "role", "identities on record"]);
    for bypass in &report.bypass {
        let known = match bypass.identities.is_empty() {
            true => "none".to_owned(),
            false => bypass.identities.join(", "),
        };
        let a = &bypass.account;
        table.push(vec![a.user_id.to_string(), email(a), a.role.into(), known]);
    }
    table.write(out)?;

    writeln!(
        out,
        "\nThe router's own account and the workspace owner (outside the IAM, not counted above): {}",
        report.privileged.len()
    )?;
    let mut table = Table::new(&["user", "email", "role", "is"]);
    for privileged in &report.privileged {
        let a = &privileged.account;
        table.push(vec![
            a.user_id.to_string(),
            email(a),
            a.role.into(),
            privileged.what.join(", "),
        ]);
    }
    table.write(out)?;

    writeln!(
        out,
        "\nDisabled or terminated identities that still have ClickUp access: {}",
        report.inactive_with_access.len()
    )?;
    let mut table = Table::new(&[
        "identity",
        "email",
        "status",
        "ClickUp account",
        "open grants",
    ]);
    for inactive in &report.inactive_with_access {
        let account = inactive
            .account
            .as_ref()
            .map_or_else(|| "none".to_owned(), |a| format!("user {}", a.user_id));
        table.push(vec![
            format!("user:{}", inactive.iam_id),
            inactive.email.clone().unwrap_or_default(),
            inactive.status.clone(),
            account,
            inactive.open_grants.to_string(),
        ]);
    }
    table.write(out)?;

    writeln!(
        out,
        "\nEmail mismatches (an identity linked to an account with another email): {}",
        report.email_mismatches.len()
    )?;
    let mut table = Table::new(&["identity", "IAM email", "ClickUp user", "ClickUp email"]);
    for mismatch in &report.email_mismatches {
        let a = &mismatch.account;
        table.push(vec![
            format!("user:{}", mismatch.iam_id),
            mismatch.iam_email.clone(),
            a.user_id.to_string(),
            email(a),
        ]);
    }
    table.write(out)?;

    writeln!(
        out,
        "\ncounts: {} bypass SSO, {} inactive with access, {} email mismatches, {} router/owner",
        report.bypass.len(),
        report.inactive_with_access.len(),
        report.email_mismatches.len(),
        report.privileged.len()
    )?;
    Ok(())
}
