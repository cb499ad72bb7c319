//! Plans in words, table-driven: rules, a person, what is on record and which rule granted
//! it in; the lines the explanation must hold out.

use std::collections::BTreeMap;

use crate::rules::{
    explain::{ending_rule, explain, GrantedBy},
    plan,
    tests::{at, current, person},
    Identity, RuleSet,
};

const RULES: &str = r#"
mappings:
  - name: staff
    when: person.status == "active" && person.employment_type == "employee"
    role: member
    groups: ["Staff"]
    shares:
      - { list: "1", level: read }
  - name: sales
    when: person.department == "Sales"
    groups: ["Sales"]
    shares:
      - { list: "1", level: edit }
"#;

const NOW: &str = "2026-06-01T00:00:00Z";

/// Everything `staff` and `sales` give, as the worker records it.
const ON_RECORD: [&str; 4] = [
    "role member",
    "group Staff",
    "group Sales",
    "share list:1 edit",
];

fn granted(rules: &[(&str, &str)]) -> GrantedBy {
    let mut granted = GrantedBy::default();
    for (what, rule) in rules {
        let rule = rule.to_string();
        match what.split_once(' ') {
            Some(("role", _)) => granted.role = Some(rule),
            Some(("group", group)) => {
                granted.groups.insert(group.to_owned(), rule);
            }
            Some(("share", object)) => {
                granted.shares.insert(object.parse().unwrap(), rule);
            }
            _ => panic!("not a grant: {what}"),
        }
    }
    granted
}

fn sales_employee() -> Identity {
    person(&[
        ("status", "active"),
        ("employment_type", "employee"),
        ("department", "Sales"),
    ])
}

fn support_employee() -> Identity {
    person(&[
        ("status", "active"),
        ("employment_type", "employee"),
        ("department", "Support"),
    ])
}

fn text(who: &Identity, record: &[&str], by: &GrantedBy) -> String {
    let rules = RuleSet::from_sources(&[("test.yaml", RULES)]).unwrap();
    let desired = rules.desired(who, at(NOW)).unwrap();
    let actions = plan(&desired, &current(record), at(NOW));
    explain(&desired, &actions, by)
}

#[test]
fn each_removal_names_the_rule_that_granted_it_and_why_it_no_longer_does() {
    let sales_on_record = [
        ("role member", "staff"),
        ("group Staff", "staff"),
        ("group Sales", "sales"),
        ("share list:1", "sales"),
    ];
    let terminated = person(&[("status", "terminated"), ("employment_type", "employee")]);
    type Case<'a> = (&'a str, Identity, &'a [&'a str], GrantedBy, &'a [&'a str]);
    let cases: [Case; 6] = [
        (
            "the granting rule no longer matches: its condition, the values read now",
            support_employee(),
            &ON_RECORD,
            granted(&sales_on_record),
            &[
                "1. change list:1 from edit to read",
                "   rule `staff` (test.yaml) matched: person.status == \"active\" && person.employment_type == \"employee\"",
                "   granted by rule `sales` (test.yaml), which no longer matches: person.department == \"Sales\"",
                "   read now: person.department = \"Support\"",
                "2. remove from group \"Sales\"",
            ],
        ),
        (
            "the granting rule left the rule files",
            sales_employee(),
            &["role member", "group Staff", "group Sales", "group Old", "share list:1 edit"],
            granted(&[("group Old", "retired-rule")]),
            &[
                "1. remove from group \"Old\"",
                "   granted by rule `retired-rule`, which is no longer in the rule files",
            ],
        ),
        (
            "an access request's share that ended",
            sales_employee(),
            &["role member", "group Staff", "group Sales", "share list:1 edit", "share list:9 read"],
            granted(&[("share list:9", "request:86b1x2y3z")]),
            &[
                "1. unshare list:9",
                "   granted by access request 86b1x2y3z, which gives it no more (it ended or was revoked)",
            ],
        ),
        (
            "a leaver: the built-in rule ends everything, each grant still names its rule",
            terminated,
            &ON_RECORD,
            granted(&sales_on_record),
            &[
                "1. unshare list:1",
                "   granted by rule `sales`; all access ends: built-in rule `inactive` matched (below)",
                "4. remove from the workspace",
                "   granted by rule `staff`; all access ends: built-in rule `inactive` matched (below)",
                "- `inactive` (built-in)",
                "  read: person.status = \"terminated\"",
            ],
        ),
        (
            "a grant on record without its rule",
            support_employee(),
            &["role member", "group Staff", "group Sales", "share list:1 read"],
            GrantedBy::default(),
            &[
                "1. remove from group \"Sales\"",
                "   on record without a rule; no rule asks for it",
            ],
        ),
        (
            "nothing to change: the rules that keep the access are named",
            sales_employee(),
            &ON_RECORD,
            granted(&sales_on_record),
            &[
                "No changes.",
                "Matched, no action needed (what they give is on record):",
                "- `staff` (test.yaml)",
                "- `sales` (test.yaml)",
                "  read: person.department = \"Sales\"",
            ],
        ),
    ];

    for (name, who, record, by, expected) in cases {
        let text = text(&who, record, &by);

        for line in expected {
            assert!(
                text.lines().any(|l| l == *line),
                "{name}: missing line {line:?} in:\n{text}"
            );
        }
        assert!(!text.contains("no rule asks for this"), "{name}:\n{text}");
    }
}

#[test]
fn the_rule_on_record_is_named_beside_a_change_another_rule_asks_for() {
    let who = person(&[
        ("status", "active"),
        ("employment_type", "employee"),
        ("department", "Sales"),
    ]);
    let by = GrantedBy {
        shares: BTreeMap::from([("list:1".parse().unwrap(), "staff".to_owned())]),
        ..GrantedBy::default()
    };

    let text = text(
        &who,
        &[
            "role member",
            "group Staff",
            "group Sales",
            "share list:1 read",
        ],
        &by,
    );

    assert!(
        text.lines()
            .any(|l| l == "1. change list:1 from read to edit"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "   on record from rule `staff`"),
        "{text}"
    );
}

#[test]
fn the_ending_rule_says_what_it_does_and_what_it_read() {
    let rules = RuleSet::from_sources(&[("test.yaml", RULES)]).unwrap();
    let cases = [
        (
            person(&[("status", "disabled")]),
            Some(vec![
                "rule `inactive` (built-in): the IAM ended the person (leaver, disable or deletion): remove the ClickUp account, close every grant",
                "  when: person.status in [\"terminated\", \"disabled\", \"deleted\"]",
                "  read: person.status = \"disabled\"",
            ]),
        ),
        (
            person(&[("status", "active"), ("end_at", "2026-05-31T00:00:00Z")]),
            Some(vec![
                "rule `ended` (built-in): the person's end date passed: remove their ClickUp access, close every grant",
            ]),
        ),
        (sales_employee(), None),
    ];

    for (who, expected) in cases {
        let desired = rules.desired(&who, at(NOW)).unwrap();

        let lines = ending_rule(&desired);

        match (lines, expected) {
            (Some(lines), Some(expected)) => {
                for (line, expected) in lines.iter().zip(&expected) {
                    assert_eq!(line, expected);
                }
            }
            (None, None) => {}
            (lines, expected) => panic!("{lines:?} != {expected:?}"),
        }
    }
}
