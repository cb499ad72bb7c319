//! The shipped `rules/` folder: its access-request policy loads, names the sandbox's intake
//! list and seeded objects, and has a one-step, a two-step and an IAM-decided area.

use std::path::Path;

use chrono::Duration;

use crate::rules::{
    tests::{at, person},
    ApproverRef, DecideIn, Level, OnTimeout, RequestForm, RuleSet,
};

fn shipped() -> RuleSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    RuleSet::load_dir(&dir).unwrap_or_else(|error| panic!("shipped rules: {error}"))
}

#[test]
fn the_shipped_policy_has_the_three_kinds_of_area() {
    let rules = shipped();
    let policy = rules
        .access_policy()
        .unwrap_or_else(|| panic!("no access policy"));
    assert_eq!(policy.intake.list_id, "901100000901");
    assert_eq!(policy.intake.statuses.pending, "pending approval");

    let summary: Vec<String> = policy
        .areas
        .iter()
        .map(|area| {
            let steps: Vec<&str> = area.steps.iter().map(|step| step.name.as_str()).collect();
            format!(
                "{} {} {:?} [{}]",
                area.name,
                area.object,
                area.decide_in,
                steps.join(", ")
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "Legal contracts folder:901100000610 ClickUp [manager]",
            "Finance close list:901100000710 ClickUp [manager, security]",
            "Product launch list:901100000430 Iam [manager, launch owners]",
        ]
    );

    let docs = policy
        .area("finance close")
        .unwrap_or_else(|| panic!("no docs"));
    let timeout = docs.timeout.clone().unwrap_or_else(|| panic!("no timeout"));
    assert_eq!(
        timeout.then,
        OnTimeout::Escalate {
            to: vec!["ciso@example.com".into()]
        }
    );
    let data = policy
        .area("Product launch")
        .unwrap_or_else(|| panic!("no data"));
    assert!(data.iam_prd.is_some() && data.max_duration.is_none());
    assert_eq!(data.decide_in, DecideIn::Iam);
}

#[test]
fn the_shipped_areas_find_approvers_and_check_requests() {
    let rules = shipped();
    let policy = rules
        .access_policy()
        .unwrap_or_else(|| panic!("no access policy"));
    let now = at("2026-06-01T00:00:00Z");
    let managed = person(&[
        ("employment_type", "employee"),
        ("department", "Operations"),
        ("manager.email", "boss@example.com"),
    ]);
    let unmanaged = person(&[("employment_type", "employee"), ("manager.id", "iam-9")]);
    let area = |name: &str| policy.area(name).unwrap_or_else(|| panic!("no {name}"));

    let handover = area("Legal contracts");
    let found = policy.approvers(handover, 0, &managed, now);
    assert_eq!(
        found,
        Ok(vec![ApproverRef::Email("boss@example.com".into())])
    );
    let fallback = policy.approvers(handover, 0, &unmanaged, now);
    let security = ApproverRef::Email("sec-legal@example.com".into());
    assert_eq!(fallback, Ok(vec![security]));

    let docs = area("Finance close");
    let by_id = policy.approvers(docs, 0, &unmanaged, now);
    assert_eq!(by_id, Ok(vec![ApproverRef::IamId("iam-9".into())]));
    let second = policy.approvers(docs, 1, &managed, now);
    let expected = vec![
        ApproverRef::Email("sec-finance@example.com".into()),
        ApproverRef::Group("ClickUp-Security".into()),
    ];
    assert_eq!(second, Ok(expected));

    let form = RequestForm {
        area: docs.name.clone(),
        level: Level::Edit,
        duration: Some(Duration::days(14)),
        justification: None,
    };
    assert_eq!(policy.check_eligible(docs, &form, &managed, now), Ok(()));
    let no_department = policy.check_eligible(docs, &form, &unmanaged, now);
    let refused = vec!["the requester may not ask for Finance close".to_owned()];
    assert_eq!(no_department, Err(refused));
}
