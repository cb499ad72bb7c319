//! Loading `assignments:`: what a valid rule gives, every refusal with its place, and the
//! shipped folder.

use std::path::Path;

use super::{load, rule};
use crate::rules::{
    approval::FieldRef, grant::ObjectRef, Fallback, RuleSet, Strategy, TASK_EVENTS,
};

const HEAD: &str = "assignments:\n  - name: a\n";
const WHERE: &str = "    candidates: { where: { department: Risk } }\n";

/// Loads `sources` and compares the error's text with `expected`.
fn check_refusal(sources: &[(&str, &str)], expected: &str) {
    match RuleSet::from_sources(sources) {
        Ok(_) => panic!("loaded, expected {expected}\n{sources:?}"),
        Err(error) => assert_eq!(error.to_string(), expected, "{sources:?}"),
    }
}

#[test]
fn a_valid_rule_gives_its_match_candidates_strategy_and_fallback() {
    let rules = load(
        r#"
assignments:
  - name: compliance-reviews
    description: Compliance reviews go to the risk function
    match:
      events: [taskCreated, taskMoved]
      folder: 901100000900
      tags: [" Compliance "]
      name: "Compliance Review"
      status: Open
      fields: { "Review type": SOX, "Ticket Number": 1234 }
    candidates:
      where: { department: Risk, cost_center: 4711 }
      filter: 'person.title.contains("Analyst")'
    strategy: round_robin
    fallback: { email: " risk-lead@example.com " }
  - name: plain
    match: {}
    candidates: { where: { group: clickup-security } }
    strategy: least_loaded
"#,
    );
    let names: Vec<&str> = rules
        .assignments()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["compliance-reviews", "plain"]);

    let compliance = rule(&rules, "compliance-reviews");
    assert_eq!(compliance.file, "a.yaml");
    assert_eq!(
        compliance.description.as_deref(),
        Some("Compliance reviews go to the risk function")
    );
    assert_eq!(compliance.strategy, Strategy::RoundRobin);
    let email = Fallback::Email("risk-lead@example.com".into());
    assert_eq!(compliance.fallback, Some(email));

    let matching = &compliance.matching;
    assert_eq!(matching.events, ["taskCreated", "taskMoved"]);
    let folder = "folder:901100000900".parse::<ObjectRef>().ok();
    assert_eq!(matching.place, folder);
    assert_eq!(matching.tags, ["compliance"]);
    assert_eq!(matching.name.as_deref(), Some("compliance review"));
    assert_eq!(matching.status.as_deref(), Some("open"));
    let fields = [
        (FieldRef::Name("Review type".into()), "SOX".to_owned()),
        (FieldRef::Name("Ticket Number".into()), "1234".to_owned()),
    ];
    assert_eq!(matching.fields, fields);
    let conditions = [("cost_center", "4711"), ("department", "Risk")];
    let conditions = conditions.map(|(a, v)| (a.to_owned(), v.to_owned()));
    assert_eq!(compliance.conditions, conditions);
    let filter = compliance.filter.as_ref().map(|filter| filter.source());
    assert_eq!(filter, Some(r#"person.title.contains("Analyst")"#));
    assert!(compliance.by_field.is_none());

    let plain = rule(&rules, "plain");
    assert_eq!(plain.matching.events, ["taskCreated"]);
    assert_eq!(
        (plain.matching.place.as_ref(), plain.fallback.as_ref()),
        (None, None)
    );
    assert_eq!(plain.strategy, Strategy::LeastLoaded);
}

#[test]
fn invalid_rules_are_refused_at_the_offending_node() {
    let cases = [
        (format!("    matches: {{}}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:5: assignments[0]: unknown field `matches`, expected one of `name`, `description`, `match`, `candidates`, `strategy`, `by_field`, `fallback`"),
        (format!("{WHERE}    strategy: round_robin\n"),
         "a.yaml:2:5: assignments[0]: missing field `match`"),
        (format!("    match: {{ lists: \"1\" }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:14: assignments[0].match: unknown field `lists`, expected one of `events`, `space`, `folder`, `list`, `tags`, `name`, `status`, `fields`"),
        (format!("    match: {{}}\n{WHERE}    strategy: random\n"),
         "a.yaml:5:15: assignments[0].strategy: unknown variant `random`, expected one of `round_robin`, `least_loaded`, `by_field`"),
        (format!("    match: {{ list: abc }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:20: assignment `a`: `abc` is not a numeric ClickUp id"),
        (format!("    match: {{ list: \"1\", folder: \"2\" }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:12: assignment `a`: a match names only one of `space`, `folder` or `list`"),
        (format!("    match: {{ events: [] }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:22: assignment `a`: `events` needs at least one task event"),
        (format!("    match: {{ tags: [a, \" \"] }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:24: assignment `a`: a tag must not be empty"),
        (format!("    match: {{ name: \"\" }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:20: assignment `a`: `name` must not be empty"),
        (format!("    match: {{ status: \" \" }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:22: assignment `a`: `status` must not be empty"),
        (format!("    match: {{ fields: {{ \" \": x }} }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:29: assignment `a`: a field needs its name or its UUID"),
        (format!("    match: {{ fields: {{ Region: \"\" }} }}\n{WHERE}    strategy: round_robin\n"),
         "a.yaml:3:32: assignment `a`: the value of field `Region` must not be empty"),
        ("    match: {}\n    candidates: { where: { departement: Risk } }\n    strategy: round_robin\n".to_owned(),
         "a.yaml:4:41: assignment `a`: unknown attribute `departement` (known: department, location, title, group, employment_type, division, cost_center, role)"),
        ("    match: {}\n    candidates: { where: { department: \"\" } }\n    strategy: round_robin\n".to_owned(),
         "a.yaml:4:40: assignment `a`: the value of `department` must not be empty"),
        ("    match: {}\n    strategy: least_loaded\n".to_owned(),
         "a.yaml:2:5: assignment `a`: the candidates need a condition in `where` (or `strategy: by_field`): a rule does not pick among everyone"),
        (format!("    match: {{}}\n{WHERE}    strategy: round_robin\n    by_field: {{ field: Region, attribute: location }}\n"),
         "a.yaml:6:15: assignment `a`: `by_field` is only for `strategy: by_field`"),
        ("    match: {}\n    strategy: by_field\n".to_owned(),
         "a.yaml:4:15: assignment `a`: `strategy: by_field` needs a `by_field`"),
        ("    match: {}\n    strategy: by_field\n    by_field: { field: Region, attribute: city }\n".to_owned(),
         "a.yaml:5:43: assignment `a`: unknown attribute `city` (known: department, location, title, group, employment_type, division, cost_center, role)"),
        ("    match: {}\n    candidates: { where: { location: London } }\n    strategy: by_field\n    by_field: { field: Region, attribute: location }\n".to_owned(),
         "a.yaml:6:43: assignment `a`: `location` is also in `where`: give it in one place"),
        ("    match: {}\n    strategy: by_field\n    by_field: { field: \"\", attribute: location }\n".to_owned(),
         "a.yaml:5:24: assignment `a`: `field` needs the field's name or its UUID"),
        ("    match: {}\n    strategy: by_field\n    by_field: { field: Region, attribute: location, map: {} }\n".to_owned(),
         "a.yaml:5:58: assignment `a`: `map` is empty: leave it out to use the field's value itself"),
        ("    match: {}\n    strategy: by_field\n    by_field:\n      field: Region\n      attribute: location\n      map: { EMEA: London, emea: Paris }\n".to_owned(),
         "a.yaml:8:34: assignment `a`: `emea` is mapped twice (keys compare in any case)"),
        (format!("    match: {{}}\n{WHERE}    strategy: round_robin\n    fallback: {{ email: a@example.com, group: Ops }}\n"),
         "a.yaml:6:15: assignment `a`: a fallback names one of `email` or `group`"),
        (format!("    match: {{}}\n{WHERE}    strategy: round_robin\n    fallback: {{}}\n"),
         "a.yaml:6:15: assignment `a`: a fallback names one of `email` or `group`"),
        (format!("    match: {{}}\n{WHERE}    strategy: round_robin\n    fallback: {{ email: risk-lead }}\n"),
         "a.yaml:6:24: assignment `a`: `email` must be an email address (with an `@`)"),
        (format!("    match: {{}}\n{WHERE}    strategy: round_robin\n    fallback: {{ group: \" \" }}\n"),
         "a.yaml:6:24: assignment `a`: `group` must not be empty"),
    ];
    for (rest, expected) in &cases {
        check_refusal(&[("a.yaml", &format!("{HEAD}{rest}"))], expected);
    }

    let empty_name = format!(
        "assignments:\n  - name: \" \"\n    match: {{}}\n{WHERE}    strategy: round_robin\n"
    );
    check_refusal(
        &[("a.yaml", &empty_name)],
        "a.yaml:2:11: an assignment rule needs a non-empty `name`",
    );
}

#[test]
fn events_must_be_task_events() {
    let all = TASK_EVENTS.join(", ");
    for (event, column) in [("listCreated", 36), ("taskCreatd", 36), ("TaskCreated", 36)] {
        let text = format!(
            "{HEAD}    match: {{ events: [taskCreated, {event}] }}\n{WHERE}    strategy: round_robin\n"
        );
        let expected = format!(
            "a.yaml:3:{column}: assignment `a`: `{event}` is not a task event (one of {all})"
        );
        check_refusal(&[("a.yaml", &text)], &expected);
    }

    // The list is ClickUp's: every name in it is a task event the receiver accepts.
    for event in TASK_EVENTS {
        let resource = crate::ingest::clickup::resource_of(event);
        assert_eq!(resource, Some("task"), "{event}");
    }
    assert_eq!(TASK_EVENTS.len(), 13);
}

#[test]
fn filters_are_placed_inside_the_expression() {
    let syntax = "Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}";
    let cases = [
        ("'person.titel == \"a\"'",
         "a.yaml:6:22: assignment `a`: `filter` does not compile: unknown attribute `person.titel` (known: id, email, username, display_name, status, employment_type, department, title, location, division, cost_center, organization, company, groups, roles, manager, sponsor, start_date, end_date, end_at, custom)".to_owned()),
        ("person.title ==", format!("a.yaml:6:30: assignment `a`: `filter` does not compile: {syntax}")),
        ("'area.name == \"x\"'",
         "a.yaml:6:16: assignment `a`: `filter` does not compile: unknown name `area`: use `person.<attribute>` or `now`".to_owned()),
    ];
    for (filter, expected) in &cases {
        let text = format!("{HEAD}    match: {{}}\n    candidates:\n      where: {{ department: Risk }}\n      filter: {filter}\n    strategy: round_robin\n");
        check_refusal(&[("a.yaml", &text)], expected);
    }
}

#[test]
fn names_are_unique_across_files_and_sections_may_be_in_several() {
    let one = format!("{HEAD}    match: {{}}\n{WHERE}    strategy: round_robin\n");
    let other =
        format!("assignments:\n  - name: b\n    match: {{}}\n{WHERE}    strategy: round_robin\n");
    let rules = RuleSet::from_sources(&[("a.yaml", &one), ("b.yaml", &other)]);
    let names = rules.map(|rules| {
        let names = rules
            .assignments()
            .iter()
            .map(|r| (r.name.clone(), r.file.clone()));
        names.collect::<Vec<_>>()
    });
    let expected = [("a", "a.yaml"), ("b", "b.yaml")].map(|(n, f)| (n.to_owned(), f.to_owned()));
    assert_eq!(names.ok(), Some(expected.to_vec()));

    let again = format!("{other}  - name: a\n    match: {{}}\n{WHERE}    strategy: round_robin\n");
    check_refusal(
        &[("a.yaml", &one), ("b.yaml", &again)],
        "b.yaml:6:11: assignment `a`: the name is already used at a.yaml:2:11",
    );
}

#[test]
fn the_shipped_folder_loads_with_three_assignment_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let rules = RuleSet::load_dir(&dir).unwrap_or_else(|error| panic!("shipped rules: {error}"));
    let shipped: Vec<(&str, Strategy)> = rules
        .assignments()
        .iter()
        .map(|rule| (rule.name.as_str(), rule.strategy))
        .collect();
    assert_eq!(
        shipped,
        [
            ("compliance-reviews", Strategy::RoundRobin),
            ("regional-operations", Strategy::ByField),
            ("security-reviews", Strategy::LeastLoaded),
        ]
    );

    let places: Vec<String> = rules
        .assignments()
        .iter()
        .map(|rule| {
            rule.matching
                .place
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        places,
        [
            "list:901100000950",
            "list:901100000960",
            "list:901100000970"
        ]
    );

    let fallbacks: Vec<Option<&Fallback>> = rules
        .assignments()
        .iter()
        .map(|rule| rule.fallback.as_ref())
        .collect();
    assert_eq!(
        fallbacks,
        [
            Some(&Fallback::Email("risk-lead@example.com".into())),
            Some(&Fallback::Group("Operations".into())),
            None,
        ]
    );
    let regional = rule(&rules, "regional-operations");
    let map = regional
        .by_field
        .as_ref()
        .and_then(|by_field| by_field.map.clone());
    let expected = [
        ("AMER", "Boston"),
        ("APAC", "Singapore"),
        ("EMEA", "London"),
    ];
    assert_eq!(
        map,
        Some(expected.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec())
    );
}
