//! Eligibility, approvers per step, and decisions written as comments.

use chrono::Duration;

use super::{legal_with, load, policy_of, policy_text, two_areas};
use crate::rules::{
    parse_decision_comment,
    tests::{at, person},
    ApproverRef, CommentDecision, Level, RequestForm,
};

fn form(area: &str, level: Level, days: Option<i64>) -> RequestForm {
    RequestForm {
        area: area.to_owned(),
        level,
        duration: days.map(Duration::days),
        justification: Some("Contract review for ACME".into()),
    }
}

#[test]
fn eligibility_gives_every_reason_that_fails() {
    let employee = person(&[("employment_type", "Employee")]);
    let contractor = person(&[("employment_type", "contractor")]);
    let leaver = person(&[("employment_type", "employee"), ("status", "terminated")]);
    let now = at("2026-06-01T00:00:00Z");

    let cases = [
        (
            "allowed",
            "Legal",
            &employee,
            form("Legal", Level::Read, Some(14)),
            vec![],
        ),
        (
            "at the longest",
            "Legal",
            &employee,
            form("legal", Level::Comment, Some(30)),
            vec![],
        ),
        (
            "may not ask",
            "Legal",
            &contractor,
            form("Legal", Level::Read, Some(14)),
            vec!["the requester may not ask for Legal"],
        ),
        (
            "not active",
            "Legal",
            &leaver,
            form("Legal", Level::Read, Some(14)),
            vec!["the requester is not active in the IAM"],
        ),
        (
            "level",
            "Legal",
            &employee,
            form("Legal", Level::Edit, Some(14)),
            vec!["Access level: edit is not offered for Legal (offered: read, comment)"],
        ),
        (
            "too long",
            "Legal",
            &employee,
            form("Legal", Level::Read, Some(45)),
            vec!["Duration: 45 days is longer than Legal allows (30 days)"],
        ),
        (
            "no duration",
            "Legal",
            &employee,
            form("Legal", Level::Read, None),
            vec!["Duration: Legal grants access for at most 30 days: give a duration"],
        ),
        (
            "several",
            "Legal",
            &contractor,
            form("Legal", Level::Create, Some(31)),
            vec![
                "the requester may not ask for Legal",
                "Access level: create is not offered for Legal (offered: read, comment)",
                "Duration: 31 days is longer than Legal allows (30 days)",
            ],
        ),
        (
            "another area's form",
            "Legal",
            &employee,
            form("Finance", Level::Read, Some(1)),
            vec!["the form asks for Finance, not Legal"],
        ),
        (
            "no limit, anyone",
            "Finance",
            &contractor,
            form("Finance", Level::Create, None),
            vec![],
        ),
        (
            "no limit, long",
            "Finance",
            &contractor,
            form("Finance", Level::Edit, Some(3650)),
            vec![],
        ),
    ];

    let rules = two_areas();
    let policy = policy_of(&rules);
    for (name, area, requester, form, expected) in cases {
        let area = policy
            .area(area)
            .unwrap_or_else(|| panic!("{name}: no area"));
        let checked = policy.check_eligible(area, &form, requester, now);
        let expected: Result<(), Vec<String>> = match expected.is_empty() {
            true => Ok(()),
            false => Err(expected.iter().map(|reason| reason.to_string()).collect()),
        };
        assert_eq!(checked, expected, "{name}");
    }

    let failing = legal_with("may_ask", "may_ask: person.custom.clearance == 'high'");
    let rules = load(&policy_text(&[failing]));
    let policy = policy_of(&rules);
    let legal = policy.area("Legal").unwrap_or_else(|| panic!("no Legal"));
    let reasons = policy
        .check_eligible(legal, &form("Legal", Level::Read, Some(1)), &employee, now)
        .unwrap_err();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0]
            .starts_with("Legal: whether the requester may ask could not be decided: `may_ask` "),
        "{reasons:?}"
    );
}

