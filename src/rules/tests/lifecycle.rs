//! Lifecycle cases: joiners, a mover, a leaver, disabled and ended identities, plan order.

use super::{case, check, current, fixture, person, CONTRACTOR, JOINER, LEAVER, MOVER};
use crate::rules::CurrentAccess;

const STAFF_AND_CONTRACTORS: &str = r#"
mappings:
  - name: staff
    when: person.status == "active" && person.employment_type == "employee"
    role: member
    groups: ["All staff"]
    shares: [{ space: "100", level: read }]
  - name: contractors
    when: person.employment_type == "contractor"
    shares: [{ list: "410", level: edit, until: person.end_date }]
  - name: contributors
    when: '"Sales-Base" in person.roles'
    groups: ["Contributors"]
    shares: [{ list: "310", level: edit }]
  - name: approvers
    when: '"CS-Team" in person.roles && person.title.contains("Manager")'
    groups: ["Approvers"]
    shares: [{ list: "310", level: create }]
"#;

#[test]
fn joiners_from_the_fixtures_are_invited_with_their_groups_and_shares() {
    let (employee, hired) = fixture(JOINER);
    check(
        "employee",
        case(
            STAFF_AND_CONTRACTORS,
            employee,
            CurrentAccess::default(),
            &hired.to_rfc3339(),
        ),
        r#"
        role member (staff)
        group All staff (staff)
        group Contributors (contributors)
        share space:100 read (staff)
        share list:310 edit (contributors)
        matched staff
        matched contributors
        do invite as member
        do add to group "All staff"
        do add to group "Contributors"
        do share space:100 at read
        do share list:310 at edit
    "#,
    );

    let (contractor, starts) = fixture(CONTRACTOR);
    check(
        "contractor: a guest by default, until the end of the end date",
        case(
            STAFF_AND_CONTRACTORS,
            contractor,
            CurrentAccess::default(),
            &starts.to_rfc3339(),
        ),
        r#"
        role guest (contractors)
        share list:410 edit until 2026-12-31T23:59:59+00:00 (contractors)
        matched contractors
        do invite as guest
        do share list:410 at edit until 2026-12-31T23:59:59Z
    "#,
    );
}

#[test]
fn a_mover_from_contributor_to_approver_swaps_group_and_raises_the_level() {
    let (stored, _) = fixture(JOINER);
    let (partial, _) = fixture(MOVER);
    let recorded = current(&[
        "role member",
        "group All staff",
        "group Contributors",
        "share space:100 read",
        "share list:310 edit",
    ]);
    check(
        "mover",
        case(
            STAFF_AND_CONTRACTORS,
            stored.merged_with(&partial),
            recorded,
            "2026-06-01T06:30:02Z",
        ),
        r#"
        role member (staff)
        group All staff (staff)
        group Approvers (approvers)
        share space:100 read (staff)
        share list:310 create (approvers)
        matched staff
        matched approvers
        do add to group "Approvers"
        do change list:310 from edit to create
        do remove from group "Contributors"
    "#,
    );
}

#[test]
fn a_leaver_loses_everything_on_record() {
    let (leaver, leaves) = fixture(LEAVER);
    let recorded = current(&["role member", "group All staff", "share space:100 read"]);
    check(
        "leaver",
        case(
            STAFF_AND_CONTRACTORS,
            leaver,
            recorded.clone(),
            &leaves.to_rfc3339(),
        ),
        r#"
        matched inactive
        do unshare space:100
        do remove from group "All staff"
        do remove from the workspace
    "#,
    );

    let removal = crate::rules::plan_removal(&recorded);
    let described: Vec<String> = removal.iter().map(|action| action.describe()).collect();
    assert_eq!(
        described,
        [
            "unshare space:100",
            "remove from group \"All staff\"",
            "remove from the workspace"
        ]
    );
    assert!(removal.iter().all(|action| action.is_removal()));
    assert!(crate::rules::plan_removal(&CurrentAccess::default()).is_empty());
}

