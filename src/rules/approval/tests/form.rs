//! Reading the request form from task JSON as `GET /v2/task/{id}` (and webhooks) carry it.

use serde_json::{json, Value};

use super::{policy_of, two_areas};
use crate::rules::{FormError, RequestForm};

/// One field's state in a task.
#[derive(Clone)]
enum V {
    /// The task does not have the field at all.
    NoField,
    /// The field is there without a `value` key.
    Unset,
    Is(Value),
    /// The level as a text field (no options).
    Text(&'static str),
}

const FINANCE_OPTION: &str = "5c69d237-0000-4000-8000-00000000f002";

fn options(names: &[&str]) -> Value {
    let options: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let id = format!("5c69d237-0000-4000-8000-00000000f00{}", index + 1);
            json!({ "id": id, "name": name, "color": null, "orderindex": index })
        })
        .collect();
    json!({ "new_drop_down": true, "options": options })
}

fn field(id: &str, name: &str, kind: &str, config: Value, state: &V) -> Option<Value> {
    let mut field = json!({ "id": id, "name": name, "type": kind, "type_config": config });
    match state {
        V::NoField => return None,
        V::Unset => {}
        V::Is(value) => field["value"] = value.clone(),
        V::Text(text) => {
            field["type"] = json!("short_text");
            field["type_config"] = json!({});
            field["value"] = json!(text);
        }
    }
    Some(field)
}

/// A task whose custom fields hold `area`, `level`, `duration` and `justification`, with an
/// unrelated field first as real tasks have.
fn task([area, level, duration, justification]: [&V; 4]) -> Value {
    let fields = [
        Some(
            json!({ "id": "1f3cc395-0000-4000-8000-00000000000a", "name": "Ticket Number", "type": "number", "type_config": {}, "value": "1234" }),
        ),
        field(
            "862a38bb-0000-4000-8000-0000000000c1",
            "Area",
            "drop_down",
            options(&["Legal", "Finance", "Marketing"]),
            area,
        ),
        field(
            "862a38bb-0000-4000-8000-0000000000c2",
            "Access level",
            "drop_down",
            options(&["View", "Comment", "Edit", "Full", "Admin"]),
            level,
        ),
        field(
            "862a38bb-0000-4000-8000-0000000000c3",
            "Duration (days)",
            "number",
            json!({}),
            duration,
        ),
        field(
            "862a38bb-0000-4000-8000-0000000000c4",
            "Justification",
            "text",
            json!({}),
            justification,
        ),
    ];
    let fields: Vec<Value> = fields.into_iter().flatten().collect();
    json!({ "id": "86abc0001", "list": { "id": "901100000901" }, "custom_fields": fields })
}

/// `area level duration justification`, the duration in days when whole.
fn summary(form: &RequestForm) -> String {
    let duration = form.duration.map_or("-".to_owned(), |duration| {
        match duration.num_seconds() % 86_400 {
            0 => format!("{}d", duration.num_days()),
            _ => format!("{}s", duration.num_seconds()),
        }
    });
    let justification = form.justification.as_deref().unwrap_or("-");
    format!("{} {} {duration} {justification}", form.area, form.level)
}

const WHY: &str = "Contract review for ACME";

