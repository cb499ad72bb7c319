//! Access-request policies, table-driven: loading and its refusals, reading forms from task
//! JSON, eligibility, approvers, decision comments, and the shipped `rules/` folder.

mod decisions;
mod form;
mod loading;
mod shipped;

use crate::rules::{AccessPolicy, RuleSet};

/// `access_requests:` up to `areas:`; areas written after it start on line 7.
const INTAKE: &str = r#"access_requests:
  intake:
    list: "901100000901"
    fields: { area: Area, level: Access level, duration: Duration (days), justification: Justification }
    statuses: { pending: pending approval, approved: approved, denied: denied, closed: closed }
  areas:
"#;

/// The lines of a valid area, written from line 7 (`name`) to line 15 (`decide_in`).
const LEGAL: [&str; 9] = [
    "name: Legal",
    r#"object: { folder: "901100000200" }"#,
    "levels: [read, comment]",
    "max_duration: 30d",
    r#"may_ask: 'person.employment_type == "employee"'"#,
    r#"approvers: ["sec-legal@example.com", "group:Legal-Security"]"#,
    "steps: [{ name: manager, approvers: person.manager.email }, { name: security, approvers: area.approvers }]",
    r#"timeout: { remind_after: 2d, after: 5d, then: escalate, escalate_to: ["ciso@example.com"] }"#,
    "decide_in: clickup",
];

/// An area written as list item `lines`, each a `key: value` line at the area's level.
fn area_text(lines: &[&str]) -> String {
    let mut text = String::new();
    for (index, line) in lines.iter().enumerate() {
        let lead = if index == 0 { "    - " } else { "      " };
        text.push_str(lead);
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// [`LEGAL`] with the line of `key` replaced by `line` (removed when `line` is empty,
/// appended when the key is not there).
fn legal_with(key: &str, line: &str) -> Vec<String> {
    let prefix = format!("{key}:");
    let mut lines: Vec<String> = LEGAL.iter().map(|line| line.to_string()).collect();
    match lines.iter().position(|known| known.starts_with(&prefix)) {
        Some(at) if line.is_empty() => {
            lines.remove(at);
        }
        Some(at) => lines[at] = line.to_owned(),
        None => lines.push(line.to_owned()),
    }
    lines
}

/// A rule file with the intake and `areas`, each a list of lines.
fn policy_text(areas: &[Vec<String>]) -> String {
    let mut text = INTAKE.to_owned();
    for area in areas {
        let lines: Vec<&str> = area.iter().map(String::as_str).collect();
        text.push_str(&area_text(&lines));
    }
    text
}

/// The rules loaded from one file, `a.yaml`.
fn load(text: &str) -> RuleSet {
    RuleSet::from_sources(&[("a.yaml", text)]).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

/// The policy of `text`.
fn policy_of(rules: &RuleSet) -> &AccessPolicy {
    rules
        .access_policy()
        .unwrap_or_else(|| panic!("no access policy"))
}

/// Legal (above) and a Finance area on list 901100000310 that anyone may ask for.
fn two_areas() -> RuleSet {
    let finance = [
        "name: Finance",
        r#"object: { list: "901100000310" }"#,
        "levels: [read, edit, create]",
        "steps: [{ name: owners, approvers: area.approvers }]",
        r#"approvers: ["fin-owners@example.com"]"#,
        "decide_in: iam",
        "iam_prd: cn=Finance,cn=RequestDefs",
    ];
    let legal: Vec<String> = LEGAL.iter().map(|line| line.to_string()).collect();
    let finance: Vec<String> = finance.iter().map(|line| line.to_string()).collect();
    load(&policy_text(&[legal, finance]))
}
