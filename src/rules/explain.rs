//! `rules explain`: a plan in words. Each action comes with the rule that asked for it, that
//! rule's condition and the attribute values it read; then the rules that matched with
//! problems, and the rules that did not match and why.

use std::collections::HashMap;

use crate::rules::{
    desired::{Desired, Explanation},
    plan::Action,
};

/// Human-readable explanation of `plan`, computed from `desired`.
pub fn explain(desired: &Desired, plan: &[Action]) -> String {
    let mut lines = actions(desired, plan);

    if desired.role.is_none() {
        lines.extend(nothing_desired(desired));
    }

    let with_problems = |e: &&Explanation| e.matched && e.error.is_some();
    let problems: Vec<&Explanation> = desired.explanations.iter().filter(with_problems).collect();
    if !problems.is_empty() {
        lines.push("\nMatched, with problems:".to_owned());
        lines.extend(problems.into_iter().map(rule_line));
    }

    let unmatched: Vec<&Explanation> = desired.explanations.iter().filter(|e| !e.matched).collect();
    if !unmatched.is_empty() {
        lines.push("\nDid not match:".to_owned());
        lines.extend(unmatched.into_iter().flat_map(rule_with_condition));
    }

    lines.push(String::new());
    lines.join("\n")
}

/// Each action, numbered, with the rule that asked for it.
fn actions(desired: &Desired, plan: &[Action]) -> Vec<String> {
    let by_rule: HashMap<&str, &Explanation> = desired
        .explanations
        .iter()
        .map(|explanation| (explanation.rule.as_str(), explanation))
        .collect();
    let mut lines = vec![match plan.len() {
        0 => "No changes.".to_owned(),
        1 => "1 action:".to_owned(),
        count => format!("{count} actions:"),
    }];

    for (number, action) in plan.iter().enumerate() {
        lines.push(format!("{}. {}", number + 1, action.describe()));
        let Some(rule) = action.rule() else {
            lines.push("   no rule asks for this".to_owned());
            continue;
        };
        let Some(explanation) = by_rule.get(rule) else {
            lines.push(format!("   asked for by rule `{rule}`"));
            continue;
        };
        let Explanation {
            rule,
            file,
            condition,
            ..
        } = explanation;
        let condition = one_line(condition);
        lines.push(format!("   rule `{rule}` ({file}) matched: {condition}"));
        lines.extend(values(explanation, "   "));
    }
    lines
}

/// Why the person should have nothing: a built-in rule matched, or no rule did.
fn nothing_desired(desired: &Desired) -> Vec<String> {
    let matched: Vec<&Explanation> = desired.explanations.iter().filter(|e| e.matched).collect();
    if matched.is_empty() {
        return vec!["\nNo ClickUp access is desired: no rule matched.".to_owned()];
    }
    let mut lines = vec!["\nNo ClickUp access is desired:".to_owned()];
    lines.extend(matched.into_iter().flat_map(rule_with_condition));
    lines
}

/// `- \`rule\` (file): error`, then the condition and the values it read.
fn rule_with_condition(explanation: &Explanation) -> Vec<String> {
    let mut lines = vec![rule_line(explanation)];
    lines.push(format!("  when: {}", one_line(&explanation.condition)));
    lines.extend(values(explanation, "  "));
    lines
}

fn rule_line(explanation: &Explanation) -> String {
    let Explanation { rule, file, .. } = explanation;
    match &explanation.error {
        Some(error) => format!("- `{rule}` ({file}): {error}"),
        None => format!("- `{rule}` ({file})"),
    }
}

/// `read: person.title = "Manager", ...`, if the condition read anything.
fn values(explanation: &Explanation, indent: &str) -> Option<String> {
    if explanation.values.is_empty() {
        return None;
    }
    let values: Vec<String> = explanation
        .values
        .iter()
        .map(|(path, value)| format!("{path} = {value}"))
        .collect();
    Some(format!("{indent}read: {}", values.join(", ")))
}

fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines.join(" ").trim().to_owned()
}