#[test]
fn forms_are_read_from_every_value_shape() {
    let missing = |names: &[&str]| {
        Err(FormError::Missing(
            names.iter().map(|n| n.to_string()).collect(),
        ))
    };
    let invalid = |lines: &[&str]| {
        Err(FormError::Invalid(
            lines.iter().map(|l| l.to_string()).collect(),
        ))
    };
    let ok = |line: &str| Ok(line.to_owned());
    let is = V::Is;

    // area, level, duration, justification; then the summary or the error.
    let cases: Vec<(&str, [V; 4], Result<String, FormError>)> = vec![
        (
            "orderindex",
            [is(json!(0)), is(json!(0)), is(json!("14")), is(json!(WHY))],
            ok("Legal read 14d Contract review for ACME"),
        ),
        (
            "option UUID",
            [
                is(json!(FINANCE_OPTION.to_uppercase())),
                is(json!(2)),
                is(json!(14)),
                is(json!(WHY)),
            ],
            ok("Finance edit 14d Contract review for ACME"),
        ),
        (
            "numeric strings",
            [
                is(json!("1")),
                is(json!(" 3 ")),
                is(json!("8")),
                is(json!("  why  ")),
            ],
            ok("Finance create 8d why"),
        ),
        (
            "level by UUID",
            [
                is(json!(0)),
                is(json!("5c69d237-0000-4000-8000-00000000f002")),
                is(json!(1.5)),
                V::Unset,
            ],
            ok("Legal comment 129600s -"),
        ),
        (
            "level as text",
            [
                is(json!(0)),
                V::Text("VIEW"),
                is(json!("2w")),
                is(json!(null)),
            ],
            ok("Legal read 14d -"),
        ),
        (
            "level text full",
            [
                is(json!(1)),
                V::Text(" full "),
                is(json!("10d")),
                is(json!("")),
            ],
            ok("Finance create 10d -"),
        ),
        (
            "no duration",
            [is(json!(0)), is(json!(1)), is(json!(null)), is(json!(WHY))],
            ok("Legal comment - Contract review for ACME"),
        ),
        (
            "duration unset",
            [is(json!(0)), is(json!(1)), V::Unset, is(json!(WHY))],
            ok("Legal comment - Contract review for ACME"),
        ),
        (
            "unknown option",
            [is(json!(7)), is(json!(0)), is(json!(14)), is(json!(WHY))],
            invalid(&["Area: option 7 is not one of the field's options"]),
        ),
        (
            "unknown UUID",
            [
                is(json!("5c69d237-0000-4000-8000-00000000ffff")),
                is(json!(0)),
                is(json!(14)),
                is(json!(WHY)),
            ],
            invalid(&[
                r#"Area: option "5c69d237-0000-4000-8000-00000000ffff" is not one of the field's options"#,
            ]),
        ),
        (
            "unknown area",
            [is(json!(2)), is(json!(0)), is(json!(14)), is(json!(WHY))],
            invalid(&[r#"Area: "Marketing" is not an area"#]),
        ),
        (
            "unknown level",
            [is(json!(0)), is(json!(4)), is(json!(14)), is(json!(WHY))],
            invalid(&[r#"Access level: "Admin" is not read, comment, edit or create"#]),
        ),
        (
            "level not a text",
            [
                is(json!(0)),
                V::Text("write"),
                is(json!(14)),
                is(json!(WHY)),
            ],
            invalid(&[r#"Access level: "write" is not read, comment, edit or create"#]),
        ),
        (
            "zero days",
            [is(json!(0)), is(json!(0)), is(json!("0")), is(json!(WHY))],
            invalid(&["Duration (days): must be more than zero"]),
        ),
        (
            "negative days",
            [is(json!(0)), is(json!(0)), is(json!(-3)), is(json!(WHY))],
            invalid(&["Duration (days): must be more than zero"]),
        ),
        (
            "duration words",
            [
                is(json!(0)),
                is(json!(0)),
                is(json!("two weeks")),
                is(json!(WHY)),
            ],
            invalid(&["Duration (days): not a number of days or a duration such as 14d or 2w"]),
        ),
        (
            "endless",
            [is(json!(0)), is(json!(0)), is(json!(1e9)), is(json!(WHY))],
            invalid(&["Duration (days): is too long"]),
        ),
        (
            "several invalid",
            [is(json!(2)), is(json!(0)), is(json!("0")), is(json!(42))],
            invalid(&[
                r#"Area: "Marketing" is not an area"#,
                "Duration (days): must be more than zero",
                "Justification: not a text",
            ]),
        ),
        (
            "area null",
            [is(json!(null)), is(json!(0)), is(json!(14)), is(json!(WHY))],
            missing(&["Area"]),
        ),
        (
            "area absent",
            [V::NoField, is(json!(0)), is(json!(14)), is(json!(WHY))],
            missing(&["Area"]),
        ),
        (
            "level unset, duration field absent",
            [is(json!(0)), V::Unset, V::NoField, is(json!(WHY))],
            missing(&["Access level", "Duration (days)"]),
        ),
        (
            "missing hides invalid",
            [is(json!(2)), V::NoField, is(json!(0)), is(json!(WHY))],
            missing(&["Access level"]),
        ),
        (
            "justification field absent",
            [is(json!(0)), is(json!(0)), is(json!(3)), V::NoField],
            missing(&["Justification"]),
        ),
    ];

    let rules = two_areas();
    let policy = policy_of(&rules);
    for (name, [area, level, duration, justification], expected) in cases {
        let task = task([&area, &level, &duration, &justification]);
        let read = policy.read_form(&task);

        assert_eq!(
            read.as_ref().map(summary).map_err(Clone::clone),
            expected,
            "{name}"
        );
        if let Err(error) = read {
            assert!(!error.to_string().contains("ACME"), "{name}: {error}");
        }
    }

    let bare = json!({ "id": "86abc0002" });
    let everything = ["Area", "Access level", "Duration (days)", "Justification"];
    assert_eq!(
        policy.read_form(&bare).map(|form| summary(&form)),
        missing(&everything)
    );
}

#[test]
fn fields_are_found_by_uuid_and_the_form_never_prints_the_justification() {
    let text = super::policy_text(&[super::legal_with("name", "name: Legal")])
        .replace("area: Area", "area: 862A38BB-0000-4000-8000-0000000000C1");
    let rules = super::load(&text);
    let policy = policy_of(&rules);
    let mut task = task([
        &V::Is(json!(0)),
        &V::Is(json!(0)),
        &V::Unset,
        &V::Is(json!(WHY)),
    ]);
    let form = policy.read_form(&task).map(|form| summary(&form));
    assert_eq!(form, Ok(format!("Legal read - {WHY}")));

    task["custom_fields"][1]["name"] = json!("Area renamed");
    let form = policy
        .read_form(&task)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(form.area, "Legal");
    assert!(!format!("{form:?}").contains("ACME"), "{form:?}");

    task["custom_fields"][1]["value"] = json!(null);
    let missing = policy.read_form(&task);
    assert_eq!(
        missing,
        Err(FormError::Missing(vec!["Area renamed".into()]))
    );
    let error = missing.map(|_| ()).unwrap_err().to_string();
    assert_eq!(error, "missing: Area renamed");
}
