//! The shipped `rules/` directory: it loads, and gives the expected plans for the IAM
//! fixtures and for each seed case.

use std::{path::Path, time::Duration};

use super::{case, check_with, current, fixture, person, CONTRACTOR, JOINER, LEAVER, MOVER};
use crate::rules::{explain, plan, CurrentAccess, GrantedBy, RuleSet};

fn shipped() -> RuleSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    RuleSet::load_dir(&dir).unwrap_or_else(|error| panic!("shipped rules: {error}"))
}

/// What fixture 01 leaves on record once its plan is applied.
const AFTER_JOINING: [&str; 5] = [
    "role member",
    "group All staff",
    "group Contributors",
    "share space:901100000100 read",
    "share list:901100000310 edit",
];

#[test]
fn the_shipped_rules_load_with_their_settings() {
    let rules = shipped();

    assert_eq!(
        rules.mapping_names(),
        [
            "all-staff",
            "ops-manager-process-docs",
            "handover-contributors",
            "handover-approvers",
            "marketing-contractor-campaign",
            "agency-creative-review",
            "data-platform-contractor",
        ]
    );
    let settings = rules.settings();
    assert_eq!(settings.brake.max_people, 10);
    assert_eq!(settings.brake.max_percent, 5.0);
    assert_eq!(settings.brake.window, Duration::from_secs(600));
    assert_eq!(settings.reminder.before, Duration::from_secs(7 * 86_400));
    assert_eq!(settings.reminder.list_id.as_deref(), Some("901100000900"));
}

#[test]
fn the_shipped_rules_plan_the_fixture_joiners_mover_and_leaver() {
    let rules = shipped();
    let none = CurrentAccess::default;

    let (employee, hired) = fixture(JOINER);
    check_with(
        "01 joiner",
        &rules,
        case("", employee.clone(), none(), &hired.to_rfc3339()),
        r#"
        role member (all-staff)
        group All staff (all-staff)
        group Contributors (handover-contributors)
        share space:901100000100 read (all-staff)
        share list:901100000310 edit (handover-contributors)
        matched all-staff
        matched handover-contributors
        do invite as member
        do add to group "All staff"
        do add to group "Contributors"
        do share space:901100000100 at read
        do share list:901100000310 at edit
    "#,
    );

    let (contractor, starts) = fixture(CONTRACTOR);
    check_with(
        "02 contractor",
        &rules,
        case("", contractor, none(), &starts.to_rfc3339()),
        r#"
        role guest (data-platform-contractor)
        share list:901100000510 edit until 2026-12-31T23:59:59+00:00 (data-platform-contractor)
        matched data-platform-contractor
        do invite as guest
        do share list:901100000510 at edit until 2026-12-31T23:59:59Z
    "#,
    );

    let (partial, _) = fixture(MOVER);
    check_with(
        "03 mover",
        &rules,
        case(
            "",
            employee.merged_with(&partial),
            current(&AFTER_JOINING),
            "2026-06-01T06:30:02Z",
        ),
        r#"
        role member (all-staff)
        group All staff (all-staff)
        group Approvers (handover-approvers)
        share space:901100000100 read (all-staff)
        share list:901100000310 create (handover-approvers)
        matched all-staff
        matched handover-approvers
        do add to group "Approvers"
        do change list:901100000310 from edit to create
        do remove from group "Contributors"
    "#,
    );

    let (leaver, leaves) = fixture(LEAVER);
    check_with(
        "04 leaver",
        &rules,
        case("", leaver, current(&AFTER_JOINING), &leaves.to_rfc3339()),
        r#"
        matched inactive
        do unshare space:901100000100
        do unshare list:901100000310
        do remove from group "All staff"
        do remove from group "Contributors"
        do remove from the workspace
    "#,
    );
}

#[test]
fn the_shipped_rules_cover_the_other_seed_cases() {
    let rules = shipped();
    let none = CurrentAccess::default;

    let marketing = person(&[
        ("employment_type", "contractor"),
        ("department", "Marketing"),
        ("end_date", "2026-09-30"),
    ]);
    check_with(
        "marketing contractor",
        &rules,
        case("", marketing, none(), "2026-06-01T00:00:00Z"),
        r#"
        role guest (marketing-contractor-campaign)
        share space:901100000400 edit until 2026-09-30T23:59:59+00:00 (marketing-contractor-campaign)
        matched marketing-contractor-campaign
        do invite as guest
        do share space:901100000400 at edit until 2026-09-30T23:59:59Z
    "#,
    );

    let agency = person(&[
        ("employment_type", "partner"),
        ("end_at", "2026-08-15T17:00:00Z"),
        ("end_date", "2026-08-31"),
    ]);
    check_with(
        "agency",
        &rules,
        case("", agency, none(), "2026-06-01T00:00:00Z"),
        r#"
        role guest (agency-creative-review)
        share list:901100000420 comment until 2026-08-15T17:00:00+00:00 (agency-creative-review)
        matched agency-creative-review
        do invite as guest
        do share list:901100000420 at comment until 2026-08-15T17:00:00Z
    "#,
    );

    let open_ended_agency = person(&[("employment_type", "partner")]);
    check_with(
        "agency without a contract end",
        &rules,
        case("", open_ended_agency, none(), "2026-06-01T00:00:00Z"),
        "",
    );

    let ops = person(&[
        ("employment_type", "employee"),
        ("department", "Operations"),
        ("title", "Operations Manager"),
    ]);
    check_with(
        "operations manager",
        &rules,
        case(
            "",
            ops,
            current(&[
                "role member",
                "group All staff",
                "share space:901100000100 read",
            ]),
            "2026-06-01T00:00:00Z",
        ),
        r#"
        role member (all-staff)
        group All staff (all-staff)
        group Operations (ops-manager-process-docs)
        share space:901100000100 read (all-staff)
        share folder:901100000200 edit (ops-manager-process-docs)
        share list:901100000210 edit (ops-manager-process-docs)
        share list:901100000211 edit (ops-manager-process-docs)
        matched all-staff
        matched ops-manager-process-docs
        do add to group "Operations"
        do share folder:901100000200 at edit
        do share list:901100000210 at edit
        do share list:901100000211 at edit
    "#,
    );
}

