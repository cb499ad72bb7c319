//! `audit timeline`, `audit export` and `audit search`: read-only views of the record (the
//! store is opened read-only). Each command reads first, then writes to the given output, so
//! tests run them against a test's store and read what they print.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::render::{self, Format, Table};
use crate::{
    clickup::ClickUpClient,
    store::{AuditQuery, AuditRecord, Store, MAX_AUDIT_PAGE},
    timeline::{
        query::{self, Hierarchy},
        GrantedBy, Interval, ObjectKey,
    },
};

/// Whose or what's timeline.
#[derive(Clone, Debug)]
pub enum Subject {
    /// An IAM id or an email.
    Person(String),
    Object(ObjectKey),
}

/// Formats of `audit export`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// `audit timeline`: a person's intervals, or an object's (with `at`, who held it then).
/// With a ClickUp client, an object's folder and space are read so inherited access counts.
pub async fn timeline(
    store: &Store,
    clickup: Option<&ClickUpClient>,
    subject: &Subject,
    at: Option<DateTime<Utc>>,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match subject {
        Subject::Person(person) => {
            let Some(mut found) = query::person_timeline(store, person).await? else {
                anyhow::bail!("nobody on record has the IAM id or email {person:?}");
            };
            if let Some(at) = at {
                found.intervals.retain(|interval| interval.held_at(at));
            }
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut *out, &found)?;
                return Ok(writeln!(out)?);
            }
            let name = found.email.as_deref().unwrap_or("(no email)");
            let when = at.map_or_else(String::new, |at| format!(" held at {}", render::time(at)));
            writeln!(
                out,
                "{name} (user:{}, {}): {} interval(s){when}",
                found.iam_id,
                found.status,
                found.intervals.len()
            )?;
            Ok(render::intervals_table(&found.intervals).write(out)?)
        }
        Subject::Object(object) => {
            let hierarchy = query::hierarchy(clickup, object).await?;
            let answer = query::object_access(store, object, hierarchy, at).await?;
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut *out, &answer)?;
                return Ok(writeln!(out)?);
            }
            let when = answer
                .at
                .map_or_else(String::new, |at| format!(" at {}", render::time(at)));
            writeln!(out, "{object}{when}: {} interval(s)", answer.access.len())?;
            match &answer.hierarchy {
                Hierarchy::Known { ancestors } if !ancestors.is_empty() => writeln!(
                    out,
                    "  counting shares of {} (read from ClickUp)",
                    ancestors.join(", ")
                )?,
                Hierarchy::Known { .. } => {}
                Hierarchy::Unknown { .. } => writeln!(
                    out,
                    "  hierarchy unknown: only grants on {object} itself and workspace admins are counted. {}",
                    answer.note.unwrap_or_default()
                )?,
            }
            let mut table = Table::new(&[
                "person",
                "email",
                "via",
                "level",
                "from",
                "to",
                "granted by",
                "ended by",
            ]);
            for access in &answer.access {
                let interval = &access.interval;
                table.push(vec![
                    format!("user:{}", interval.iam_id),
                    answer
                        .emails
                        .get(&interval.iam_id)
                        .cloned()
                        .unwrap_or_default(),
                    render::via(access),
                    interval.level.clone(),
                    render::time(interval.from),
                    render::to(interval),
                    interval.granted_by.describe(),
                    render::ended(interval),
                ]);
            }
            Ok(table.write(out)?)
        }
    }
}

/// One line of the interval export.
#[derive(Serialize)]
struct ExportRow<'a> {
    email: Option<&'a str>,
    #[serde(flatten)]
    interval: &'a Interval,
}

/// `audit export`: the access intervals overlapping `[from, to)`, one row each with how it
/// began and ended, or with `records` the raw audit rows of the range. Returns the rows written.
pub async fn export(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    format: ExportFormat,
    records: bool,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    anyhow::ensure!(from < to, "--from must be before --to");
    if records {
        let rows = audit_rows(store, from, to).await?;
        write_records(&rows, format, out)?;
        return Ok(rows.len());
    }

    let intervals = query::intervals_between(store, from, to).await?;
    let people: Vec<String> = intervals.iter().map(|i| i.iam_id.clone()).collect();
    let emails = store.emails_of(&people).await?;
    let rows: Vec<ExportRow> = intervals
        .iter()
        .map(|interval| ExportRow {
            email: emails.get(&interval.iam_id).map(String::as_str),
            interval,
        })
        .collect();
    match format {
        ExportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
        ExportFormat::Csv => write_intervals_csv(&rows, out)?,
    }
    Ok(rows.len())
}

