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
        asked.justification.unwrap_or("(no justification given)"),
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

pub fn grant_refused(error: &str) -> String {
    format!("Approved, but ClickUp refused the grant: {error}. An administrator has to look at it; nothing was granted.")
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
    match duration {
        Some(d) if d.num_days() >= 1 && d.num_hours() % 24 == 0 => {
            format!("for {} day(s)", d.num_days())
        }
        Some(d) => format!("for {} hour(s)", d.num_hours().max(1)),
        None => "with no end date".to_owned(),
    }
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
            (Some(Duration::minutes(5)), "for 1 hour(s)"),
            (None, "with no end date"),
        ];
        for (duration, expected) in cases {
            assert_eq!(duration_words(duration), expected);
        }
    }

    #[test]
    fn a_denial_without_reason_still_reads_well() {
        assert_eq!(denied("Tom", Some("  no need ")), "Denied by Tom: no need");
        assert_eq!(denied("Tom", Some(" ")), "Denied by Tom.");
        assert_eq!(denied("Tom", None), "Denied by Tom.");
    }
}
