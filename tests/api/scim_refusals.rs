//! SCIM writes refused for what they would do to people: a User whose e-mail address is
//! another User's (ClickUp knows people by e-mail, so the two would share one account), and a
//! resource claiming a schema the server does not serve. Each refusal publishes nothing and
//! keeps the store as it was.

use clickup_iam_router::{bus::Lane, scim::schema::ResourceType};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{Options, TestApp},
    scim_kit::{published, spawn_scim, Scim, CORE, ENTERPRISE},
};

/// What a refusal must leave as it was: the events published, the queues, the Users listed.
async fn snapshot(app: &TestApp, scim: &Scim) -> (Vec<String>, u32, Value) {
    let queued = app.depth(Lane::Provision).await + app.depth(Lane::Deprovision).await;
    let users = scim.get("/Users").await.body;
    (published(app).await, queued, users["Resources"].clone())
}

#[tokio::test]
async fn a_users_email_is_no_other_users_until_it_is_given_up() {
    let app = spawn_scim(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let scim = Scim::new(&app);
    let ann = scim
        .user(json!({"userName": "ann", "emails": [
            {"value": "old@example.com", "type": "home"},
            {"value": "Ann@Example.com", "primary": true}]}))
        .await;
    let ann_path = format!("/Users/{}", ann["id"].as_str().unwrap());
    let bob = scim
        .user(json!({"userName": "bob", "emails": [{"value": "bob@example.com"}]}))
        .await;
    let bob_path = format!("/Users/{}", bob["id"].as_str().unwrap());
    let before = snapshot(&app, &scim).await;

    let taken = json!([{"value": "ann@EXAMPLE.com", "type": "work"}]);
    let cases = [
        (
            Method::POST,
            "/Users".to_owned(),
            json!({"userName": "carol", "emails": taken}),
        ),
        (
            Method::PUT,
            bob_path.clone(),
            json!({"userName": "bob", "emails": taken}),
        ),
        (
            Method::PATCH,
            bob_path.clone(),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "emails", "value": taken}]}),
        ),
    ];
    for (method, path, body) in &cases {
        let refused = scim.call(method.clone(), path, body).await;
        refused.assert_error(409, Some("uniqueness"));
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains("emails"), "{detail}");
        assert!(!detail.to_lowercase().contains("ann@"), "{detail}");
    }
    assert_eq!(snapshot(&app, &scim).await, before);

    let home_only = json!({"userName": "dan", "emails": [{"value": "old@example.com"}]});
    assert_eq!(scim.post("/Users", &home_only).await.status, 201);
    let moved = scim
        .patch(
            &ann_path,
            json!([{"op": "replace", "path": "emails",
                    "value": [{"value": "ann.lee@example.com", "primary": true}]}]),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let (method, path, body) = &cases[0];
    let freed = scim.call(method.clone(), path, body).await;
    assert_eq!(freed.status, 201, "{}", freed.body);
    app.stop().await;
}

#[tokio::test]
async fn a_resource_claiming_a_schema_not_served_is_refused() {
    let app = spawn_scim(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let scim = Scim::new(&app);
    let ann = scim
        .user(json!({"schemas": [CORE], "userName": "ann", "title": "Lead"}))
        .await;
    let ann_path = format!("/Users/{}", ann["id"].as_str().unwrap());
    let before = snapshot(&app, &scim).await;

    let long = format!("urn:example:{}", "x".repeat(200));
    let group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    let cases = [
        (
            Method::POST,
            "/Users",
            json!({"schemas": [CORE, long], "userName": "bob"}),
            "invalidValue",
        ),
        (
            Method::PUT,
            ann_path.as_str(),
            json!({"schemas": [CORE, "urn:x:custom"], "userName": "ann"}),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Users",
            json!({"schemas": [ENTERPRISE], "userName": "bob"}),
            "invalidSyntax",
        ),
        (
            Method::POST,
            "/Users",
            json!({"schemas": [group, CORE], "userName": "bob"}),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Groups",
            json!({"schemas": [group, ENTERPRISE], "displayName": "G"}),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Users",
            json!({"schemas": CORE, "userName": "bob"}),
            "invalidSyntax",
        ),
    ];
    for (method, path, body, scim_type) in &cases {
        let refused = scim.call(method.clone(), path, body).await;
        refused.assert_error(400, Some(scim_type));
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.chars().count() < 200, "{detail}");
    }
    let detail = scim.call(Method::POST, "/Users", &cases[0].2).await.body["detail"].clone();
    assert!(
        detail.as_str().unwrap().contains("urn:example:xxx"),
        "{detail}"
    );
    assert_eq!(snapshot(&app, &scim).await, before);
    assert_eq!(scim.get(&ann_path).await.body["title"], "Lead");

    let served = json!({"schemas": [CORE.to_uppercase(), ENTERPRISE], "userName": "bob",
                        ENTERPRISE: {"department": "Sales"}});
    assert_eq!(scim.post("/Users", &served).await.status, 201);
    app.stop().await;
}

/// Users that shared an address before the check existed (written straight to the store
/// here) can still be changed and disabled; only giving one the address again is refused.
#[tokio::test]
async fn users_sharing_an_address_from_before_can_still_be_disabled() {
    let app = spawn_scim(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let scim = Scim::new(&app);
    let mut write = app.store.scim_write().await.unwrap();
    for id in ["old-1", "old-2"] {
        let user = json!({"schemas": [CORE], "userName": id,
                          "emails": [{"value": "Shared@example.com"}]});
        write
            .insert(ResourceType::User, id, &user, chrono::Utc::now())
            .await
            .unwrap();
    }
    write.commit().await.unwrap();

    let disabled = scim
        .patch(
            "/Users/old-2",
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(published(&app).await, ["iam.user.disabled"]);

    let other =
        json!([{"op": "replace", "path": "emails", "value": [{"value": "own@example.com"}]}]);
    assert_eq!(scim.patch("/Users/old-2", other).await.status, 200);
    let back =
        json!([{"op": "replace", "path": "emails", "value": [{"value": "shared@example.com"}]}]);
    scim.patch("/Users/old-2", back)
        .await
        .assert_error(409, Some("uniqueness"));
    app.stop().await;
}
