//! Merge cases: expiry, roles, levels, guests and spaces, missing attributes, failures.

use super::{at, case, check, current, person};
use crate::rules::{CurrentAccess, RuleSet};

#[test]
fn ended_shares_are_left_out_and_future_ends_are_kept() {
    let rules = r#"
mappings:
  - name: past
    when: "true"
    role: member
    shares: [{ list: "1", level: edit, until: 'timestamp("2026-01-01T00:00:00Z")' }]
  - name: future
    when: "true"
    shares:
      - { list: "2", level: read, until: 'timestamp("2026-12-31T00:00:00Z")' }
      - { list: "3", level: read, until: "null" }
      - { list: "4", level: read, until: "now" }
"#;
    let recorded = current(&[
        "role member",
        "share list:1 edit until 2026-01-01T00:00:00Z",
        "share list:2 read until 2026-09-01T00:00:00Z",
    ]);
    check(
        "expiry",
        case(
            rules,
            person(&[("employment_type", "employee")]),
            recorded,
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role member (past)
        share list:2 read until 2026-12-31T00:00:00+00:00 (future)
        share list:3 read (future)
        matched past
        matched future
        do keep list:2 at read, now until 2026-12-31T00:00:00Z
        do share list:3 at read
        do unshare list:1
    "#,
    );
}

#[test]
fn the_highest_role_wins_with_its_custom_role_and_the_default_depends_on_employment() {
    let rules = r#"
mappings:
  - { name: a-guest, when: "true", role: guest }
  - { name: b-admin, when: '"Admins" in person.groups', role: admin, custom_role_id: 4242 }
  - { name: c-member, when: "true", role: member, custom_role_id: 7 }
"#;
    let admin = person(&[("groups", "Admins,Staff")]);
    check(
        "admin wins",
        case(
            rules,
            admin,
            current(&["role member 7"]),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role admin custom 4242 (b-admin)
        matched a-guest
        matched b-admin
        matched c-member
        do change role from member to admin (custom role 4242)
    "#,
    );
    check(
        "only the custom role changes",
        case(
            rules,
            person(&[]),
            current(&["role member"]),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role member custom 7 (c-member)
        matched a-guest
        matched c-member
        do change role from member to member (custom role 7)
    "#,
    );

    let rules = r#"
mappings:
  - { name: boards, when: "true", groups: ["Boards"] }
"#;
    for (employment_type, role) in [
        ("contractor", "guest"),
        ("Vendor", "guest"),
        ("agency", "guest"),
        ("employee", "member"),
        ("intern", "member"),
    ] {
        let row = case(
            rules,
            person(&[("employment_type", employment_type)]),
            CurrentAccess::default(),
            "2026-06-01T00:00:00Z",
        );
        let expected = format!("role {role} (boards)\ngroup Boards (boards)\nmatched boards\ndo invite as {role}\ndo add to group \"Boards\"");
        check(employment_type, row, &expected);
    }
}

#[test]
fn the_highest_level_wins_with_the_latest_end_at_that_level() {
    let rules = r#"
mappings:
  - name: readers
    when: "true"
    role: member
    shares:
      - { list: "1", level: read }
      - { list: "2", level: edit, until: 'timestamp("2026-10-01T00:00:00Z")' }
      - { list: "3", level: edit, until: 'timestamp("2026-10-01T00:00:00Z")' }
  - name: editors
    when: "true"
    shares:
      - { list: "1", level: edit }
      - { list: "2", level: edit, until: 'timestamp("2026-11-01T00:00:00Z")' }
      - { list: "3", level: edit }
      - { list: "4", level: comment, until: 'timestamp("2026-12-01T00:00:00Z")' }
  - name: creators
    when: "true"
    shares: [{ list: "4", level: create, until: 'timestamp("2026-07-01T00:00:00Z")' }]
"#;
    check(
        "levels",
        case(
            rules,
            person(&[]),
            current(&["role member", "share list:1 edit"]),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role member (readers)
        share list:1 edit (editors)
        share list:2 edit until 2026-11-01T00:00:00+00:00 (editors)
        share list:3 edit (editors)
        share list:4 create until 2026-07-01T00:00:00+00:00 (creators)
        matched readers
        matched editors
        matched creators
        do share list:2 at edit until 2026-11-01T00:00:00Z
        do share list:3 at edit
        do share list:4 at create until 2026-07-01T00:00:00Z
    "#,
    );
}

#[test]
fn a_guest_holds_a_space_share_like_a_member() {
    let rules = r#"
mappings:
  - name: externals
    when: person.employment_type != "employee"
    role: guest
    shares: [{ space: "100", level: read }, { list: "410", level: comment }]
  - name: staff
    when: person.employment_type == "employee"
    role: member
    shares: [{ space: "100", level: read }]
"#;
    check(
        "guest",
        case(
            rules,
            person(&[("employment_type", "contractor")]),
            CurrentAccess::default(),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role guest (externals)
        share space:100 read (externals)
        share list:410 comment (externals)
        matched externals
        do invite as guest
        do share space:100 at read
        do share list:410 at comment
    "#,
    );
    check(
        "member",
        case(
            rules,
            person(&[("employment_type", "employee")]),
            current(&["role member", "share space:100 read"]),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role member (staff)
        share space:100 read (staff)
        matched staff
    "#,
    );
}

#[test]
fn missing_attributes_read_as_empty_and_never_fail_except_custom_keys() {
    let rules = r#"
mappings:
  - { name: managers, when: 'person.title.contains("Manager")', groups: ["Managers"] }
  - { name: no-manager, when: 'person.manager.email == ""', groups: ["Unmanaged"] }
  - { name: no-end, when: person.end_date == null && person.end_at == null, groups: ["Permanent"] }
  - { name: custom-flag, when: 'person.custom.approved == "true"', groups: ["Approved"] }
  - { name: guarded-flag, when: 'has(person.custom.approved) && person.custom.approved == "true"', groups: ["Approved"] }
  - { name: no-groups, when: 'size(person.groups) == 0 && person.department == ""', groups: ["Ungrouped"] }
"#;
    check(
        "missing",
        case(
            rules,
            person(&[("employment_type", "employee")]),
            CurrentAccess::default(),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role member (no-manager)
        group Permanent (no-end)
        group Ungrouped (no-groups)
        group Unmanaged (no-manager)
        matched no-manager
        matched no-end
        error custom-flag: `when` failed: No such key: approved
        matched no-groups
        do invite as member
        do add to group "Permanent"
        do add to group "Ungrouped"
        do add to group "Unmanaged"
    "#,
    );
}

#[test]
fn a_rule_failing_at_run_time_does_not_match_and_says_why() {
    let rules = r#"
mappings:
  - { name: list-above-int, when: person.groups > 3, groups: ["A"] }
  - { name: not-a-bool, when: person.title, groups: ["B"] }
  - name: bad-until
    when: "true"
    role: member
    shares: [{ list: "1", level: edit, until: person.title }, { list: "2", level: edit }]
"#;
    check(
        "failures",
        case(
            rules,
            person(&[("title", "Engineer")]),
            CurrentAccess::default(),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role member (bad-until)
        share list:2 edit (bad-until)
        error list-above-int: `when` failed: found no matching overload for '_>_' applied to '(list, int)'
        error not-a-bool: `when` failed: gave string, not a bool
        matched bad-until
        error bad-until: `until` of list:1 failed: gave string, not a timestamp or null; left out
        do invite as member
        do share list:2 at edit
    "#,
    );
}

#[test]
fn an_explanation_lists_the_attributes_its_condition_read() {
    let rules = r#"
mappings:
  - name: ops
    when: person.department == "Operations" && person.title.contains("Manager") && "x" in person.custom
    groups: ["Operations"]
"#;
    let rules = RuleSet::from_sources(&[("ops.yaml", rules)]).unwrap_or_else(|e| panic!("{e}"));
    let someone = person(&[("department", "Sales"), ("custom.x", "1")]);

    let desired = rules.desired(&someone, at("2026-06-01T00:00:00Z"));

    let explanation = desired.map(|desired| desired.explanations[0].clone());
    let explanation = explanation.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (explanation.file.as_str(), explanation.matched),
        ("ops.yaml", false)
    );
    assert_eq!(
        explanation.values,
        [
            ("person.department".to_owned(), r#""Sales""#.to_owned()),
            ("person.title".to_owned(), r#""""#.to_owned()),
            ("person.custom".to_owned(), r#"{"x": "1"}"#.to_owned()),
        ]
    );
}
