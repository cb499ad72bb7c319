//! Tests of webhook management: the webhook object, duplicates, validation, update, delete,
//! and which task events a webhook hears.

use reqwest::Method;
use serde_json::{json, Value};

use super::{
    super::{
        hierarchy::TaskScope,
        testing::{call, owner_id, start_default, start_on, TEAM},
        Plan,
    },
    Health, Location, WebhookRecord,
};

fn hooks_path() -> String {
    format!("/v2/team/{TEAM}/webhook")
}

fn is_secret(value: &Value) -> bool {
    value.as_str().is_some_and(|secret| {
        secret.len() == 64
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

#[tokio::test]
async fn created_webhooks_have_clickup_shape_and_types() {
    let sandbox = start_default().await;
    let body = json!({
        "endpoint": "http://127.0.0.1:9/hooks/clickup",
        "events": ["taskCreated", "taskUpdated"],
        "space_id": 90110000003_u64
    });

    let reply = call(&sandbox, Method::POST, &hooks_path(), Some(body)).await;

    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let id = reply.body["id"].as_str().expect("string id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let webhook = &reply.body["webhook"];
    assert_eq!(webhook["id"], id);
    assert_eq!(
        webhook["userid"],
        json!(owner_id(&sandbox).await),
        "userid is an integer"
    );
    assert_eq!(
        webhook["team_id"],
        json!(9_012_345_678_u64),
        "team_id is an integer here"
    );
    assert_eq!(webhook["endpoint"], "http://127.0.0.1:9/hooks/clickup");
    assert_eq!(webhook["events"], json!(["taskCreated", "taskUpdated"]));
    assert_eq!(
        webhook["space_id"], "90110000003",
        "location ids come back as strings"
    );
    for field in ["task_id", "list_id", "folder_id"] {
        assert_eq!(webhook[field], Value::Null, "{field}");
    }
    assert_eq!(
        webhook["health"],
        json!({ "status": "active", "fail_count": 0 })
    );
    assert!(is_secret(&webhook["secret"]), "{}", webhook["secret"]);
    assert_eq!(webhook["client_id"].as_str().map(str::len), Some(32));
    let stored = sandbox.state().webhook(id).expect("stored");
    assert_eq!(Some(stored.1.as_str()), webhook["secret"].as_str());
    sandbox.stop().await;
}

#[tokio::test]
async fn registering_the_same_config_twice_is_oauth_171() {
    let sandbox = start_default().await;
    let body =
        json!({ "endpoint": "http://127.0.0.1:9/hook", "events": ["taskCreated", "listCreated"] });
    let reordered =
        json!({ "endpoint": "http://127.0.0.1:9/hook", "events": ["listCreated", "taskCreated"] });
    let other_events = json!({ "endpoint": "http://127.0.0.1:9/hook", "events": ["*"] });

    let first = call(&sandbox, Method::POST, &hooks_path(), Some(body)).await;
    let duplicate = call(&sandbox, Method::POST, &hooks_path(), Some(reordered)).await;
    let different = call(&sandbox, Method::POST, &hooks_path(), Some(other_events)).await;
    let listed = call(&sandbox, Method::GET, &hooks_path(), None).await;

    assert_eq!(first.status, 200);
    assert_eq!(duplicate.status, 400);
    assert_eq!(
        duplicate.body,
        json!({ "err": "Webhook configuration already exists", "ECODE": "OAUTH_171" })
    );
    assert_eq!(different.status, 200);
    let webhooks = listed.body["webhooks"].as_array().expect("webhooks");
    let ids: Vec<&Value> = webhooks.iter().map(|webhook| &webhook["id"]).collect();
    assert_eq!(ids, [&first.body["id"], &different.body["id"]]);
    assert!(webhooks.iter().all(|webhook| is_secret(&webhook["secret"])));
    sandbox.stop().await;
}

#[tokio::test]
async fn webhook_bodies_are_validated() {
    let sandbox = start_default().await;
    let cases = [
        (json!({ "events": ["taskCreated"] }), "INPUT_001"),
        (json!({ "endpoint": "http://127.0.0.1:9/h" }), "INPUT_001"),
        (
            json!({ "endpoint": "http://127.0.0.1:9/h", "events": "taskCreated" }),
            "INPUT_002",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9/h", "events": [] }),
            "INPUT_004",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9/h", "events": ["userInvited"] }),
            "INPUT_004",
        ),
        (
            json!({ "endpoint": 7, "events": ["taskCreated"] }),
            "INPUT_002",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9/h", "events": ["*"], "space_id": "9011" }),
            "INPUT_002",
        ),
    ];

    for (body, ecode) in cases {
        let reply = call(&sandbox, Method::POST, &hooks_path(), Some(body.clone())).await;

        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    let listed = call(&sandbox, Method::GET, &hooks_path(), None).await;
    assert_eq!(listed.body, json!({ "webhooks": [] }));
    sandbox.stop().await;
}

#[tokio::test]
async fn the_most_specific_location_wins() {
    let sandbox = start_default().await;
    let body = json!({
        "endpoint": "http://127.0.0.1:9/h",
        "events": ["*"],
        "space_id": 1,
        "folder_id": 2,
        "list_id": 3
    });

    let reply = call(&sandbox, Method::POST, &hooks_path(), Some(body)).await;

    let webhook = &reply.body["webhook"];
    assert_eq!(webhook["list_id"], "3");
    assert_eq!(
        (webhook["space_id"].clone(), webhook["folder_id"].clone()),
        (Value::Null, Value::Null)
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn update_and_delete_manage_a_webhook_by_id() {
    let sandbox = start_on(Plan::Business).await;
    let created = call(
        &sandbox,
        Method::POST,
        &hooks_path(),
        Some(json!({ "endpoint": "http://127.0.0.1:9/a", "events": ["taskCreated"] })),
    )
    .await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    let update = json!({ "endpoint": "http://127.0.0.1:9/b", "events": "*", "status": "active" });

    let updated = call(
        &sandbox,
        Method::PUT,
        &format!("/v2/webhook/{id}"),
        Some(update.clone()),
    )
    .await;
    let missing = call(
        &sandbox,
        Method::PUT,
        "/v2/webhook/not-a-hook",
        Some(update),
    )
    .await;
    let deleted = call(&sandbox, Method::DELETE, &format!("/v2/webhook/{id}"), None).await;
    let deleted_again = call(&sandbox, Method::DELETE, &format!("/v2/webhook/{id}"), None).await;

    assert_eq!(created.status, 200, "webhooks need no Enterprise plan");
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["id"], id.as_str());
    assert_eq!(updated.body["webhook"]["endpoint"], "http://127.0.0.1:9/b");
    assert_eq!(updated.body["webhook"]["events"], json!(["*"]));
    assert_eq!(
        updated.body["webhook"]["secret"],
        created.body["webhook"]["secret"]
    );
    assert_eq!(
        (missing.status, missing.body["ECODE"].clone()),
        (404, json!("WEBHOOK_001"))
    );
    assert_eq!((deleted.status, deleted.body.clone()), (200, json!({})));
    assert_eq!(deleted_again.status, 404);
    assert_eq!(sandbox.state().webhook(&id), None);
    sandbox.stop().await;
}

#[tokio::test]
async fn update_requires_endpoint_events_and_a_known_status() {
    let sandbox = start_default().await;
    let created = call(
        &sandbox,
        Method::POST,
        &hooks_path(),
        Some(json!({ "endpoint": "http://127.0.0.1:9/a", "events": ["*"] })),
    )
    .await;
    let path = format!("/v2/webhook/{}", created.body["id"].as_str().expect("id"));
    let cases = [
        (
            json!({ "endpoint": "http://127.0.0.1:9/a", "events": "*" }),
            "INPUT_001",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9/a", "events": "*", "status": "paused" }),
            "INPUT_004",
        ),
        (json!({ "events": "*", "status": "active" }), "INPUT_001"),
    ];

    for (body, ecode) in cases {
        let reply = call(&sandbox, Method::PUT, &path, Some(body.clone())).await;

        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    sandbox.stop().await;
}

#[test]
fn a_webhook_hears_events_it_subscribes_to_for_tasks_in_its_location() {
    let scope = TaskScope {
        task_id: "86abc0001".to_owned(),
        list_id: "901100000001".to_owned(),
        folder_id: Some("90130000002".to_owned()),
        space_id: Some("90110000003".to_owned()),
    };
    let at = |field: &str, id: &str| {
        let id = Some(id.to_owned());
        match field {
            "task" => Location {
                task_id: id,
                ..Location::default()
            },
            "list" => Location {
                list_id: id,
                ..Location::default()
            },
            "folder" => Location {
                folder_id: id,
                ..Location::default()
            },
            _ => Location {
                space_id: id,
                ..Location::default()
            },
        }
    };
    // (events, location, health, hears taskStatusUpdated)
    let cases = [
        (vec!["*"], Location::default(), Health::Active, true),
        (
            vec!["taskStatusUpdated"],
            Location::default(),
            Health::Failing,
            true,
        ),
        (
            vec!["taskUpdated", "taskCreated"],
            Location::default(),
            Health::Active,
            false,
        ),
        (vec!["*"], Location::default(), Health::Suspended, false),
        (vec!["*"], at("task", "86abc0001"), Health::Active, true),
        (vec!["*"], at("task", "86abc0002"), Health::Active, false),
        (vec!["*"], at("list", "901100000001"), Health::Active, true),
        (vec!["*"], at("list", "901100000009"), Health::Active, false),
        (vec!["*"], at("folder", "90130000002"), Health::Active, true),
        (
            vec!["*"],
            at("folder", "90130000009"),
            Health::Active,
            false,
        ),
        (vec!["*"], at("space", "90110000003"), Health::Active, true),
        (vec!["*"], at("space", "90110000009"), Health::Active, false),
    ];

    for (events, location, health, hears) in cases {
        let webhook = WebhookRecord {
            id: "hook".to_owned(),
            userid: 1,
            endpoint: "http://127.0.0.1:9/a".to_owned(),
            events: events.iter().map(|event| (*event).to_owned()).collect(),
            location: location.clone(),
            health,
            fail_count: 0,
            secret: "secret".to_owned(),
        };

        let heard = webhook.hears("taskStatusUpdated", &scope);

        assert_eq!(heard, hears, "{events:?} {location:?} {health:?}");
    }
}
