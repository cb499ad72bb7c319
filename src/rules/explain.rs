//! `rules explain`: a plan in words. Each action comes with the rule that asked for it, that
//! rule's condition and the attribute values it read; each removal with the rule that granted
//! what it takes away (the grants table's `rule`) and why that rule no longer gives it. Then
//! the rules that matched with nothing to do, with problems, and those that did not match.

mod removal;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::rules::{
    desired::{Desired, Explanation, BUILT_IN},
    grant::ObjectRef,
    plan::Action,
};

/// The rule on record behind each piece of access (the grants table's `rule`): what a
/// removal takes away was granted by it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantedBy {
    pub role: Option<String>,
    /// Group name → rule.
    pub groups: BTreeMap<String, String>,
    pub shares: BTreeMap<ObjectRef, String>,
}

impl GrantedBy {
    /// The rule that granted what `action` removes or changes, when it is on record.
    pub fn of(&self, action: &Action) -> Option<&str> {
        let rule = match action {
            Action::RemoveFromGroup { group } => self.groups.get(group),
            Action::Unshare { object } | Action::ChangeShare { object, .. } => {
                self.shares.get(object)
            }
            Action::RemoveFromWorkspace | Action::ChangeRole { .. } => self.role.as_ref(),
            Action::Invite { .. } | Action::AddToGroup { .. } | Action::Share { .. } => None,
        };
        rule.map(String::as_str)
    }
}

/// Human-readable explanation of `plan`, computed from `desired`; `granted` names the rules
/// behind the access on record.
pub fn explain(desired: &Desired, plan: &[Action], granted: &GrantedBy) -> String {
    let mut lines = actions(desired, plan, granted);

    if desired.role.is_none() {
        lines.extend(nothing_desired(desired));
    }

    let asked: HashSet<&str> = plan.iter().filter_map(Action::rule).collect();
    let idle = |e: &&Explanation| e.matched && e.file != BUILT_IN && !asked.contains(&*e.rule);
    let idle: Vec<&Explanation> = desired.explanations.iter().filter(idle).collect();
    if desired.role.is_some() && !idle.is_empty() {
        lines.push("\nMatched, no action needed (what they give is on record):".to_owned());
        lines.extend(idle.into_iter().flat_map(rule_with_condition));
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

/// The built-in rule that ends all of a person's access, in words, when one matched: its
/// name, what it does, its condition and the values it read.
pub fn ending_rule(desired: &Desired) -> Option<Vec<String>> {
    let rule = desired
        .explanations
        .iter()
        .find(|e| e.matched && e.file == BUILT_IN)?;
    let mut lines = vec![format!(
        "rule `{}` (built-in): {}",
        rule.rule,
        removal::built_in_summary(&rule.rule)
    )];
    lines.push(format!("  when: {}", one_line(&rule.condition)));
    lines.extend(values(rule, "  "));
    Some(lines)
}

/// Each action, numbered, with the rule that asked for it, or for a removal the rule that
/// granted what it takes away.
fn actions(desired: &Desired, plan: &[Action], granted: &GrantedBy) -> Vec<String> {
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
            lines.extend(removal::why(desired, granted.of(action)));
            continue;
        };
        let Some(explanation) = by_rule.get(rule) else {
            lines.push(format!("   asked for by `{rule}`"));
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
        match granted.of(action).filter(|before| before != rule) {
            Some(before) if action.is_removal() => {
                lines.extend(removal::why(desired, Some(before)));
            }
            Some(before) => lines.push(format!("   on record from rule `{before}`")),
            None => {}
        }
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

#[cfg(test)]
mod tests;
