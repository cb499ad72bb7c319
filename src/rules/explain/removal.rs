//! Why a removal takes something away: the rule on record that granted it, and why that rule
//! gives it no more (it no longer matches, with the values it read now; it left the rule
//! files; it still matches but no longer gives it), or the built-in rule that ends everything.

use crate::rules::desired::{Desired, Explanation, BUILT_IN};

/// The prefix of the grants' `rule` for access an approved request gave.
const REQUEST: &str = "request:";

/// Lines under a removal: `granted` is the rule on record behind what it takes away.
pub(super) fn why(desired: &Desired, granted: Option<&str>) -> Vec<String> {
    let ending = desired
        .explanations
        .iter()
        .find(|e| e.matched && e.file == BUILT_IN);
    if let Some(ending) = ending {
        let rule = &ending.rule;
        let line = match granted {
            Some(granted) => format!(
                "   granted by {}; all access ends: built-in rule `{rule}` matched (below)",
                origin(granted)
            ),
            None => format!("   all access ends: built-in rule `{rule}` matched (below)"),
        };
        return vec![line];
    }

    let Some(granted) = granted else {
        return vec!["   on record without a rule; no rule asks for it".to_owned()];
    };
    if let Some(task) = granted.strip_prefix(REQUEST) {
        let line = match desired.role {
            Some(_) => format!(
                "   granted by access request {task}, which gives it no more (it ended or was revoked)"
            ),
            None => format!(
                "   granted by access request {task}; requests only add to an account the rules keep, and no rule keeps this one"
            ),
        };
        return vec![line];
    }
    let Some(rule) = desired.explanations.iter().find(|e| e.rule == granted) else {
        return vec![format!(
            "   granted by rule `{granted}`, which is no longer in the rule files"
        )];
    };
    no_longer(rule)
}

/// What a built-in rule does, for the line that names it.
pub(super) fn built_in_summary(rule: &str) -> &'static str {
    match rule {
        "inactive" => {
            "the IAM ended the person (leaver, disable or deletion): remove the ClickUp account, close every grant"
        }
        "ended" => "the person's end date passed: remove their ClickUp access, close every grant",
        _ => "all access ends",
    }
}

/// Why a rule on record gives something no more.
fn no_longer(rule: &Explanation) -> Vec<String> {
    let Explanation {
        rule: name, file, ..
    } = rule;
    let condition = super::one_line(&rule.condition);
    let mut lines = match (rule.matched, &rule.error) {
        (false, Some(error)) => vec![format!(
            "   granted by rule `{name}` ({file}), which no longer matches ({error}): {condition}"
        )],
        (false, None) => vec![format!(
            "   granted by rule `{name}` ({file}), which no longer matches: {condition}"
        )],
        (true, Some(error)) => vec![format!(
            "   granted by rule `{name}` ({file}), which still matches but no longer gives it: {error}"
        )],
        (true, None) => vec![format!(
            "   granted by rule `{name}` ({file}), which still matches but no longer gives it (its share ended, or its file changed)"
        )],
    };
    if !rule.matched {
        lines.extend(super::values(rule, "   ").map(|read| read.replacen("read:", "read now:", 1)));
    }
    lines
}

fn origin(granted: &str) -> String {
    match granted.strip_prefix(REQUEST) {
        Some(task) => format!("access request {task}"),
        None => format!("rule `{granted}`"),
    }
}
