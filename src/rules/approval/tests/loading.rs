//! Loading `access_requests:`: what a valid section gives, and every refusal with its place.

use chrono::Duration;

use super::{legal_with, load, policy_of, policy_text, two_areas, INTAKE, LEGAL};
use crate::rules::{DecideIn, FieldRef, Level, ObjectRef, OnTimeout, RuleSet};

/// Loads `sources` and compares the error's text with `expected`.
fn check_refusal(sources: &[(&str, &str)], expected: &str) {
    match RuleSet::from_sources(sources) {
        Ok(_) => panic!("loaded, expected {expected}\n{sources:?}"),
        Err(error) => assert_eq!(error.to_string(), expected, "{sources:?}"),
    }
}

#[test]
fn a_valid_section_gives_the_intake_and_the_areas() {
    let rules = two_areas();
    let policy = policy_of(&rules);

    let intake = &policy.intake;
    assert_eq!(intake.list_id, "901100000901");
    assert_eq!(intake.fields.area, FieldRef::Name("Area".into()));
    assert_eq!(
        intake.fields.duration,
        Some(FieldRef::Name("Duration (days)".into()))
    );
    assert_eq!(
        (
            intake.statuses.pending.as_str(),
            intake.statuses.closed.as_str()
        ),
        ("pending approval", "closed")
    );

    let legal = policy.area("LEGAL").unwrap_or_else(|| panic!("no Legal"));
    assert_eq!(legal.name, "Legal");
    assert_eq!(
        legal.object,
        "folder:901100000200"
            .parse::<ObjectRef>()
            .ok()
            .unwrap_or_else(|| panic!())
    );
    assert_eq!(legal.levels, [Level::Read, Level::Comment]);
    assert_eq!(legal.max_duration, Some(Duration::days(30)));
    assert_eq!(legal.decide_in, DecideIn::ClickUp);
    assert_eq!(legal.iam_prd, None);
    let steps: Vec<&str> = legal.steps.iter().map(|step| step.name.as_str()).collect();
    assert_eq!(steps, ["manager", "security"]);
    assert_eq!(
        legal.approvers,
        ["sec-legal@example.com", "group:Legal-Security"]
    );
    let timeout = legal
        .timeout
        .clone()
        .unwrap_or_else(|| panic!("no timeout"));
    assert_eq!(
        (timeout.remind_after, timeout.after),
        (Duration::days(2), Duration::days(5))
    );
    assert_eq!(
        timeout.then,
        OnTimeout::Escalate {
            to: vec!["ciso@example.com".into()]
        }
    );

    let finance = policy
        .area(" finance ")
        .unwrap_or_else(|| panic!("no Finance"));
    assert_eq!(
        (
            finance.decide_in,
            finance.max_duration,
            finance.timeout.clone()
        ),
        (DecideIn::Iam, None, None)
    );
    assert_eq!(
        finance.iam_prd.as_deref(),
        Some("cn=Finance,cn=RequestDefs")
    );
    assert!(policy.area("Marketing").is_none());

    let by_id = INTAKE.replace("area: Area", "area: 0F3CC395-0000-4000-8000-00000000000A");
    let rules = load(&format!("{by_id}{}", super::area_text(&LEGAL)));
    let id = FieldRef::Id("0f3cc395-0000-4000-8000-00000000000a".into());
    assert_eq!(policy_of(&rules).intake.fields.area, id);
    assert!(load("mappings: []\n").access_policy().is_none());
}

