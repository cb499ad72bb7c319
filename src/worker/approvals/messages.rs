//! The comments the router writes on request tasks: pure text, one function per situation.
//!
//! Comments name people by display name and areas by name; they go to the task, never to logs.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// What was asked, as the routing comment states it.
pub struct Asked<'a> {
    pub requester: &'a str,
    pub level: &'a str,
    pub area: &'a str,
    pub object: &'a str,
    pub duration: Option<Duration>,
    pub justification: Option<&'a str>,
}

pub fn routed(
    asked: &Asked,
    step: usize,
    steps: usize,
    step_name: &str,
    approvers: &[String],
    statuses: (&str, &str),
) -> String {
    let (approved, denied) = statuses;
    format!(
        "Access request: {} asks for {} access to {} ({}) {}.\nWhy: {}\nStep {} of {} ({}): waiting for {}.\nTo decide, move this task to \"{approved}\" or \"{denied}\", or comment /approve or /deny <reason>. Only the approvers named here can decide.",
        asked.requester,
        asked.level,
        asked.area,
        asked.object,
        duration_words(asked.duration),
        asked.justification.map(quoted).unwrap_or_else(|| "(no justification given)".into()),
        step + 1,
        steps,
        step_name,
        names(approvers),
    )
}

pub fn sent_to_iam(asked: &Asked, iam_request_id: &str) -> String {
    format!(
        "Access request: {} asks for {} access to {} ({}) {}.\nThe decision is taken in the IAM's approval workflow (request {iam_request_id}); this task is updated when it is decided.",
        asked.requester,
        asked.level,
        asked.area,
        asked.object,
        duration_words(asked.duration),
    )
}

pub fn incomplete(problems: &[String]) -> String {
    format!(
        "This access request cannot be routed yet: {}. Fill in the fields and it is picked up again.",
        problems.join("; ")
    )
}

pub fn ineligible(reasons: &[String]) -> String {
    format!(
        "This access request cannot go ahead: {}. The task is closed.",
        reasons.join("; ")
    )
}

pub fn decision_refused(actor: &str, why: &str, status_put_back: Option<&str>) -> String {
    let back = status_put_back
        .map(|status| format!(" The status was put back to \"{status}\"."))
        .unwrap_or_default();
    format!("{actor}'s decision was not counted: {why}.{back}")
}

pub fn step_approved(
    by: &str,
    step_name: &str,
    next_step: usize,
    steps: usize,
    next_name: &str,
    approvers: &[String],
) -> String {
    format!(
        "Step \"{step_name}\" approved by {by}. Step {} of {steps} ({next_name}): waiting for {}.",
        next_step + 1,
        names(approvers)
    )
}

pub fn granted(by: &str, level: &str, area: &str, until: Option<DateTime<Utc>>) -> String {
    match until {
        Some(until) => format!(
            "Approved by {by}. {level} access to {area} is granted until {}; it is removed then.",
            until.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
        None => format!("Approved by {by}. {level} access to {area} is granted, with no end date."),
    }
}

pub fn denied(by: &str, reason: Option<&str>) -> String {
    match reason {
        Some(reason) if !reason.trim().is_empty() => format!("Denied by {by}: {}", reason.trim()),
        _ => format!("Denied by {by}."),
    }
}

pub fn reminder(approvers: &[String], since: DateTime<Utc>) -> String {
    format!(
        "Reminder: this access request has waited for a decision since {}. Waiting for {}.",
        since.to_rfc3339_opts(SecondsFormat::Secs, true),
        names(approvers)
    )
}

pub fn escalated(approvers: &[String]) -> String {
    format!("No decision in time: escalated to {}.", names(approvers))
}

pub fn expired() -> String {
    "No decision in time: this access request is closed as expired. Ask again if it is still needed.".to_owned()
}

pub fn ended(area: &str) -> String {
    format!("The access to {area} granted by this request has ended and was removed.")
}

fn names(people: &[String]) -> String {
    match people {
        [] => "nobody".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn duration_words(duration: Option<Duration>) -> String {
    let Some(d) = duration else {
        return "with no end date".to_owned();
    };
    let seconds = d.num_seconds().max(1);
    let (amount, unit) = match seconds {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("for {amount} {unit}(s)")
}

/// Text a requester typed, made safe to quote in the router's own comment: on one line,
/// without control or bidirectional-override characters, and bounded.
pub fn quoted(text: &str) -> String {
    let hidden = |c: &char| {
        c.is_control()
            || matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    let flat: String = text
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !hidden(c))
        .collect();
    let words: Vec<&str> = flat.split_whitespace().collect();
    let joined = words.join(" ");
    let bounded: String = joined.chars().take(500).collect();
    let cut = if bounded.len() < joined.len() {
        "…"
    } else {
        ""
    };
    format!("\"{bounded}{cut}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approver_lists_read_as_a_sentence() {
        let cases: [(&[&str], &str); 4] = [
            (&[], "nobody"),
            (&["Tom"], "Tom"),
            (&["Tom", "Ann"], "Tom or Ann"),
            (&["Tom", "Ann", "Li"], "Tom, Ann or Li"),
        ];
        for (people, expected) in cases {
            let people: Vec<String> = people.iter().map(|p| p.to_string()).collect();
            assert_eq!(names(&people), expected);
        }
    }

    #[test]
    fn durations_are_said_in_days_or_hours() {
        let cases = [
            (Some(Duration::days(14)), "for 14 day(s)"),
            (Some(Duration::hours(36)), "for 36 hour(s)"),
            (Some(Duration::minutes(90)), "for 90 minute(s)"),
            (Some(Duration::seconds(3)), "for 3 second(s)"),
            (None, "with no end date"),
        ];
        for (duration, expected) in cases {
            assert_eq!(duration_words(duration), expected);
        }
    }

    #[test]
    fn requester_text_is_quoted_on_one_line_without_hidden_characters() {
        let cases = [
            ("Quarterly review", "\"Quarterly review\""),
            (
                "line one\n/approve\r\nStep 1 of 1",
                "\"line one /approve Step 1 of 1\"",
            ),
            ("evil\u{202E}txt.exe", "\"eviltxt.exe\""),
            ("tab\there\u{200B}", "\"tab here\""),
        ];
        for (text, expected) in cases {
            assert_eq!(quoted(text), expected, "{text:?}");
        }
        let long = "x".repeat(600);
        assert_eq!(
            quoted(&long).chars().count(),
            503,
            "500 characters, an ellipsis, quotes"
        );
    }

    #[test]
    fn a_denial_without_reason_still_reads_well() {
        assert_eq!(denied("Tom", Some("  no need ")), "Denied by Tom: no need");
        assert_eq!(denied("Tom", Some(" ")), "Denied by Tom.");
        assert_eq!(denied("Tom", None), "Denied by Tom.");
    }
}
