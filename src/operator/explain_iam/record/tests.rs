//! The grants as the applier would leave them, table-driven: grants on record and a plan in,
//! the grants (each with its rule) out.

use chrono::DateTime;

use super::{apply, describe, granted_by};
use crate::{
    rules::{Action, Level, WorkspaceRole},
    store::{Grant, GrantKind},
};

fn grant(kind: GrantKind, object: &str, level: &str, rule: &str) -> Grant {
    Grant {
        id: 1,
        iam_id: "u-1".into(),
        kind,
        object: object.into(),
        level: level.into(),
        custom_role_id: None,
        rule: rule.into(),
        event_id: "e".into(),
        since: 0,
        until: None,
    }
}

fn on_record() -> Vec<Grant> {
    vec![
        grant(GrantKind::Role, "workspace:1", "member", "staff"),
        grant(GrantKind::Group, "Sales", "member", "sales"),
        grant(GrantKind::Share, "list:1", "edit", "sales"),
    ]
}

/// A plan carried out on grants, and what it leaves (`describe` and the rule of each).
struct Case {
    name: &'static str,
    record: Vec<Grant>,
    plan: Vec<Action>,
    left: Vec<&'static str>,
}

fn case(
    name: &'static str,
    record: Vec<Grant>,
    plan: Vec<Action>,
    left: Vec<&'static str>,
) -> Case {
    Case {
        name,
        record,
        plan,
        left,
    }
}

#[test]
fn each_action_leaves_the_grants_the_applier_would() {
    let until = DateTime::parse_from_rfc3339("2026-12-31T23:59:59Z")
        .unwrap()
        .to_utc();
    let cases = [
        case(
            "a joiner's plan opens a grant per action, each with its rule",
            Vec::new(),
            vec![
                Action::Invite {
                    role: WorkspaceRole::Guest,
                    custom_role_id: None,
                    rule: "contractors".into(),
                },
                Action::AddToGroup {
                    group: "Data".into(),
                    rule: "contractors".into(),
                },
                Action::Share {
                    object: "list:9".parse().unwrap(),
                    level: Level::Edit,
                    until: Some(until),
                    rule: "contractors".into(),
                },
            ],
            vec![
                "role guest by contractors",
                "group \"Data\" by contractors",
                "share list:9 at edit until 2026-12-31T23:59:59Z by contractors",
            ],
        ),
        case(
            "a change replaces the grant, with the rule that asked for it",
            on_record(),
            vec![
                Action::ChangeShare {
                    object: "list:1".parse().unwrap(),
                    from: Level::Edit,
                    to: Level::Create,
                    until: None,
                    rule: "approvers".into(),
                },
                Action::ChangeRole {
                    from: WorkspaceRole::Member,
                    to: WorkspaceRole::Admin,
                    custom_role_id: Some(7),
                    rule: "admins".into(),
                },
            ],
            vec![
                "group \"Sales\" by sales",
                "share list:1 at create by approvers",
                "role admin by admins",
            ],
        ),
        case(
            "removals close what they name, the account last",
            on_record(),
            vec![
                Action::Unshare {
                    object: "list:1".parse().unwrap(),
                },
                Action::RemoveFromGroup {
                    group: "Sales".into(),
                },
                Action::RemoveFromWorkspace,
            ],
            vec![],
        ),
        case(
            "a group of another name stays",
            on_record(),
            vec![Action::RemoveFromGroup {
                group: "Support".into(),
            }],
            vec![
                "role member by staff",
                "group \"Sales\" by sales",
                "share list:1 at edit by sales",
            ],
        ),
    ];

    for Case {
        name,
        mut record,
        plan,
        left,
    } in cases
    {
        for action in &plan {
            apply(&mut record, "u-1", action);
        }

        let after: Vec<String> = record
            .iter()
            .map(|g| format!("{} by {}", describe(g), g.rule))
            .collect();
        assert_eq!(after, left, "{name}");
    }
}

#[test]
fn the_rule_behind_each_grant_is_read_for_the_removals() {
    let granted = granted_by(&on_record());

    assert_eq!(granted.role.as_deref(), Some("staff"));
    assert_eq!(granted.groups["Sales"], "sales");
    assert_eq!(granted.shares[&"list:1".parse().unwrap()], "sales");
}
