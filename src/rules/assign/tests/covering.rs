//! Which tasks a rule covers (every match dimension), the conditions candidates must meet, the
//! filter, and the first covering rule.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::{load, rule, task};
use crate::rules::{Identity, TaskFacts};

const WHERE: &str = "candidates: { where: { department: Risk } }, strategy: round_robin";

fn covering_rules() -> String {
    let rules = [
        ("list", r#"{ list: "901100000950" }"#),
        ("folder", r#"{ folder: 901100000900 }"#),
        ("space", r#"{ space: "901100000100" }"#),
        ("tags", "{ tags: [compliance, Sox] }"),
        ("name", r#"{ name: "COMPLIANCE review" }"#),
        ("status", "{ status: open }"),
        ("region", "{ fields: { region: emea } }"),
        (
            "region-by-id",
            r#"{ fields: { "5C69D237-0000-4000-8000-00000000F00A": EMEA } }"#,
        ),
        ("number", r#"{ fields: { "Ticket Number": 1234.0 } }"#),
        ("events", "{ events: [taskMoved, taskUpdated] }"),
        ("anywhere", "{}"),
    ];
    let rules = rules
        .map(|(name, matching)| format!("  - {{ name: {name}, match: {matching}, {WHERE} }}\n"));
    format!("assignments:\n{}", rules.concat())
}

#[test]
fn rules_cover_tasks_by_each_match_dimension() {
    let rules = load(&covering_rules());
    let ok = || Ok(());
    let no = |reason: &str| Err(reason.to_owned());
    let with = |change: fn(&mut TaskFacts)| {
        let mut facts = task();
        change(&mut facts);
        facts
    };

    let cases: Vec<(&str, TaskFacts, Result<(), String>)> = vec![
        ("list", task(), ok()),
        (
            "list",
            with(|t| t.list_id = Some("901100000951".into())),
            no("the task is not in list 901100000950"),
        ),
        (
            "list",
            with(|t| t.list_id = None),
            no("the task is not in list 901100000950"),
        ),
        ("folder", task(), ok()),
        (
            "folder",
            with(|t| t.folder_id = Some("1".into())),
            no("the task is not in folder 901100000900"),
        ),
        ("space", task(), ok()),
        (
            "space",
            with(|t| t.space_id = None),
            no("the task is not in space 901100000100"),
        ),
        ("tags", task(), ok()),
        (
            "tags",
            with(|t| t.tags = vec![" COMPLIANCE ".into(), "sox".into(), "q3".into()]),
            ok(),
        ),
        (
            "tags",
            with(|t| t.tags.truncate(1)),
            no("the task has no tag \"sox\""),
        ),
        (
            "tags",
            with(|t| t.tags.clear()),
            no("the task has no tag \"compliance\""),
        ),
        ("name", task(), ok()),
        (
            "name",
            with(|t| t.name = "Compliance: review".into()),
            no("the task name does not contain \"compliance review\""),
        ),
        ("status", task(), ok()),
        (
            "status",
            with(|t| t.status = "in progress".into()),
            no("the status is not \"open\""),
        ),
        ("region", task(), ok()),
        (
            "region",
            with(|t| t.fields[0].value = Some("APAC".into())),
            no("field `region` is not \"emea\""),
        ),
        (
            "region",
            with(|t| t.fields[0].value = None),
            no("field `region` is empty"),
        ),
        (
            "region",
            with(|t| drop(t.fields.remove(0))),
            no("the task has no field `region`"),
        ),
        ("region-by-id", task(), ok()),
        (
            "region-by-id",
            with(|t| t.fields[0].id = "5c69d237-0000-4000-8000-00000000f00b".into()),
            no("the task has no field `5c69d237-0000-4000-8000-00000000f00a`"),
        ),
        ("number", task(), ok()),
        (
            "number",
            with(|t| t.fields[1].value = Some("1234.00".into())),
            ok(),
        ),
        (
            "number",
            with(|t| t.fields[1].value = Some("1235".into())),
            no("field `Ticket Number` is not \"1234.0\""),
        ),
        (
            "events",
            task(),
            no("the event is not one of taskMoved, taskUpdated"),
        ),
        ("events", with(|t| t.event = "taskMoved".into()), ok()),
        (
            "anywhere",
            with(|t| (t.list_id, t.folder_id, t.space_id) = (None, None, None)),
            ok(),
        ),
        (
            "anywhere",
            with(|t| t.event = "taskUpdated".into()),
            no("the event is not taskCreated"),
        ),
    ];
    for (name, facts, expected) in cases {
        assert_eq!(
            rule(&rules, name).covers(&facts),
            expected,
            "{name}: {facts:?}"
        );
    }
}

#[test]
fn drop_downs_cover_whether_read_as_an_index_or_a_uuid() {
    let rules = load(&covering_rules());
    let region = |value: Value| {
        let task = json!({
            "id": "t1", "name": "x", "status": { "status": "open" }, "list": { "id": "1" },
            "custom_fields": [{
                "id": "5c69d237-0000-4000-8000-00000000f00a", "name": "Region", "type": "drop_down",
                "type_config": { "options": [
                    { "id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "APAC", "orderindex": 0 },
                    { "id": "aaaaaaaa-0000-4000-8000-000000000002", "name": "EMEA", "orderindex": 1 }
                ] },
                "value": value
            }]
        });
        rule(&rules, "region").covers(&TaskFacts::from_task("taskCreated", &task))
    };

    assert_eq!(region(json!(1)), Ok(()));
    assert_eq!(region(json!("1")), Ok(()));
    assert_eq!(
        region(json!("AAAAAAAA-0000-4000-8000-000000000002")),
        Ok(())
    );
    assert_eq!(
        region(json!(0)),
        Err("field `region` is not \"emea\"".to_owned())
    );
    assert_eq!(region(json!(7)), Err("field `region` is empty".to_owned()));
    assert_eq!(
        region(Value::Null),
        Err("field `region` is empty".to_owned())
    );
}

#[test]
fn the_first_covering_rule_assigns_in_file_and_rule_order() {
    let rules = load(&covering_rules());
    let first = rules.assignment_for(&task()).map(|rule| rule.name.as_str());
    assert_eq!(first, Some("list"));

    let mut elsewhere = task();
    (elsewhere.list_id, elsewhere.folder_id, elsewhere.space_id) = (None, None, None);
    elsewhere.tags.clear();
    let first = rules
        .assignment_for(&elsewhere)
        .map(|rule| rule.name.as_str());
    assert_eq!(first, Some("name"));

    elsewhere.event = "taskDeleted".into();
    assert!(rules.assignment_for(&elsewhere).is_none());
}

#[test]
fn conditions_are_where_plus_the_field_mapping() {
    let rules = load(
        r#"
assignments:
  - name: risk
    match: {}
    candidates: { where: { department: Risk, group: Auditors } }
    strategy: least_loaded
  - name: mapped
    match: {}
    strategy: by_field
    by_field: { field: Region, attribute: location, map: { EMEA: London, APAC: Singapore } }
  - name: as-is
    match: {}
    candidates: { where: { division: Ops } }
    strategy: by_field
    by_field: { field: "5c69d237-0000-4000-8000-00000000f00a", attribute: location }
"#,
    );
    let pairs = |pairs: &[(&str, &str)]| -> Result<Vec<(String, String)>, String> {
        Ok(pairs
            .iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect())
    };
    let region = |value: Option<&str>| {
        let mut facts = task();
        facts.fields[0].value = value.map(str::to_owned);
        facts
    };
    let unmapped = "field `Region` has a value with no entry in `map` (mapped: APAC, EMEA)";

    let cases = [
        (
            "risk",
            task(),
            pairs(&[("department", "Risk"), ("group", "Auditors")]),
        ),
        (
            "risk",
            region(None),
            pairs(&[("department", "Risk"), ("group", "Auditors")]),
        ),
        ("mapped", task(), pairs(&[("location", "London")])),
        (
            "mapped",
            region(Some(" apac ")),
            pairs(&[("location", "Singapore")]),
        ),
        ("mapped", region(Some("AMER")), Err(unmapped.to_owned())),
        (
            "mapped",
            region(None),
            Err("field `Region` is empty".to_owned()),
        ),
        (
            "mapped",
            TaskFacts {
                fields: Vec::new(),
                ..task()
            },
            Err("the task has no field `Region`".to_owned()),
        ),
        (
            "as-is",
            task(),
            pairs(&[("division", "Ops"), ("location", "EMEA")]),
        ),
        (
            "as-is",
            region(Some("Boston ")),
            pairs(&[("division", "Ops"), ("location", "Boston")]),
        ),
    ];
    for (name, facts, expected) in cases {
        assert_eq!(
            rule(&rules, name).conditions(&facts),
            expected,
            "{name}: {facts:?}"
        );
    }
}

#[test]
fn the_filter_keeps_fails_or_errs_per_candidate() {
    let rules = load(
        r#"
assignments:
  - name: analysts
    match: {}
    candidates: { where: { department: Risk }, filter: 'person.title.contains("Analyst")' }
    strategy: round_robin
  - name: current
    match: {}
    candidates:
      where: { department: Risk }
      filter: 'person.end_date == null || person.end_date > now'
    strategy: round_robin
  - name: custom
    match: {}
    candidates: { where: { department: Risk }, filter: 'person.custom.level > 2' }
    strategy: round_robin
  - { name: anyone, match: {}, candidates: { where: { department: Risk } }, strategy: round_robin }
"#,
    );
    let now = DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .map(|at| at.to_utc())
        .unwrap_or_else(|error| panic!("{error}"));
    let person = |title: &str, status: &str, end: Option<(i32, u32, u32)>| Identity {
        id: "u1".into(),
        title: Some(title.into()),
        status: status.into(),
        end_date: end.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
        ..Identity::default()
    };
    let keeps = |name: &str, person: &Identity, now: DateTime<Utc>| {
        rule(&rules, name).keeps(&rules, person, now)
    };

    let analyst = person("Senior Analyst", "active", None);
    let clerk = person("Clerk", "active", None);
    assert_eq!(keeps("analysts", &analyst, now), Ok(true));
    assert_eq!(keeps("analysts", &clerk, now), Ok(false));
    assert_eq!(keeps("anyone", &clerk, now), Ok(true));
    assert_eq!(
        keeps("anyone", &person("Clerk", "terminated", None), now),
        Ok(false)
    );
    assert_eq!(
        keeps("analysts", &person("Senior Analyst", "disabled", None), now),
        Ok(false)
    );

    assert_eq!(
        keeps(
            "current",
            &person("Clerk", "active", Some((2026, 3, 1))),
            now
        ),
        Ok(true)
    );
    assert_eq!(
        keeps(
            "current",
            &person("Clerk", "active", Some((2026, 2, 28))),
            now
        ),
        Ok(false)
    );

    let failed = keeps("custom", &clerk, now);
    assert!(
        failed
            .as_ref()
            .is_err_and(|error| error.starts_with("`filter` ")),
        "{failed:?}"
    );
}
