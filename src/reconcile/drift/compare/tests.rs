//! Desired against observed, table by table.

use chrono::{Duration, TimeZone};

use super::*;
use crate::rules::{RoleGrant, ShareGrant};

const TEAM: u64 = 9;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn object(text: &str) -> ObjectRef {
    text.parse().unwrap()
}

fn desired(role: Option<WorkspaceRole>, groups: &[&str], shares: &[(&str, Level)]) -> Desired {
    Desired {
        role: role.map(|role| RoleGrant {
            role,
            custom_role_id: None,
            rule: "r".into(),
        }),
        groups: groups.iter().map(|g| (g.to_string(), "r".into())).collect(),
        shares: shares
            .iter()
            .map(|(o, level)| {
                let grant = ShareGrant {
                    level: *level,
                    until: None,
                    rule: "r".into(),
                };
                (object(o), grant)
            })
            .collect(),
        explanations: Vec::new(),
    }
}

fn observed(role: Option<WorkspaceRole>, groups: &[&str], shares: &[(&str, Level)]) -> Observed {
    Observed {
        account: role.map(|role| ObservedAccount {
            user_id: 184,
            role,
            owner: false,
        }),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        shares: shares.iter().map(|(o, l)| (object(o), *l)).collect(),
    }
}

fn scope() -> Scope {
    Scope {
        groups: ["All staff", "Approvers"].map(String::from).into(),
        objects: ["list:1", "list:2", "folder:3", "space:4"]
            .map(object)
            .into(),
    }
}

/// `(kind, object, desired, observed, fix)` of each item, in order.
type Row = (
    DriftKind,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn rows(compared: &Compared) -> Vec<Row> {
    let text = |s: &Option<String>| s.clone();
    compared
        .items
        .iter()
        .map(|i| {
            let fix = i.fix.as_ref().map(Action::describe);
            (
                i.kind,
                i.object.clone(),
                text(&i.desired),
                text(&i.observed),
                fix,
            )
        })
        .collect()
}

fn row(kind: DriftKind, object: &str, desired: &str, seen: &str, fix: &str) -> Row {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    (kind, object.into(), some(desired), some(seen), some(fix))
}

#[test]
fn each_difference_is_one_item_with_its_repair() {
    use DriftKind::*;
    use Level::*;
    use WorkspaceRole::*;
    let cases: Vec<(&str, Desired, Observed, Vec<Row>)> = vec![
        (
            "in step",
            desired(Some(Member), &["All staff"], &[("list:1", Edit)]),
            observed(Some(Member), &["All staff"], &[("list:1", Edit)]),
            vec![],
        ),
        (
            "a share removed by hand, another added by hand",
            desired(Some(Member), &[], &[("list:1", Edit)]),
            observed(Some(Member), &[], &[("list:2", Read)]),
            vec![
                row(Missing, "list:1", "edit", "", "share list:1 at edit"),
                row(Unexpected, "list:2", "", "read", "unshare list:2"),
            ],
        ),
        (
            "a share raised by hand is lowered",
            desired(Some(Member), &[], &[("folder:3", Read)]),
            observed(Some(Member), &[], &[("folder:3", Create)]),
            vec![row(
                LevelDiffers,
                "folder:3",
                "read",
                "create",
                "change folder:3 from create to read",
            )],
        ),
        (
            "objects and groups the router does not manage are left alone",
            desired(Some(Member), &[], &[]),
            observed(Some(Member), &["Design"], &[("list:99", Edit)]),
            vec![],
        ),
        (
            "a group joined and a group left by hand",
            desired(Some(Member), &["All staff"], &[]),
            observed(Some(Member), &["Approvers"], &[]),
            vec![
                row(
                    Missing,
                    "All staff",
                    "member",
                    "",
                    "add to group \"All staff\"",
                ),
                row(
                    Unexpected,
                    "Approvers",
                    "",
                    "member",
                    "remove from group \"Approvers\"",
                ),
            ],
        ),
        (
            "an admin by hand",
            desired(Some(Member), &[], &[]),
            observed(Some(Admin), &[], &[]),
            vec![row(
                LevelDiffers,
                "workspace:9",
                "member",
                "admin",
                "change role from admin to member",
            )],
        ),
        (
            "no account: the invitation and everything after it",
            desired(Some(Member), &["All staff"], &[("list:1", Edit)]),
            observed(None, &[], &[]),
            vec![
                row(Missing, "workspace:9", "member", "", "invite as member"),
                row(
                    Missing,
                    "All staff",
                    "member",
                    "",
                    "add to group \"All staff\"",
                ),
                row(Missing, "list:1", "edit", "", "share list:1 at edit"),
            ],
        ),
        (
            "an account nobody should have: its removal repairs all",
            desired(None, &[], &[]),
            observed(Some(Member), &["All staff"], &[("list:1", Edit)]),
            vec![
                row(
                    Unexpected,
                    "workspace:9",
                    "",
                    "member",
                    "remove from the workspace",
                ),
                row(Unexpected, "All staff", "", "member", ""),
                row(Unexpected, "list:1", "", "edit", ""),
            ],
        ),
        (
            "nobody, no account: nothing",
            desired(None, &[], &[]),
            observed(None, &[], &[]),
            vec![],
        ),
        (
            "a Space share cannot be seen: unchecked, not missing",
            desired(Some(Member), &[], &[("space:4", Read)]),
            observed(Some(Member), &[], &[]),
            vec![],
        ),
    ];

    for (name, desired, observed, expected) in cases {
        let compared = compare("p1", TEAM, &desired, &observed, &scope(), now());

        assert_eq!(rows(&compared), expected, "{name}");
    }
}

#[test]
fn space_shares_are_unchecked_and_ended_shares_not_desired() {
    let mut wanted = desired(
        Some(WorkspaceRole::Member),
        &[],
        &[("space:4", Level::Read), ("list:1", Level::Edit)],
    );
    let ended = wanted.shares.get_mut(&object("list:1")).unwrap();
    ended.until = Some(now() - Duration::seconds(1));
    let seen = observed(Some(WorkspaceRole::Member), &[], &[("list:1", Level::Edit)]);

    let compared = compare("p1", TEAM, &wanted, &seen, &scope(), now());

    assert_eq!(compared.unchecked, vec![object("space:4")]);
    assert_eq!(
        rows(&compared),
        vec![row(
            DriftKind::Unexpected,
            "list:1",
            "",
            "edit",
            "unshare list:1"
        )]
    );
}

#[test]
fn the_owner_is_never_compared_and_repairs_come_in_apply_order() {
    let mut owner = observed(Some(WorkspaceRole::Admin), &["Approvers"], &[]);
    owner.account = owner.account.map(|a| ObservedAccount { owner: true, ..a });
    let nothing = desired(None, &[], &[]);
    assert_eq!(
        compare("p1", TEAM, &nothing, &owner, &scope(), now()),
        Compared::default()
    );

    let wanted = desired(
        Some(WorkspaceRole::Member),
        &["All staff"],
        &[("list:1", Level::Read), ("list:2", Level::Edit)],
    );
    let seen = observed(None, &[], &[]);
    let mut compared = compare("p1", TEAM, &wanted, &seen, &scope(), now());
    compared.items.reverse();

    let order: Vec<String> = fixes(&compared.items)
        .iter()
        .map(Action::describe)
        .collect();

    assert_eq!(order[0], "invite as member");
    assert_eq!(order.len(), 4);
}
