//! Tests of Custom Fields: the List's field definitions, setting values by type (a drop-down
//! by option UUID or orderindex, read back as the orderindex; a number read back as a
//! string), the FIELD_* refusals, clearing a value, and seeding with explicit ids.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::{
    testing::{call, start_default, Reply},
    CustomFieldType, Sandbox, SandboxCustomField, SandboxFieldOption,
};

/// A List with one field of each type, a task on it, and a field on another List.
struct Seeded {
    list: String,
    task: String,
    tier: String,
    options: Vec<SandboxFieldOption>,
    ticket: String,
    reason: String,
    until: String,
    elsewhere: String,
}

fn seed(sandbox: &Sandbox) -> Seeded {
    let state = sandbox.state();
    let space = state.add_space("Engineering");
    let list = state.add_list(&space, "Access Requests");
    let other = state.add_list(&space, "Audits");
    let task = state.add_task(&list, "Grant VPN");
    let tiers = ["Standard", "Privileged", "Break-glass"];
    let tier = state.add_custom_field(&list, "Access Tier", CustomFieldType::DropDown, &tiers);
    let ticket = state.add_custom_field(&list, "Ticket Number", CustomFieldType::Number, &[]);
    let reason = state.add_custom_field(&list, "Reason", CustomFieldType::ShortText, &["x"]);
    let until = state.add_custom_field(&list, "Access Until", CustomFieldType::Date, &[]);
    let elsewhere = state.add_custom_field(&other, "Auditor", CustomFieldType::ShortText, &[]);
    let options = state.custom_fields(&list)[0].options.clone();

    Seeded {
        list,
        task,
        tier,
        options,
        ticket,
        reason,
        until,
        elsewhere,
    }
}

async fn set(sandbox: &Sandbox, task: &str, field: &str, body: Value) -> Reply {
    let path = format!("/v2/task/{task}/field/{field}");
    call(sandbox, Method::POST, &path, Some(body)).await
}

/// The `value` of a field in `GET /v2/task/{task_id}`, or `None` when the key is absent.
async fn read_value(sandbox: &Sandbox, task: &str, field: &str) -> Option<Value> {
    let read = call(sandbox, Method::GET, &format!("/v2/task/{task}"), None).await;
    let fields = read.body["custom_fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let entry = fields.into_iter().find(|entry| entry["id"] == field)?;
    entry.get("value").cloned()
}

#[tokio::test]
async fn list_fields_show_types_and_drop_down_options() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);

    let reply = call(
        &sandbox,
        Method::GET,
        &format!("/v2/list/{}/field", seeded.list),
        None,
    )
    .await;

    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let fields = reply.body["fields"].as_array().expect("fields");
    let types: Vec<(&Value, &Value)> = fields.iter().map(|f| (&f["name"], &f["type"])).collect();
    assert_eq!(
        types,
        [
            (&json!("Access Tier"), &json!("drop_down")),
            (&json!("Ticket Number"), &json!("number")),
            (&json!("Reason"), &json!("short_text")),
            (&json!("Access Until"), &json!("date"))
        ]
    );
    let options = &fields[0]["type_config"]["options"];
    assert_eq!(
        options[2],
        json!({ "id": seeded.options[2].id, "name": "Break-glass", "color": null, "orderindex": 2 })
    );
    assert!(
        uuid::Uuid::parse_str(&seeded.tier).is_ok(),
        "{}",
        seeded.tier
    );
    assert_eq!(
        fields[2]["type_config"],
        json!({}),
        "options only on drop-downs"
    );
    assert!(fields[0]["date_created"].is_string() && fields[0]["hide_from_guests"] == false);
    let cases = [
        ("/v2/list/404/field", 404, "ITEM_015"),
        ("/v2/list/4x/field", 500, "SHARD_001"),
    ];
    for (path, status, ecode) in cases {
        let reply = call(&sandbox, Method::GET, path, None).await;
        assert_eq!(
            (reply.status, &reply.body["ECODE"]),
            (status, &json!(ecode)),
            "{path}"
        );
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn values_are_written_by_type_and_read_back_as_clickup_shows_them() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let privileged = seeded.options[1].id.clone();
    let cases = [
        (&seeded.tier, json!(privileged), json!(1)),
        (&seeded.tier, json!(0), json!(0)),
        (&seeded.tier, json!(privileged.to_uppercase()), json!(1)),
        (&seeded.ticket, json!(1234), json!("1234")),
        (&seeded.ticket, json!(2.5), json!("2.5")),
        (&seeded.reason, json!("On-call rota"), json!("On-call rota")),
        (
            &seeded.until,
            json!(1_736_294_400_000_u64),
            json!("1736294400000"),
        ),
    ];

    for (field, sent, shown) in cases {
        let reply = set(&sandbox, &seeded.task, field, json!({ "value": sent })).await;

        assert_eq!(reply.status, 200, "{sent}: {:?}", reply.body);
        assert_eq!(reply.body, json!({}));
        assert_eq!(
            read_value(&sandbox, &seeded.task, field).await,
            Some(shown.clone())
        );
        let stored = sandbox
            .state()
            .task(&seeded.task)
            .expect("task")
            .custom_fields;
        assert!(
            stored.contains(&(field.clone(), shown)),
            "{sent}: {stored:?}"
        );
    }
    let stored = sandbox
        .state()
        .task(&seeded.task)
        .expect("task")
        .custom_fields;
    assert_eq!(stored.len(), 4, "one value per field: {stored:?}");
    sandbox.stop().await;
}

