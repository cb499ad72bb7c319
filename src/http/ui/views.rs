//! What each page shows, as askama templates (`templates/ui/`, HTML-escaped by default) and
//! the rows they list, built from the record with times written out in UTC. No IO.

use std::collections::HashMap;

use askama::Template;
use chrono::{DateTime, Utc};

use super::session::{SignedIn, ADMIN, AUDIT, REQUESTS};
use crate::{
    store::{AccessRequest, DeadLetterRecord, Grant},
    timeline::{millis, query::PersonTimeline, Access, Interval, Via},
};

/// The header: who is signed in, the sign-out form and the pages their roles open.
pub struct Nav {
    pub display: String,
    pub roles: String,
    pub csrf: String,
    pub audit: bool,
    pub requests: bool,
    pub admin: bool,
}

impl Nav {
    pub fn of(user: &SignedIn) -> Nav {
        Nav {
            display: user.display.clone(),
            roles: user.role_names(),
            csrf: user.csrf.clone(),
            audit: user.may(AUDIT),
            requests: user.may(REQUESTS),
            admin: user.may(ADMIN),
        }
    }
}

#[derive(Template)]
#[template(path = "ui/message.html")]
struct MessagePage<'a> {
    nav: Option<Nav>,
    title: &'a str,
    text: &'a str,
}

/// A page that only says something (errors, refusals).
pub fn message(title: &str, text: &str) -> Result<String, askama::Error> {
    MessagePage {
        nav: None,
        title,
        text,
    }
    .render()
}

#[derive(Template)]
#[template(path = "ui/signed_out.html")]
struct SignedOutPage {
    nav: Option<Nav>,
}

pub fn signed_out() -> Result<String, askama::Error> {
    SignedOutPage { nav: None }.render()
}

#[derive(Template)]
#[template(path = "ui/index.html")]
pub struct IndexPage {
    pub nav: Option<Nav>,
}

#[derive(Template)]
#[template(path = "ui/person.html")]
pub struct PersonPage {
    pub nav: Option<Nav>,
    pub who: String,
    pub person: Option<PersonView>,
}

pub struct PersonView {
    pub heading: String,
    pub iam_id: String,
    pub status: String,
    pub rows: Vec<IntervalRow>,
}

/// One interval of a person's timeline.
pub struct IntervalRow {
    pub object: String,
    pub kind: &'static str,
    pub level: String,
    pub from: String,
    pub to: String,
    pub until: String,
    pub granted_by: String,
    pub ended: String,
}

impl PersonView {
    pub fn of(timeline: PersonTimeline) -> PersonView {
        PersonView {
            heading: timeline
                .email
                .clone()
                .unwrap_or_else(|| timeline.iam_id.clone()),
            iam_id: timeline.iam_id,
            status: timeline.status,
            rows: timeline.intervals.iter().map(IntervalRow::of).collect(),
        }
    }
}

impl IntervalRow {
    fn of(interval: &Interval) -> IntervalRow {
        IntervalRow {
            object: interval.object.clone(),
            kind: interval.kind.as_str(),
            level: interval.level.clone(),
            from: time(interval.from),
            to: interval.to.map_or_else(|| "still held".to_owned(), time),
            until: interval.until.map(time).unwrap_or_default(),
            granted_by: interval.granted_by.describe(),
            ended: ended(interval),
        }
    }
}

#[derive(Template)]
#[template(path = "ui/object.html")]
pub struct ObjectPage {
    pub nav: Option<Nav>,
    pub object: String,
    pub at: String,
    pub found: Option<ObjectView>,
}

pub struct ObjectView {
    pub heading: String,
    pub hierarchy_note: String,
    pub rows: Vec<AccessRow>,
}

/// One interval that gave access to the object asked about.
pub struct AccessRow {
    pub person: String,
    pub via: String,
    pub object: String,
    pub level: String,
    pub from: String,
    pub to: String,
    pub granted_by: String,
    pub ended: String,
}

impl AccessRow {
    pub fn of(access: &Access, emails: &impl Fn(&str) -> Option<String>) -> AccessRow {
        let interval = &access.interval;
        AccessRow {
            person: emails(&interval.iam_id).unwrap_or_else(|| interval.iam_id.clone()),
            via: match &access.via {
                Via::Direct => "direct".to_owned(),
                Via::Inherited { from } => format!("through {from}"),
                Via::WorkspaceAdmin => "workspace admin".to_owned(),
            },
            object: interval.object.clone(),
            level: interval.level.clone(),
            from: time(interval.from),
            to: interval.to.map_or_else(|| "still held".to_owned(), time),
            granted_by: interval.granted_by.describe(),
            ended: ended(interval),
        }
    }
}