#[test]
fn disabled_and_ended_identities_get_nothing() {
    let recorded = current(&[
        "role guest",
        "share list:410 edit until 2026-12-31T23:59:59Z",
    ]);
    let disabled = person(&[("employment_type", "employee"), ("status", "Disabled")]);
    check(
        "disabled",
        case(
            STAFF_AND_CONTRACTORS,
            disabled,
            CurrentAccess::default(),
            "2026-06-01T00:00:00Z",
        ),
        "matched inactive",
    );

    let (contractor, _) = fixture(CONTRACTOR);
    check(
        "contract ended",
        case(
            STAFF_AND_CONTRACTORS,
            contractor,
            recorded,
            "2027-01-01T00:00:00Z",
        ),
        r#"
        matched ended
        do unshare list:410
        do remove from the workspace
    "#,
    );
}

#[test]
fn a_plan_raises_and_adds_before_it_lowers_and_removes() {
    let rules = r#"
mappings:
  - name: narrowed
    when: "true"
    role: guest
    groups: ["New"]
    shares: [{ list: "1", level: edit }, { list: "2", level: edit }, { list: "3", level: read }]
"#;
    let recorded = current(&[
        "role member",
        "group Old",
        "share list:1 create",
        "share list:2 read",
        "share space:100 read",
    ]);
    check(
        "order",
        case(rules, person(&[]), recorded, "2026-06-01T00:00:00Z"),
        r#"
        role guest (narrowed)
        group New (narrowed)
        share list:1 edit (narrowed)
        share list:2 edit (narrowed)
        share list:3 read (narrowed)
        matched narrowed
        do change role from member to guest
        do add to group "New"
        do change list:2 from read to edit
        do share list:3 at read
        do change list:1 from create to edit
        do unshare space:100
        do remove from group "Old"
    "#,
    );
}

#[test]
fn removals_are_what_takes_access_away() {
    use crate::rules::{Action, Level, ObjectKind, ObjectRef, WorkspaceRole};

    let list = ObjectRef::new(ObjectKind::List, "901100000210");
    let rule = String::from("r");
    let share_change = |from, to| Action::ChangeShare {
        object: list.clone(),
        from,
        to,
        until: None,
        rule: rule.clone(),
    };
    let role_change = |from, to| Action::ChangeRole {
        from,
        to,
        custom_role_id: None,
        rule: rule.clone(),
    };
    let cases = [
        (
            Action::Invite {
                role: WorkspaceRole::Guest,
                custom_role_id: None,
                rule: rule.clone(),
            },
            false,
            "invite as guest",
        ),
        (
            role_change(WorkspaceRole::Guest, WorkspaceRole::Admin),
            false,
            "change role from guest to admin",
        ),
        (
            role_change(WorkspaceRole::Admin, WorkspaceRole::Member),
            true,
            "change role from admin to member",
        ),
        (
            Action::AddToGroup {
                group: "G".into(),
                rule: rule.clone(),
            },
            false,
            "add to group \"G\"",
        ),
        (
            Action::RemoveFromGroup { group: "G".into() },
            true,
            "remove from group \"G\"",
        ),
        (
            share_change(Level::Comment, Level::Create),
            false,
            "change list:901100000210 from comment to create",
        ),
        (
            share_change(Level::Edit, Level::Read),
            true,
            "change list:901100000210 from edit to read",
        ),
        (
            share_change(Level::Edit, Level::Edit),
            false,
            "keep list:901100000210 at edit, now with no end",
        ),
        (
            Action::Unshare {
                object: list.clone(),
            },
            true,
            "unshare list:901100000210",
        ),
        (
            Action::RemoveFromWorkspace,
            true,
            "remove from the workspace",
        ),
    ];
    for (action, is_removal, described) in cases {
        assert_eq!(action.is_removal(), is_removal, "{action:?}");
        assert_eq!(action.describe(), described);
    }
}