#[tokio::test]
async fn bad_values_and_foreign_fields_are_refused_and_change_nothing() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let task = seeded.task.as_str();
    let ok = set(&sandbox, task, &seeded.tier, json!({ "value": 2 })).await;
    assert_eq!(ok.status, 200);
    let cases = [
        (
            task,
            &seeded.tier,
            json!({ "value": "Standard" }),
            400,
            "FIELD_011",
        ),
        (task, &seeded.tier, json!({ "value": 3 }), 400, "FIELD_011"),
        (task, &seeded.tier, json!({ "value": -1 }), 400, "FIELD_011"),
        (
            task,
            &seeded.tier,
            json!({ "value": true }),
            400,
            "FIELD_011",
        ),
        (
            task,
            &seeded.ticket,
            json!({ "value": "8" }),
            400,
            "FIELD_001",
        ),
        (
            task,
            &seeded.reason,
            json!({ "value": 5 }),
            400,
            "FIELD_001",
        ),
        (
            task,
            &seeded.until,
            json!({ "value": "tomorrow" }),
            400,
            "FIELD_001",
        ),
        (task, &seeded.tier, json!({}), 400, "INPUT_001"),
        (
            task,
            &seeded.elsewhere,
            json!({ "value": "Bob" }),
            400,
            "FIELD_010",
        ),
        (
            task,
            &"no-such-field".to_owned(),
            json!({ "value": 1 }),
            400,
            "FIELD_010",
        ),
        (
            "86abc9999",
            &seeded.tier,
            json!({ "value": 1 }),
            401,
            "ITEM_013",
        ),
    ];

    for (task_id, field, body, status, ecode) in cases {
        let reply = set(&sandbox, task_id, field, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    let dropdown = set(&sandbox, task, &seeded.tier, json!({ "value": "Standard" })).await;
    assert_eq!(
        dropdown.body["err"],
        "Value must be an option index or uuid"
    );
    assert_eq!(
        read_value(&sandbox, task, &seeded.tier).await,
        Some(json!(2))
    );
    let stored = sandbox.state().task(task).expect("task").custom_fields;
    assert_eq!(stored, [(seeded.tier.clone(), json!(2))]);
    sandbox.stop().await;
}

#[tokio::test]
async fn removing_a_value_leaves_the_field_without_one() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let task = seeded.task.as_str();
    set(&sandbox, task, &seeded.ticket, json!({ "value": 8 })).await;
    let path = format!("/v2/task/{task}/field/{}", seeded.ticket);

    let first = call(&sandbox, Method::DELETE, &path, None).await;
    let again = call(&sandbox, Method::DELETE, &path, None).await;

    for reply in [first, again] {
        assert_eq!((reply.status, reply.body), (200, json!({})));
    }
    assert_eq!(
        read_value(&sandbox, task, &seeded.ticket).await,
        None,
        "no value key"
    );
    assert!(sandbox
        .state()
        .task(task)
        .expect("task")
        .custom_fields
        .is_empty());
    sandbox.stop().await;
}

#[test]
fn explicit_field_ids_are_kept_and_clashes_refused() {
    let state = super::super::SandboxState::new(&super::super::SandboxConfig::default());
    let space = state.add_space("Engineering");
    let list = state.add_list(&space, "Access Requests");
    let option = |id: &str, name: &str, orderindex| SandboxFieldOption {
        id: id.to_owned(),
        name: name.to_owned(),
        orderindex,
    };
    let field = |id: &str, list_id: &str, options| SandboxCustomField {
        id: id.to_owned(),
        list_id: list_id.to_owned(),
        name: "Access Tier".to_owned(),
        field_type: CustomFieldType::DropDown,
        options,
    };
    let tier = field(
        "862a38bb-0000-4000-8000-0000000000cf",
        &list,
        vec![option(
            "5048f827-0000-4000-8000-00000000f001",
            "Standard",
            0,
        )],
    );
    state
        .insert_custom_field(tier.clone())
        .expect("first insert");
    let cases = [
        (tier.clone(), "already in use"),
        (field("f2", "404", vec![]), "no List 404"),
        (field(" ", &list, vec![]), "needs an id"),
        (
            field("f3", &list, vec![option("a", "A", 0), option("b", "B", 0)]),
            "repeats",
        ),
        (
            field("f4", &list, vec![option("a", "A", 0), option("A", "B", 1)]),
            "repeats",
        ),
    ];

    for (definition, expected) in cases {
        let error = state.insert_custom_field(definition).expect_err(expected);
        assert!(error.to_string().contains(expected), "{error}");
    }
    assert_eq!(state.custom_fields(&list), [tier]);
}
