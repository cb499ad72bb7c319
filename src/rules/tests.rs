//! Desired state and plans, table-driven through [`check`]: rules and a person in, a summary of
//! the desired access, the plan and the explanations out.

mod lifecycle;
mod merging;
mod shipped;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::*;

pub(super) const JOINER: &str = include_str!("../../tests/fixtures/iam/01-joiner-employee.json");
pub(super) const CONTRACTOR: &str =
    include_str!("../../tests/fixtures/iam/02-joiner-contractor-end-date.json");
pub(super) const MOVER: &str =
    include_str!("../../tests/fixtures/iam/03-mover-dept-title-role.json");
pub(super) const LEAVER: &str = include_str!("../../tests/fixtures/iam/04-leaver-terminated.json");

/// One row: rules (one file, `test.yaml`), a person, what is on record, and when.
pub(super) struct Case<'a> {
    pub rules: &'a str,
    pub person: Identity,
    pub current: CurrentAccess,
    pub now: &'a str,
}

pub(super) fn case<'a>(
    rules: &'a str,
    person: Identity,
    current: CurrentAccess,
    now: &'a str,
) -> Case<'a> {
    Case {
        rules,
        person,
        current,
        now,
    }
}

/// Evaluates `case` and compares the summary line by line with `expected`.
pub(super) fn check(name: &str, case: Case, expected: &str) {
    let rules = RuleSet::from_sources(&[("test.yaml", case.rules)])
        .unwrap_or_else(|error| panic!("{name}: rules do not load: {error}"));
    check_with(name, &rules, case, expected);
}

/// [`check`] with rules already loaded (`case.rules` is not read).
pub(super) fn check_with(name: &str, rules: &RuleSet, case: Case, expected: &str) {
    let now = at(case.now);
    let desired = rules
        .desired(&case.person, now)
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let actions = plan(&desired, &case.current, now);

    let actual = summary(&desired, &actions);
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        actual,
        expected,
        "{name}\n{}",
        explain(&desired, &actions, &GrantedBy::default())
    );
}

/// `role`, `group`, `share`, `matched` and `error` lines for the desired state, then `do` lines
/// for the plan.
fn summary(desired: &Desired, actions: &[Action]) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(role) = &desired.role {
        let custom = role
            .custom_role_id
            .map(|id| format!(" custom {id}"))
            .unwrap_or_default();
        lines.push(format!("role {}{custom} ({})", role.role, role.rule));
    }
    for (group, rule) in &desired.groups {
        lines.push(format!("group {group} ({rule})"));
    }
    for (object, share) in &desired.shares {
        let until = share
            .until
            .map(|until| format!(" until {}", until.to_rfc3339()));
        let until = until.unwrap_or_default();
        lines.push(format!(
            "share {object} {}{until} ({})",
            share.level, share.rule
        ));
    }
    for explanation in &desired.explanations {
        if explanation.matched {
            lines.push(format!("matched {}", explanation.rule));
        }
        if let Some(error) = &explanation.error {
            lines.push(format!("error {}: {error}", explanation.rule));
        }
    }
    lines.extend(
        actions
            .iter()
            .map(|action| format!("do {}", action.describe())),
    );
    lines
}

pub(super) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("{text}: {error}"))
        .to_utc()
}

/// A person from `(attribute, value)` pairs, through [`Identity::from_iam_user`]: `groups` and
/// `roles` are comma-separated names, `manager.email` and `custom.key` fill nested objects.
pub(super) fn person(attributes: &[(&str, &str)]) -> Identity {
    let mut user = Map::from_iter([("id".to_owned(), json!("u-1"))]);
    let mut profile = Map::new();
    for &(attribute, value) in attributes {
        let value = match attribute {
            "groups" | "roles" => json!(value
                .split(',')
                .map(|name| json!({ "id": format!("cn={name}"), "name": name }))
                .collect::<Vec<_>>()),
            _ => json!(value),
        };
        match attribute.split_once('.') {
            Some((outer, inner)) => {
                let nested = profile.entry(outer).or_insert_with(|| json!({}));
                nested[inner] = value;
            }
            None if attribute == "id" => {
                user.insert(attribute.to_owned(), value);
            }
            None => {
                profile.insert(attribute.to_owned(), value);
            }
        }
    }
    user.insert("profile".to_owned(), Value::Object(profile));
    Identity::from_iam_user(&Value::Object(user)).unwrap_or_else(|error| panic!("{error}"))
}

/// A fixture's person and the moment it takes effect (`effective_at`, else `time`).
pub(super) fn fixture(event: &str) -> (Identity, DateTime<Utc>) {
    let event: Value = serde_json::from_str(event).unwrap_or_else(|error| panic!("{error}"));
    let identity = Identity::from_iam_user(&event["data"]["user"]);
    let when = event["data"]["effective_at"]
        .as_str()
        .or(event["time"].as_str());
    (
        identity.unwrap_or_else(|error| panic!("{error}")),
        at(when.unwrap_or_default()),
    )
}

/// What is on record, from lines: `role member`, `role admin 42`, `group Name`,
/// `share list:1 edit`, `share list:1 edit until 2026-12-31T23:59:59Z`.
pub(super) fn current(lines: &[&str]) -> CurrentAccess {
    let mut current = CurrentAccess::default();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["role", role] => current.role = Some((parse(role), None)),
            ["role", role, custom] => current.role = Some((parse(role), Some(parse(custom)))),
            ["group", ..] => {
                current.groups.insert(line["group ".len()..].to_owned());
            }
            ["share", object, level] => {
                current.shares.insert(parse(object), (parse(level), None));
            }
            ["share", object, level, "until", until] => {
                current
                    .shares
                    .insert(parse(object), (parse(level), Some(at(until))));
            }
            _ => panic!("not a record line: {line}"),
        }
    }
    current
}

fn parse<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .unwrap_or_else(|error| panic!("{text}: {error}"))
}

#[test]
fn a_rule_set_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RuleSet>();
}