#[test]
fn invalid_areas_are_refused_at_the_offending_node() {
    let cases = [
        (legal_with("colour", "colour: red"),
         "a.yaml:16:7: access_requests.areas[0]: unknown field `colour`, expected one of `name`, `object`, `levels`, `max_duration`, `may_ask`, `approvers`, `steps`, `timeout`, `decide_in`, `iam_prd`"),
        (legal_with("name", r#"name: " ""#),
         "a.yaml:7:13: an area needs a non-empty `name`"),
        (legal_with("object", "object: { folder: abc }"),
         "a.yaml:8:25: area `Legal`: `abc` is not a numeric ClickUp id"),
        (legal_with("object", r#"object: { folder: "1", list: "2" }"#),
         "a.yaml:8:15: area `Legal`: an `object` names only one of `space`, `folder` or `list`"),
        (legal_with("levels", "levels: []"),
         "a.yaml:9:15: area `Legal`: an area needs at least one level in `levels`"),
        (legal_with("levels", ""),
         "a.yaml:7:7: area `Legal`: an area needs at least one level in `levels`"),
        (legal_with("levels", "levels: [read, admin]"),
         "a.yaml:9:22: access_requests.areas[0].levels[1]: unknown variant `admin`, expected one of `read`, `comment`, `edit`, `create`"),
        (legal_with("max_duration", "max_duration: 30"),
         "a.yaml:10:21: area `Legal`: `30` is not a duration such as 30s, 10m, 12h, 7d or 1h30m"),
        (legal_with("steps", "steps: []"),
         "a.yaml:13:14: area `Legal`: an area needs at least one step in `steps`"),
        (legal_with("steps", "steps: [{ name: boss, approvers: area.approvers }, { name: Boss, approvers: area.approvers }]"),
         "a.yaml:13:66: area `Legal`: step `Boss` is named twice"),
        (legal_with("steps", r#"steps: [{ name: "", approvers: area.approvers }]"#),
         "a.yaml:13:23: area `Legal`: a step needs a non-empty `name`"),
        (legal_with("decide_in", "decide_in: iam"),
         "a.yaml:15:18: area `Legal`: `decide_in: iam` needs an `iam_prd`"),
        (legal_with("decide_in", "decide_in: slack"),
         "a.yaml:15:18: access_requests.areas[0].decide_in: unknown variant `slack`, expected `clickup` or `iam`"),
        (legal_with("iam_prd", r#"iam_prd: """#),
         "a.yaml:16:16: area `Legal`: `iam_prd` must not be empty"),
        (legal_with("timeout", "timeout: { remind_after: 5d, after: 5d, then: expire }"),
         "a.yaml:14:32: area `Legal`: `remind_after` (5 days) must be shorter than `after` (5 days)"),
        (legal_with("timeout", "timeout: { remind_after: 1w, after: 5d, then: expire }"),
         "a.yaml:14:32: area `Legal`: `remind_after` (7 days) must be shorter than `after` (5 days)"),
        (legal_with("timeout", "timeout: { remind_after: 1d, after: 5d, then: escalate }"),
         "a.yaml:14:53: area `Legal`: `then: escalate` needs `escalate_to`"),
        (legal_with("timeout", "timeout: { remind_after: 1d, after: 5d, then: expire, escalate_to: [a@example.com] }"),
         "a.yaml:14:74: area `Legal`: `escalate_to` is only for `then: escalate`"),
        (legal_with("timeout", "timeout: { remind_after: 1d, after: 5d, then: wait }"),
         "a.yaml:14:53: access_requests.areas[0].timeout.then: unknown variant `wait`, expected `escalate` or `expire`"),
        (legal_with("approvers", r#"approvers: [a@example.com, "group: "]"#),
         "a.yaml:12:34: area `Legal`: an approver must not be empty"),
    ];
    for (lines, expected) in cases {
        check_refusal(&[("a.yaml", &policy_text(&[lines]))], expected);
    }
}

#[test]
fn expressions_that_do_not_compile_are_placed_inside_them() {
    let cases = [
        (legal_with("may_ask", "may_ask: person.title =="),
         "a.yaml:11:31: area `Legal`: `may_ask` does not compile: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}"),
        (legal_with("may_ask", "may_ask: person.titel == 'x'"),
         "a.yaml:11:22: area `Legal`: `may_ask` does not compile: unknown attribute `person.titel` (known: id, email, username, display_name, status, employment_type, department, title, location, division, cost_center, organization, company, groups, roles, manager, sponsor, start_date, end_date, end_at, custom)"),
        (legal_with("may_ask", "may_ask: area.nam == 'Legal'"),
         "a.yaml:11:20: area `Legal`: `may_ask` does not compile: unknown attribute `area.nam` (known: name, approvers, object)"),
        (legal_with("steps", "steps: [{ name: boss, approvers: area.aprovers }]"),
         "a.yaml:13:44: area `Legal`: step `boss`: `approvers` does not compile: unknown attribute `area.aprovers` (known: name, approvers, object)"),
        (legal_with("steps", "steps: [{ name: boss, approvers: 'aera.approvers' }]"),
         "a.yaml:13:41: area `Legal`: step `boss`: `approvers` does not compile: unknown name `aera`: use `person.<attribute>`, `area.<attribute>` or `now`"),
    ];
    for (lines, expected) in cases {
        check_refusal(&[("a.yaml", &policy_text(&[lines]))], expected);
    }

    check_refusal(
        &[("m.yaml", "mappings:\n  - name: x\n    when: area.name == 'Legal'\n    role: guest\n")],
        "m.yaml:3:11: mapping `x`: `when` does not compile: unknown name `area`: use `person.<attribute>` or `now`",
    );
}

#[test]
fn the_intake_and_the_section_are_checked() {
    let legal: Vec<String> = LEGAL.iter().map(|line| line.to_string()).collect();
    let lower = legal_with("name", "name: LEGAL");
    let one = policy_text(std::slice::from_ref(&legal));
    let cases = [
        (policy_text(&[legal.clone(), lower]),
         "a.yaml:16:13: area `LEGAL`: the name is already used at a.yaml:7:13".to_owned()),
        (one.replace(r#"list: "901100000901""#, "list: inbox"),
         "a.yaml:3:11: `list` must be a numeric ClickUp id, not `inbox`".to_owned()),
        (one.replace("level: Access level", r#"level: " ""#),
         "a.yaml:4:34: `level` must name a field (its name or its UUID)".to_owned()),
        (one.replace("denied: denied", "denied: Approved"),
         "a.yaml:5:72: status `denied` is the same as another: each must differ".to_owned()),
        (one.replace("closed: closed", r#"closed: """#),
         "a.yaml:5:88: status `closed` must not be empty".to_owned()),
        (one.replace("    fields:", "    feilds:"),
         "a.yaml:4:5: access_requests.intake: unknown field `feilds`, expected one of `list`, `fields`, `statuses`".to_owned()),
        (INTAKE.replace("  areas:\n", "  areas: []\n"),
         "a.yaml:6:10: access_requests need at least one area in `areas`".to_owned()),
    ];
    for (text, expected) in &cases {
        check_refusal(&[("a.yaml", text)], expected);
    }

    let text = policy_text(&[legal]);
    check_refusal(
        &[
            ("a.yaml", &text),
            ("b.yaml", "mappings: []\n"),
            ("c.yaml", &text),
        ],
        "c.yaml:2:3: access_requests are already given at a.yaml:2:3: keep them in one file",
    );
}

#[test]
fn an_area_the_iam_decides_cannot_escalate() {
    let mut lines = legal_with("decide_in", "decide_in: iam");
    lines.push(r#"iam_prd: "cn=ClickUp-Legal,cn=RequestDefs,o=system""#.to_owned());

    let refused = RuleSet::from_sources(&[("a.yaml", &policy_text(&[lines]))]);

    let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.starts_with("a.yaml:14:"), "{error}");
    assert!(
        error.contains("`decide_in: iam` cannot escalate"),
        "{error}"
    );
}