#[derive(Template)]
#[template(path = "ui/requests.html")]
pub struct RequestsPage {
    pub nav: Option<Nav>,
    pub rows: Vec<RequestRow>,
}

pub struct RequestRow {
    pub task_id: String,
    pub state: &'static str,
    pub requester: String,
    pub object: String,
    pub level: String,
    pub duration: String,
    pub step: i64,
    pub approvers: String,
    pub since: String,
}

impl RequestRow {
    /// A request, its people named by email when on record (`emails` by IAM id).
    pub fn of(request: &AccessRequest, emails: &HashMap<String, String>) -> RequestRow {
        let name = |id: &String| emails.get(id).cloned().unwrap_or_else(|| id.clone());
        let approvers: Vec<String> = match request.approver_iam_ids.is_empty() {
            true => request
                .approvers
                .iter()
                .map(|user| format!("ClickUp user {user}"))
                .collect(),
            false => request.approver_iam_ids.iter().map(name).collect(),
        };
        RequestRow {
            task_id: request.task_id.clone(),
            state: request.state.as_str(),
            requester: request
                .iam_id
                .as_ref()
                .map_or_else(|| format!("ClickUp user {}", request.requester_user), name),
            object: request.object.clone().unwrap_or_default(),
            level: request.level.clone().unwrap_or_default(),
            duration: request.duration_ms.map(duration).unwrap_or_default(),
            step: request.step,
            approvers: approvers.join(", "),
            since: time(millis(request.step_started_at)),
        }
    }
}

#[derive(Template)]
#[template(path = "ui/expiring.html")]
pub struct ExpiringPage {
    pub nav: Option<Nav>,
    pub days: u32,
    pub rows: Vec<GrantRow>,
}

pub struct GrantRow {
    pub until: String,
    pub person: String,
    pub object: String,
    pub kind: &'static str,
    pub level: String,
    pub rule: String,
    pub since: String,
}

impl GrantRow {
    pub fn of(grant: &Grant, emails: &HashMap<String, String>) -> GrantRow {
        GrantRow {
            until: grant.until.map(millis).map(time).unwrap_or_default(),
            person: emails
                .get(&grant.iam_id)
                .cloned()
                .unwrap_or_else(|| grant.iam_id.clone()),
            object: grant.object.clone(),
            kind: grant.kind.as_str(),
            level: grant.level.clone(),
            rule: grant.rule.clone(),
            since: time(millis(grant.since)),
        }
    }
}

#[derive(Template)]
#[template(path = "ui/dead_letters.html")]
pub struct DeadLettersPage {
    pub nav: Option<Nav>,
    pub after: Option<i64>,
    pub next: Option<i64>,
    pub rows: Vec<DeadLetterRow>,
}

pub struct DeadLetterRow {
    pub id: i64,
    /// `open`, `replayed` or `dropped`.
    pub state: &'static str,
    pub recorded: String,
    pub lane: String,
    pub routing_key: String,
    pub reason: String,
    pub error: String,
    pub attempts: i64,
    pub first_failed: String,
    pub message_id: String,
}

impl DeadLetterRow {
    pub fn of(letter: &DeadLetterRecord) -> DeadLetterRow {
        let error = match (&letter.error_code, &letter.error) {
            (Some(code), Some(text)) => format!("{code}: {text}"),
            (Some(code), None) => code.clone(),
            (None, Some(text)) => text.clone(),
            (None, None) => String::new(),
        };
        DeadLetterRow {
            id: letter.id,
            state: letter.state.as_str(),
            recorded: time(millis(letter.recorded_at)),
            lane: letter.lane.clone().unwrap_or_default(),
            routing_key: letter.routing_key.clone(),
            reason: letter.reason.clone(),
            error,
            attempts: letter.attempts,
            first_failed: time(millis(letter.first_failed_at)),
            message_id: letter.message_id.clone().unwrap_or_default(),
        }
    }
}

/// `2026-12-03 12:00:00 UTC`.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `3 d 4 h`, `2 h 30 min`, `45 min` (whole minutes).
pub fn duration(ms: i64) -> String {
    let minutes = ms / 60_000;
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let parts = [(days, "d"), (hours, "h"), (mins, "min")];
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    match shown.is_empty() {
        true => "under a minute".to_owned(),
        false => shown.join(" "),
    }
}

fn ended(interval: &Interval) -> String {
    match &interval.ended {
        Some(ended) => ended.describe(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
