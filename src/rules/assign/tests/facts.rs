//! Reading a task's JSON into [`TaskFacts`]: the fixture excerpt, and field values of every
//! shape as text.

use serde_json::{json, Value};

use super::field;
use crate::rules::TaskFacts;

#[test]
fn task_facts_are_read_from_the_task_json() {
    // From /work/shared/fixtures/clickup/api-task-get-excerpt.json, trimmed.
    let task = json!({
        "id": "86abc0001",
        "name": "Grant VPN access to carol@example.com",
        "status": { "id": "p90110000003_AbCdEfGh", "status": "in progress", "type": "custom" },
        "tags": [{ "name": "access-request", "tag_fg": "#EA80FC", "creator": 9001001 }],
        "custom_fields": [
            { "id": "1f3cc395-0000-4000-8000-00000000000a", "name": "Ticket Number", "type": "number",
              "type_config": {}, "value": "1234" },
            { "id": "862a38bb-0000-4000-8000-0000000000cf", "name": "Access Tier", "type": "drop_down",
              "type_config": { "new_drop_down": true, "options": [
                  { "id": "5048f827-0000-4000-8000-00000000f001", "name": "Standard", "orderindex": 0 },
                  { "id": "5c69d237-0000-4000-8000-00000000f002", "name": "Privileged", "orderindex": 1 }
              ] },
              "value": 1 },
            { "id": "f4d2a20d-0000-4000-8000-00000000000b", "name": "Approver", "type": "users",
              "type_config": { "single_user": true },
              "value": [{ "id": 9001001, "username": "Alice Admin", "email": "alice@example.com" }] },
            { "id": "a571297b-0000-4000-8000-0000000000cb", "name": "Offboarded", "type": "checkbox",
              "type_config": {}, "value": null }
        ],
        "list": { "id": "901100000001", "name": "Access Requests", "access": true },
        "folder": { "id": "90110000004", "name": "hidden", "hidden": true, "access": true },
        "space": { "id": "90110000003" }
    });

    let facts = TaskFacts::from_task("taskCreated", &task);
    let expected = TaskFacts {
        event: "taskCreated".into(),
        task_id: "86abc0001".into(),
        name: "Grant VPN access to carol@example.com".into(),
        status: "in progress".into(),
        list_id: Some("901100000001".into()),
        folder_id: Some("90110000004".into()),
        space_id: Some("90110000003".into()),
        tags: vec!["access-request".into()],
        fields: vec![
            field(
                "1f3cc395-0000-4000-8000-00000000000a",
                "Ticket Number",
                Some("1234"),
            ),
            field(
                "862a38bb-0000-4000-8000-0000000000cf",
                "Access Tier",
                Some("Privileged"),
            ),
            field("f4d2a20d-0000-4000-8000-00000000000b", "Approver", None),
            field("a571297b-0000-4000-8000-0000000000cb", "Offboarded", None),
        ],
    };
    assert_eq!(facts, expected);

    let debug = format!("{facts:?}");
    assert!(
        !debug.contains("carol") && !debug.contains("1234"),
        "{debug}"
    );
}

#[test]
fn field_values_of_every_shape_read_as_text() {
    let options = json!({ "options": [
        { "id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "Red", "label": "Red", "orderindex": "0" },
        { "id": "aaaaaaaa-0000-4000-8000-000000000002", "label": "Blue", "orderindex": "1" }
    ] });
    let read = |type_config: &Value, value: Value| {
        let field = json!({ "id": "f", "name": "F", "type_config": type_config, "value": value });
        let task = json!({ "custom_fields": [field] });
        let facts = TaskFacts::from_task("taskCreated", &task);
        facts.fields.first().and_then(|field| field.value.clone())
    };
    let none = json!({});

    let cases = [
        (&options, json!(0), Some("Red")),
        (&options, json!("1"), Some("Blue")),
        (
            &options,
            json!("aaaaaaaa-0000-4000-8000-000000000002"),
            Some("Blue"),
        ),
        (
            &options,
            json!([
                "aaaaaaaa-0000-4000-8000-000000000002",
                "aaaaaaaa-0000-4000-8000-000000000001"
            ]),
            Some("Blue, Red"),
        ),
        (
            &options,
            json!([{ "id": "aaaaaaaa-0000-4000-8000-000000000001" }]),
            Some("Red"),
        ),
        (
            &options,
            json!(["aaaaaaaa-0000-4000-8000-000000000009"]),
            None,
        ),
        (&none, json!(" EMEA "), Some("EMEA")),
        (&none, json!(12.5), Some("12.5")),
        (&none, json!(1234), Some("1234")),
        (&none, json!(true), Some("true")),
        (&none, json!(""), None),
        (&none, json!([]), None),
        (&none, json!({ "x": 1 }), None),
    ];
    for (type_config, value, expected) in cases {
        let shown = value.to_string();
        assert_eq!(
            read(type_config, value),
            expected.map(str::to_owned),
            "{shown}"
        );
    }

    let numbers =
        json!({ "id": 90110, "list": { "id": 901100000001u64 }, "folder": { "id": 1.5 } });
    let facts = TaskFacts::from_task(" taskMoved ", &numbers);
    assert_eq!(
        (
            facts.event.as_str(),
            facts.task_id.as_str(),
            facts.list_id.as_deref(),
            facts.folder_id.as_deref()
        ),
        ("taskMoved", "90110", Some("901100000001"), None)
    );
    assert_eq!(
        (facts.name.as_str(), facts.status.as_str(), facts.tags.len()),
        ("", "", 0)
    );
}