fn write_intervals_csv(rows: &[ExportRow], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "iam_id",
        "email",
        "kind",
        "object",
        "level",
        "from",
        "to",
        "until",
        "granted_by",
        "rule",
        "request_task",
        "approvers",
        "ended_by",
        "level_changed",
        "ended_by_raw",
        "end_reason",
    ])?;
    let stamp = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339()).unwrap_or_default();
    for row in rows {
        let interval = row.interval;
        let (granted_by, rule, task, approvers) = match &interval.granted_by {
            GrantedBy::Rule { name } => ("rule", name.clone(), String::new(), String::new()),
            GrantedBy::Request { task_id, approvers } => {
                let names: Vec<&str> = approvers
                    .iter()
                    .map(|a| a.who.as_deref().unwrap_or(&a.decided_by))
                    .collect();
                (
                    "request",
                    format!("request:{task_id}"),
                    task_id.clone(),
                    names.join("; "),
                )
            }
        };
        let ended = interval.ended.as_ref();
        csv.write_record([
            interval.iam_id.as_str(),
            row.email.unwrap_or_default(),
            interval.kind.as_str(),
            &interval.object,
            &interval.level,
            &interval.from.to_rfc3339(),
            &stamp(interval.to),
            &stamp(interval.until),
            granted_by,
            &rule,
            &task,
            &approvers,
            ended.map_or("", |e| e.cause.as_str()),
            ended.map_or("", |e| if e.level_changed { "true" } else { "false" }),
            ended.map_or("", |e| e.ended_by.as_str()),
            ended.map_or("", |e| e.reason.as_str()),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// Every audit row of `[from, to)`, page by page.
async fn audit_rows(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<AuditRecord>> {
    let mut rows = Vec::new();
    let mut query = AuditQuery {
        from: Some(from.timestamp_millis()),
        to: Some(to.timestamp_millis()),
        limit: MAX_AUDIT_PAGE,
        ..AuditQuery::default()
    };
    loop {
        let page = store.audit_search(&query).await?;
        rows.extend(page.records);
        match page.next {
            Some(next) => query.after_seq = Some(next),
            None => return Ok(rows),
        }
    }
}

fn write_records(
    rows: &[AuditRecord],
    format: ExportFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if format == ExportFormat::Json {
        serde_json::to_writer_pretty(&mut *out, rows)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "object",
        "outcome",
        "correlation_id",
        "event_id",
        "detail",
    ])?;
    for r in rows {
        csv.write_record([
            r.seq.to_string().as_str(),
            &crate::timeline::millis(r.at).to_rfc3339(),
            &r.actor,
            &r.action,
            r.subject.as_deref().unwrap_or_default(),
            r.object.as_deref().unwrap_or_default(),
            &r.outcome,
            &r.correlation_id,
            &r.event_id,
            &r.detail,
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// `audit search`: one page of audit rows matching the filters, oldest first; the last line
/// names the cursor of the next page.
pub async fn search(
    store: &Store,
    query: &AuditQuery,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let page = store.audit_search(query).await?;
    if format == Format::Json {
        let body = serde_json::json!({ "records": page.records, "next": page.next });
        serde_json::to_writer_pretty(&mut *out, &body)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut table = Table::new(&[
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "object",
        "outcome",
        "correlation",
    ]);
    for r in &page.records {
        table.push(vec![
            r.seq.to_string(),
            render::time(crate::timeline::millis(r.at)),
            r.actor.clone(),
            r.action.clone(),
            r.subject.clone().unwrap_or_default(),
            r.object.clone().unwrap_or_default(),
            r.outcome.clone(),
            r.correlation_id.clone(),
        ]);
    }
    table.write(out)?;
    match page.next {
        Some(next) => writeln!(
            out,
            "{} row(s); next page: --after {next}",
            page.records.len()
        )?,
        None => writeln!(out, "{} row(s); no more", page.records.len())?,
    }
    Ok(())
}