#[test]
fn approvers_are_evaluated_deduplicated_and_classified() {
    let email = |text: &str| ApproverRef::Email(text.into());
    let group = |text: &str| ApproverRef::Group(text.into());
    let id = |text: &str| ApproverRef::IamId(text.into());
    let managed = person(&[
        ("manager.email", "boss@example.com"),
        ("manager.id", "iam-7"),
        ("department", "Legal"),
    ]);
    let unmanaged = person(&[("department", "Sales")]);

    let cases = [
        (
            "manager",
            "person.manager.email",
            &managed,
            Ok(vec![email("boss@example.com")]),
        ),
        (
            "area",
            "area.approvers",
            &managed,
            Ok(vec![
                email("sec-legal@example.com"),
                group("Legal-Security"),
            ]),
        ),
        (
            "list, dedup",
            r#"[person.manager.email, "BOSS@example.com", "group:Legal-Security", area.approvers, " iam-42 ", "iam-42"]"#,
            &managed,
            Ok(vec![
                email("boss@example.com"),
                group("Legal-Security"),
                email("sec-legal@example.com"),
                id("iam-42"),
            ]),
        ),
        (
            "fallback",
            r#"person.manager.email != "" ? person.manager.email : area.approvers"#,
            &unmanaged,
            Ok(vec![
                email("sec-legal@example.com"),
                group("Legal-Security"),
            ]),
        ),
        (
            "manager id",
            "person.manager.id",
            &managed,
            Ok(vec![id("iam-7")]),
        ),
        (
            "computed",
            r#"["group:" + person.department + "-Owners", "GROUP: " + area.object, now > timestamp("2026-01-01T00:00:00Z") ? area.name : "x"]"#,
            &managed,
            Ok(vec![
                group("Legal-Owners"),
                group("folder:901100000200"),
                id("Legal"),
            ]),
        ),
        (
            "nobody",
            "person.manager.email",
            &unmanaged,
            Err("step `s`: no approver".to_owned()),
        ),
        (
            "empty group",
            r#"["group:", ""]"#,
            &managed,
            Err("step `s`: no approver".to_owned()),
        ),
        (
            "not strings",
            r#"["a@example.com", 1]"#,
            &managed,
            Err("step `s`: approvers gave int, not a string or a list of strings".to_owned()),
        ),
        (
            "a map",
            r#"{"a": "b"}"#,
            &managed,
            Err("step `s`: approvers gave map, not a string or a list of strings".to_owned()),
        ),
    ];
    let now = at("2026-06-01T00:00:00Z");
    for (name, expression, requester, expected) in cases {
        let step = format!(
            "steps: [{{ name: s, approvers: '{}' }}]",
            expression.replace('\'', "''")
        );
        let rules = load(&policy_text(&[legal_with("steps", &step)]));
        let policy = policy_of(&rules);
        let legal = policy
            .area("Legal")
            .unwrap_or_else(|| panic!("{name}: no Legal"));

        assert_eq!(
            policy.approvers(legal, 0, requester, now),
            expected,
            "{name}: {expression}"
        );
    }
}

#[test]
fn approvers_fail_on_a_cel_error_and_on_a_step_that_does_not_exist() {
    let rules = two_areas();
    let policy = policy_of(&rules);
    let legal = policy.area("Legal").unwrap_or_else(|| panic!("no Legal"));
    let someone = person(&[("manager.email", "boss@example.com")]);
    let now = at("2026-06-01T00:00:00Z");

    let second = policy.approvers(legal, 1, &someone, now);
    let second_expected = [
        ApproverRef::Email("sec-legal@example.com".into()),
        ApproverRef::Group("Legal-Security".into()),
    ];
    assert_eq!(second, Ok(second_expected.to_vec()));
    assert_eq!(
        policy.approvers(legal, 2, &someone, now),
        Err("Legal has 2 step(s), not a step 3".to_owned())
    );

    let failing = legal_with(
        "steps",
        "steps: [{ name: clearance, approvers: person.custom.officer }]",
    );
    let rules = load(&policy_text(&[failing]));
    let policy = policy_of(&rules);
    let legal = policy.area("Legal").unwrap_or_else(|| panic!("no Legal"));
    let error = policy.approvers(legal, 0, &someone, now).unwrap_err();
    assert!(error.starts_with("step `clearance`: approvers "), "{error}");

    let officer = person(&[("custom.officer", "officer@example.com")]);
    let found = policy.approvers(legal, 0, &officer, now);
    assert_eq!(
        found,
        Ok(vec![ApproverRef::Email("officer@example.com".into())])
    );
}

#[test]
fn decisions_are_read_from_the_start_of_a_comment() {
    let approve = |note: Option<&str>| {
        Some(CommentDecision::Approve {
            note: note.map(str::to_owned),
        })
    };
    let deny = |reason: Option<&str>| {
        Some(CommentDecision::Deny {
            reason: reason.map(str::to_owned),
        })
    };
    let cases = [
        ("/approve", approve(None)),
        ("/APPROVE  looks fine", approve(Some("looks fine"))),
        (
            "/Approve\tfor Q3 only\nsecond line is not the note",
            approve(Some("for Q3 only")),
        ),
        ("\n  /approve\n", approve(None)),
        ("  /deny no business need", deny(Some("no business need"))),
        ("/deny", deny(None)),
        ("/DENY   \nlong story", deny(None)),
        ("/denied", None),
        ("/approved by me", None),
        ("please /approve", None),
        ("approve", None),
        ("/", None),
        ("", None),
        ("   \n ", None),
        ("/déni", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_decision_comment(text), expected, "{text:?}");
    }
}

#[test]
fn approver_text_reads_as_an_email_a_group_or_an_iam_id() {
    let cases = [
        (
            "ciso@example.com",
            Some(ApproverRef::Email("ciso@example.com".into())),
        ),
        (
            "group:Security Approvers",
            Some(ApproverRef::Group("Security Approvers".into())),
        ),
        ("GROUP: Legal", Some(ApproverRef::Group("Legal".into()))),
        (
            " 5e5e5e5e6f6f6f6f ",
            Some(ApproverRef::IamId("5e5e5e5e6f6f6f6f".into())),
        ),
        ("group: ", None),
        ("  ", None),
    ];
    for (text, expected) in cases {
        assert_eq!(ApproverRef::parse(text), expected, "{text:?}");
    }
}
