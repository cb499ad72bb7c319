//! The report for operators: JSON (ids only, with the counts) and text tables. The text form
//! may show a person's email beside the IAM id when the caller passes them (the operator's
//! terminal, as `sso report` does); the report itself never holds one.

use std::{collections::BTreeMap, io::Write};

use serde_json::{json, Value};

use super::{DriftItem, DriftKind, DriftReport};
use crate::operator::render::Table;

/// The report and its counts as one JSON document.
pub fn to_json(report: &DriftReport) -> Value {
    let counts: BTreeMap<&str, usize> = DriftKind::ALL
        .iter()
        .map(|kind| (kind.as_str(), report.count(*kind)))
        .collect();
    json!({
        "report": report,
        "counts": counts,
        "unchecked": report.unchecked.len(),
        "held_people": report.held.len(),
        "failed_people": report.failed.len(),
        "remaining": report.remaining.len(),
    })
}

/// The report as tables; `emails` (IAM id → email) adds a column when not empty.
pub fn write_text(
    report: &DriftReport,
    emails: &BTreeMap<String, String>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mode = match report.apply {
        true => "repaired",
        false => "read only",
    };
    writeln!(
        out,
        "Access drift ({mode}, run {}): {} people compared",
        report.run_id, report.people
    )?;
    items_table(&report.items, emails).write(out)?;

    if !report.unchecked.is_empty() {
        let mut objects: Vec<String> = report
            .unchecked
            .iter()
            .map(|u| u.object.to_string())
            .collect();
        objects.sort();
        objects.dedup();
        writeln!(
            out,
            "\nNot checked (ClickUp's API shows no Space shares): {} share(s) on {}",
            report.unchecked.len(),
            objects.join(", ")
        )?;
    }
    for skipped in &report.skipped {
        writeln!(out, "skipped user:{}: {}", skipped.iam_id, skipped.reason)?;
    }

    if report.apply {
        writeln!(out, "\nApplied: {} action(s)", report.applied)?;
        for held in &report.held {
            writeln!(
                out,
                "held by the brake, user:{}: {} ({})",
                held.iam_id,
                held.actions.join("; "),
                held.reason
            )?;
        }
        for failed in &report.failed {
            writeln!(out, "failed, user:{}: {}", failed.iam_id, failed.error)?;
        }
        writeln!(
            out,
            "\nStill differing after the repair: {}",
            report.remaining.len()
        )?;
        if !report.remaining.is_empty() {
            items_table(&report.remaining, emails).write(out)?;
        }
    }

    writeln!(
        out,
        "\ncounts: {} missing, {} unexpected, {} level differs, {} not checked",
        report.count(DriftKind::Missing),
        report.count(DriftKind::Unexpected),
        report.count(DriftKind::LevelDiffers),
        report.unchecked.len()
    )
}

fn items_table(items: &[DriftItem], emails: &BTreeMap<String, String>) -> Table {
    let with_email = !emails.is_empty();
    let mut header = vec!["identity"];
    if with_email {
        header.push("email");
    }
    header.extend([
        "ClickUp user",
        "drift",
        "object",
        "desired",
        "in ClickUp",
        "repair",
    ]);
    let mut table = Table::new(&header);
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    for item in items {
        let mut row = vec![format!("user:{}", item.iam_id)];
        if with_email {
            row.push(emails.get(&item.iam_id).cloned().unwrap_or_default());
        }
        let object = match item.what {
            crate::store::GrantKind::Group => format!("group:{}", item.object),
            _ => item.object.clone(),
        };
        row.extend([
            item.clickup_user_id
                .map_or_else(|| "-".to_owned(), |id| id.to_string()),
            item.kind.as_str().to_owned(),
            object,
            text(&item.desired),
            text(&item.observed),
            item.fix.as_ref().map_or_else(String::new, |a| a.describe()),
        ]);
        table.push(row);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{rules::Action, store::GrantKind};

    fn report() -> DriftReport {
        let item = DriftItem {
            iam_id: "p1".into(),
            clickup_user_id: Some(184),
            kind: DriftKind::Unexpected,
            what: GrantKind::Share,
            object: "list:2".into(),
            desired: None,
            observed: Some("edit".into()),
            fix: Some(Action::Unshare {
                object: "list:2".parse().unwrap(),
            }),
        };
        DriftReport {
            run_id: "reconcile-drift:1".into(),
            people: 1,
            items: vec![item],
            ..DriftReport::default()
        }
    }

    fn text(report: &DriftReport, emails: &BTreeMap<String, String>) -> String {
        let mut out = Vec::new();
        write_text(report, emails, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn emails_show_in_the_text_only_when_the_operator_asks() {
        let emails = BTreeMap::from([("p1".to_owned(), "ann@example.com".to_owned())]);
        let cases = [(BTreeMap::new(), false), (emails, true)];

        for (emails, shown) in cases {
            let text = text(&report(), &emails);

            assert_eq!(text.contains("ann@example.com"), shown, "{text}");
            assert!(text.contains("unshare list:2"), "{text}");
            assert!(
                text.contains("0 missing, 1 unexpected, 0 level differs"),
                "{text}"
            );
        }
        let json = to_json(&report());
        assert_eq!(json["counts"]["unexpected"], 1);
        assert_eq!(json["report"]["items"][0]["kind"], "unexpected");
        assert_eq!(json["report"]["items"][0]["clickup_user_id"], 184);
    }
}
