//! Selections, table-driven: by each attribute, whatever the case, with AND, by membership,
//! and who is never selected. Shared builders for `change_tests`.

use serde_json::{json, Value};

use super::*;
use crate::store::IdentityRecord;

pub(super) fn record(
    id: &str,
    status: &str,
    account: Option<i64>,
    profile: Value,
) -> IdentityRecord {
    IdentityRecord {
        iam_id: id.into(),
        email: None,
        status: status.into(),
        attributes: json!({ "id": id, "profile": profile }),
        clickup_user_id: account,
        event_time: 1,
        enabled_at: None,
    }
}

pub(super) fn risk_analyst() -> Value {
    json!({"department": "Risk", "location": "Boston", "title": "Analyst",
        "groups": [{"name": "risk-team"}, {"name": "all-staff"}], "employment_type": "Employee",
        "division": "Finance", "cost_center": "CC-1", "roles": [{"name": "Reviewer"}]})
}

/// Three active people with accounts 1, 2, 3.
pub(super) fn people() -> Vec<IdentityRecord> {
    vec![
        record("u1", "active", Some(1), risk_analyst()),
        record(
            "u2",
            "active",
            Some(2),
            json!({"department": "Risk", "location": "Oslo", "title": "Manager",
                "groups": ["all-staff"], "employment_type": "contractor", "division": "Finance",
                "cost_center": "CC-2", "roles": [{"id": "Approver"}]}),
        ),
        record(
            "u3",
            "active",
            Some(3),
            json!({"department": "Operations", "location": "Boston", "title": "Analyst",
                "groups": [{"name": "ops"}], "employment_type": "employee", "division": "Ops",
                "cost_center": "CC-1", "roles": [{"name": "Reviewer"}, {"name": "Approver"}]}),
        ),
    ]
}

pub(super) fn ids(people: Vec<&Person>) -> Vec<&str> {
    people
        .into_iter()
        .map(|person| person.iam_id.as_str())
        .collect()
}

pub(super) fn one(attribute: Attribute, value: &str) -> Vec<Condition> {
    vec![Condition::new(attribute, value)]
}

#[test]
fn attributes_parse_from_their_names_in_any_case() {
    let cases = [
        ("department", Some(Attribute::Department)),
        ("Location", Some(Attribute::Location)),
        (" COST_CENTER ", Some(Attribute::CostCenter)),
        ("employment_type", Some(Attribute::EmploymentType)),
        ("groups", None),
        ("", None),
    ];
    for (name, expected) in cases {
        assert_eq!(Attribute::parse(name), expected, "{name:?}");
    }
    for attribute in Attribute::ALL {
        assert_eq!(Attribute::parse(attribute.name()), Some(attribute));
    }
}

#[test]
fn each_attribute_selects_the_people_holding_it() {
    let directory = Directory::from_records(people());
    let cases = [
        (Attribute::Department, "Risk", vec!["u1", "u2"]),
        (Attribute::Location, "Boston", vec!["u1", "u3"]),
        (Attribute::Title, "Analyst", vec!["u1", "u3"]),
        (Attribute::Group, "all-staff", vec!["u1", "u2"]),
        (Attribute::EmploymentType, "contractor", vec!["u2"]),
        (Attribute::Division, "Ops", vec!["u3"]),
        (Attribute::CostCenter, "CC-1", vec!["u1", "u3"]),
        (Attribute::Role, "Approver", vec!["u2", "u3"]),
        (Attribute::Department, "Legal", vec![]),
        (Attribute::Location, "", vec![]),
    ];

    for (attribute, value, expected) in cases {
        let selected = ids(directory.select(&one(attribute, value)));

        assert_eq!(selected, expected, "{} = {value:?}", attribute.name());
    }
}

#[test]
fn values_match_whatever_their_case_and_surrounding_spaces() {
    let mut records = people();
    records.push(record(
        "u4",
        "active",
        Some(4),
        json!({"department": "Übersee", "location": "BOSTON"}),
    ));
    let directory = Directory::from_records(records);
    let cases = [
        (Attribute::Department, "risk", vec!["u1", "u2"]),
        (Attribute::Department, "  RISK ", vec!["u1", "u2"]),
        (Attribute::Department, "üBERSEE", vec!["u4"]),
        (Attribute::Location, "boston", vec!["u1", "u3", "u4"]),
        (Attribute::Group, "ALL-Staff", vec!["u1", "u2"]),
        (Attribute::EmploymentType, "EMPLOYEE", vec!["u1", "u3"]),
        (Attribute::Role, "reviewer", vec!["u1", "u3"]),
    ];

    for (attribute, value, expected) in cases {
        assert_eq!(
            ids(directory.select(&one(attribute, value))),
            expected,
            "{} = {value:?}",
            attribute.name()
        );
    }
}

#[test]
fn conditions_are_all_required() {
    let directory = Directory::from_records(people());
    let cases = [
        (
            vec![("department", "Risk"), ("location", "Boston")],
            vec!["u1"],
        ),
        (
            vec![("title", "Analyst"), ("role", "Reviewer")],
            vec!["u1", "u3"],
        ),
        (
            vec![("group", "all-staff"), ("role", "approver")],
            vec!["u2"],
        ),
        (
            vec![("group", "risk-team"), ("group", "all-staff")],
            vec!["u1"],
        ),
        (
            vec![("department", "Risk"), ("department", "Operations")],
            vec![],
        ),
        (
            vec![
                ("cost_center", "cc-1"),
                ("division", "finance"),
                ("role", "reviewer"),
            ],
            vec!["u1"],
        ),
        (vec![("location", "Boston"), ("group", "nobody")], vec![]),
        (vec![], vec!["u1", "u2", "u3"]),
    ];

    for (conditions, expected) in cases {
        let conditions: Vec<Condition> = conditions
            .iter()
            .map(|(name, value)| Condition::new(Attribute::parse(name).unwrap(), *value))
            .collect();

        assert_eq!(
            ids(directory.select(&conditions)),
            expected,
            "{conditions:?}"
        );
    }
}

#[test]
fn inactive_accountless_or_unreadable_people_are_kept_but_never_selected() {
    let mut unreadable = record("x5", "active", Some(15), risk_analyst());
    unreadable.attributes["profile"]["department"] = json!(42);
    let cases = [
        record("x1", "disabled", Some(11), risk_analyst()),
        record("x2", "Terminated", Some(12), risk_analyst()),
        record("x3", "active", None, risk_analyst()),
        record("x4", "active", Some(0), risk_analyst()),
        unreadable,
        record("x6", "deleted", None, risk_analyst()),
    ];

    for case in cases {
        let mut records = people();
        records.push(case.clone());
        let directory = Directory::from_records(records);

        assert_eq!(directory.get(&case.iam_id).unwrap().iam_id, case.iam_id);
        assert_eq!(directory.len(), 4);
        assert_eq!(
            ids(directory.select(&one(Attribute::Department, "Risk"))),
            ["u1", "u2"],
            "{}",
            case.iam_id
        );
        assert_eq!(ids(directory.active().collect()), ["u1", "u2", "u3"]);
        let linked = case.clickup_user_id.filter(|&id| id > 0);
        assert_eq!(
            linked
                .and_then(|id| directory.by_clickup_user(id as u64))
                .map(|p| &p.iam_id),
            linked.map(|_| &case.iam_id)
        );
    }
    assert!(Directory::from_records(people())
        .by_clickup_user(0)
        .is_none());
}
