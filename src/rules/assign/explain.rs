//! `rules explain` for assignments: the rule in words, each candidate considered with what the
//! filter said, and the choice or the fallback.
//!
//! Candidates appear by the names the caller gives (the operator's tool shows them to the
//! operator); nothing here is logged.

use super::{AssignmentRule, Fallback};

/// Words for `rules explain`: the rule, each candidate considered with kept/filtered and why,
/// the choice.
pub fn explain_assignment(
    rule: &AssignmentRule,
    considered: &[(String, Result<bool, String>)],
    chosen: Option<&str>,
) -> String {
    let mut lines = vec![heading(rule)];
    lines.extend(rule_lines(rule));

    lines.push(String::new());
    match considered.is_empty() {
        true => lines.push("Considered: nobody met the conditions".to_owned()),
        false => {
            lines.push("Considered:".to_owned());
            lines.extend(considered.iter().map(|(name, kept)| match kept {
                Ok(true) => format!("  kept      {name}"),
                Ok(false) => format!("  filtered  {name}: {}", why_filtered(rule)),
                Err(error) => format!("  filtered  {name}: the filter failed: {error}"),
            }));
        }
    }

    let fallback = match &rule.fallback {
        Some(fallback) => format!("falls back to {}", describe_fallback(fallback)),
        None => "no fallback: the task stays unassigned".to_owned(),
    };
    lines.push(match chosen {
        Some(name) => format!("Chosen: {name} ({})", rule.strategy.as_str()),
        None => format!("Chosen: nobody qualified; {fallback}"),
    });
    lines.push(String::new());
    lines.join("\n")
}

/// The fallback as the rule file writes it: `email x@example.com` or `group Operations`.
fn describe_fallback(fallback: &Fallback) -> String {
    match fallback {
        Fallback::Email(email) => format!("email {email}"),
        Fallback::Group(group) => format!("group \"{group}\""),
    }
}

fn heading(rule: &AssignmentRule) -> String {
    let description = rule
        .description
        .as_deref()
        .map(|text| format!(": {}", text.trim()))
        .unwrap_or_default();
    format!(
        "Assignment rule `{}` ({}){description}",
        rule.name, rule.file
    )
}

/// The conditions, filter, strategy and fallback, one line each.
fn rule_lines(rule: &AssignmentRule) -> Vec<String> {
    let mut lines = Vec::new();
    let conditions: Vec<String> = rule
        .conditions
        .iter()
        .map(|(attribute, value)| format!("{attribute} = \"{value}\""))
        .collect();
    if !conditions.is_empty() {
        lines.push(format!("  candidates where {}", conditions.join(" and ")));
    }

    if let Some(by_field) = &rule.by_field {
        let value = match &by_field.map {
            None => "the field's value".to_owned(),
            Some(map) => {
                let entries: Vec<String> = map
                    .iter()
                    .map(|(key, value)| format!("{key} → {value}"))
                    .collect();
                entries.join(", ")
            }
        };
        lines.push(format!(
            "  {} from field `{}`: {value}",
            by_field.attribute, by_field.field
        ));
    }

    if let Some(filter) = &rule.filter {
        lines.push(format!("  filter: {}", filter.source().trim()));
    }
    lines.push(format!("  strategy: {}", rule.strategy.as_str()));
    if let Some(fallback) = &rule.fallback {
        lines.push(format!("  fallback: {}", describe_fallback(fallback)));
    }
    lines
}

fn why_filtered(rule: &AssignmentRule) -> &'static str {
    match rule.filter {
        Some(_) => "the filter is false, or the person is not active",
        None => "the person is not active",
    }
}