#[test]
fn explain_names_the_rule_its_condition_and_the_values_it_read() {
    let rules = shipped();
    let (stored, _) = fixture(JOINER);
    let (partial, moved) = fixture(MOVER);
    let now = moved;
    let desired = rules
        .desired(&stored.merged_with(&partial), now)
        .unwrap_or_else(|e| panic!("{e}"));
    let actions = plan(&desired, &current(&AFTER_JOINING), now);

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    let granted = GrantedBy {
        role: Some("all-staff".to_owned()),
        groups: [
            ("All staff", "all-staff"),
            ("Contributors", "handover-contributors"),
        ]
        .map(|(group, rule)| (group.to_owned(), rule.to_owned()))
        .into(),
        shares: [
            ("space:901100000100", "all-staff"),
            ("list:901100000310", "handover-contributors"),
        ]
        .map(|(object, rule)| (object.parse().unwrap(), rule.to_owned()))
        .into(),
    };
    let text = explain(&desired, &actions, &granted).replace(root, "");
    let expected_lines = [
        "3 actions:",
        "1. add to group \"Approvers\"",
        "   rule `handover-approvers` (rules/employees.yaml) matched: \"CS-Team\" in person.roles && person.title.contains(\"Manager\")",
        "   read: person.roles = [\"CS-Team\"], person.title = \"Customer Success Manager\"",
        "2. change list:901100000310 from edit to create",
        "   granted by rule `handover-contributors` (rules/employees.yaml), which no longer matches: \"Sales-Base\" in person.roles",
        "   read now: person.roles = [\"CS-Team\"]",
        "3. remove from group \"Contributors\"",
        "   granted by rule `handover-contributors` (rules/employees.yaml), which no longer matches: \"Sales-Base\" in person.roles",
        "Matched, no action needed (what they give is on record):",
        "- `all-staff` (rules/employees.yaml)",
        "Did not match:",
        "- `ops-manager-process-docs` (rules/employees.yaml)",
        "  when: person.department == \"Operations\" && person.title.contains(\"Manager\")",
        "  read: person.department = \"Customer Success\", person.title = \"Customer Success Manager\"",
        "- `agency-creative-review` (rules/externals.yaml)",
        "  when: person.employment_type == \"partner\" && (person.end_at != null || person.end_date != null)",
    ];
    for expected in expected_lines {
        let found = text.lines().any(|line| line == expected);
        assert!(found, "missing line {expected:?} in:\n{text}");
    }
}

#[test]
fn explain_says_why_a_leaver_gets_nothing() {
    let rules = shipped();
    let (leaver, leaves) = fixture(LEAVER);
    let desired = rules
        .desired(&leaver, leaves)
        .unwrap_or_else(|e| panic!("{e}"));
    let actions = plan(
        &desired,
        &current(&[
            "role member",
            "group All staff",
            "share space:901100000100 read",
        ]),
        leaves,
    );

    let expected = r#"3 actions:
1. unshare space:901100000100
   granted by rule `all-staff`; all access ends: built-in rule `inactive` matched (below)
2. remove from group "All staff"
   granted by rule `all-staff`; all access ends: built-in rule `inactive` matched (below)
3. remove from the workspace
   granted by rule `all-staff`; all access ends: built-in rule `inactive` matched (below)

No ClickUp access is desired:
- `inactive` (built-in)
  when: person.status in ["terminated", "disabled", "deleted"]
  read: person.status = "terminated"
"#;
    let granted = GrantedBy {
        role: Some("all-staff".to_owned()),
        groups: [("All staff".to_owned(), "all-staff".to_owned())].into(),
        shares: [(
            "space:901100000100".parse().unwrap(),
            "all-staff".to_owned(),
        )]
        .into(),
    };
    assert_eq!(explain(&desired, &actions, &granted), expected);
}

#[test]
fn the_managed_objects_and_groups_are_those_the_mappings_and_areas_name() {
    let rules = shipped();

    let objects: Vec<String> = rules
        .named_objects()
        .iter()
        .map(ToString::to_string)
        .collect();
    let groups: Vec<String> = rules.named_groups().into_iter().collect();

    assert_eq!(
        objects,
        [
            "space:901100000100",
            "space:901100000400",
            "folder:901100000200",
            "folder:901100000610",
            "list:901100000210",
            "list:901100000211",
            "list:901100000310",
            "list:901100000420",
            "list:901100000430",
            "list:901100000510",
            "list:901100000710",
        ]
    );
    assert_eq!(
        groups,
        ["All staff", "Approvers", "Contributors", "Operations"]
    );
}
