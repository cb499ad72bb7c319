//! SCIM writes and the bus: a refused write publishes nothing, an unconfirmed one is 503 and
//! keeps nothing, and Group membership is what a User's `groups` shows.

use clickup_iam_router::bus::Lane;
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{skip_unless_rabbitmq, Options},
    scim_kit::{published, published_with_subjects, spawn_scim, Scim, PATCH_OP},
};

/// Each refused write is answered before anything is published: no event, nothing queued,
/// the resource as it was.
#[tokio::test]
async fn a_refused_write_publishes_nothing_and_changes_nothing() {
    let app = spawn_scim(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let scim = Scim::new(&app);
    let ann = scim
        .user(json!({"userName": "ann@example.com", "title": "Lead"}))
        .await;
    let ann_path = format!("/Users/{}", ann["id"].as_str().unwrap());
    let group = scim.group(json!({"displayName": "Sales"})).await;
    let group_path = format!("/Groups/{}", group["id"].as_str().unwrap());
    let events = published(&app).await;
    let queued = app.depth(Lane::Provision).await + app.depth(Lane::Deprovision).await;

    let patch = |ops: Value| json!({"schemas": [PATCH_OP], "Operations": ops});
    let cases: Vec<(Method, String, Value, u16, Option<&str>)> = vec![
        (
            Method::POST,
            "/Users".into(),
            json!({"title": "x"}),
            400,
            Some("invalidValue"),
        ),
        (
            Method::POST,
            "/Users".into(),
            json!({"userName": "x", "shoeSize": 4}),
            400,
            Some("invalidSyntax"),
        ),
        (
            Method::POST,
            "/Users".into(),
            json!({"userName": "ANN@example.com"}),
            409,
            Some("uniqueness"),
        ),
        (
            Method::POST,
            "/Users".into(),
            json!({"userName": "y", "active": "maybe"}),
            400,
            Some("invalidValue"),
        ),
        (
            Method::PUT,
            ann_path.clone(),
            json!({"title": "x"}),
            400,
            Some("invalidValue"),
        ),
        (
            Method::PUT,
            "/Users/nobody".into(),
            json!({"userName": "z"}),
            404,
            None,
        ),
        (
            Method::PATCH,
            ann_path.clone(),
            patch(json!([{"op": "remove"}])),
            400,
            Some("noTarget"),
        ),
        (
            Method::PATCH,
            ann_path.clone(),
            patch(json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}])),
            400,
            Some("mutability"),
        ),
        (
            Method::PATCH,
            ann_path.clone(),
            patch(json!([{"op": "replace", "path": "emails[type zz \"w\"].value", "value": "x"}])),
            400,
            Some("invalidPath"),
        ),
        (
            Method::PATCH,
            ann_path.clone(),
            patch(
                json!([{"op": "replace", "path": "title", "value": "x"}, {"op": "remove", "path": "userName"}]),
            ),
            400,
            Some("invalidValue"),
        ),
        (
            Method::POST,
            "/Groups".into(),
            json!({"displayName": "G", "members": [{"value": "nobody"}]}),
            400,
            Some("invalidValue"),
        ),
        (
            Method::PATCH,
            group_path.clone(),
            patch(json!([{"op": "add", "path": "members", "value": [{"value": group["id"]}]}])),
            400,
            Some("invalidValue"),
        ),
        (
            Method::DELETE,
            "/Groups/nobody".into(),
            Value::Null,
            404,
            None,
        ),
    ];
    for (method, path, body, status, scim_type) in cases {
        let answer = scim.call(method.clone(), &path, &body).await;
        assert_eq!(
            answer.status, status,
            "{method} {path} {body}: {}",
            answer.body
        );
        answer.assert_error(status, scim_type);
    }

    assert_eq!(published(&app).await, events);
    assert_eq!(
        app.depth(Lane::Provision).await + app.depth(Lane::Deprovision).await,
        queued
    );
    let after = scim.get(&ann_path).await.body;
    assert_eq!(after["title"], "Lead");
    assert_eq!(after["meta"]["version"], "W/\"1\"");
    app.stop().await;
}

/// With the broker gone the write is 503 and the store keeps nothing; the client's retry
/// after recovery is an ordinary create.
#[tokio::test]
async fn a_write_whose_events_are_not_confirmed_is_503_and_changes_nothing() {
    if skip_unless_rabbitmq("it cuts the link to the broker") {
        return;
    }
    let app = spawn_scim(Options {
        through_proxy: true,
        without_worker: true,
        ..Options::default()
    })
    .await;
    let scim = Scim::new(&app);
    let proxy = app.proxy.as_ref().unwrap();
    let body = json!({"userName": "ann@example.com", "active": true});

    proxy.cut();
    let refused = scim.post("/Users", &body).await;
    let listed = scim.get("/Users").await;
    proxy.restore().await;
    let retried = scim.post("/Users", &body).await;

    refused.assert_error(503, None);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(
        listed.body["totalResults"], 0,
        "nothing kept: {}",
        listed.body
    );
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert_eq!(published(&app).await, ["iam.user.created"]);
    assert_eq!(app.depth(Lane::Provision).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_users_groups_are_the_groups_it_is_a_member_of() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    let ann = scim.user(json!({"userName": "ann@example.com"})).await;
    let bob = scim.user(json!({"userName": "bob@example.com"})).await;
    let (ann_id, bob_id) = (ann["id"].as_str().unwrap(), bob["id"].as_str().unwrap());
    let sales = scim
        .group(json!({"displayName": "Sales", "members": [{"value": ann_id}, {"value": bob_id, "display": "Bob"}]}))
        .await;
    let sales_id = sales["id"].as_str().unwrap();

    let read = scim.get(&format!("/Users/{ann_id}")).await.body;
    assert_eq!(
        read["groups"],
        json!([{"value": sales_id, "display": "Sales", "type": "direct",
                "$ref": format!("{}/scim/v2/Groups/{sales_id}", app.url)}])
    );
    assert_eq!(
        sales["members"],
        json!([{"value": ann_id, "type": "User"}, {"value": bob_id, "display": "Bob", "type": "User"}])
    );

    let removed = scim
        .patch(
            &format!("/Groups/{sales_id}"),
            json!([{"op": "Remove", "path": "members", "value": [{"value": ann_id}]}]),
        )
        .await;
    assert_eq!(
        removed.body["members"],
        json!([{"value": bob_id, "display": "Bob", "type": "User"}])
    );
    assert!(scim
        .get(&format!("/Users/{ann_id}"))
        .await
        .body
        .get("groups")
        .is_none());

    scim.call(Method::DELETE, &format!("/Users/{bob_id}"), &Value::Null)
        .await;
    let emptied = scim.get(&format!("/Groups/{sales_id}")).await.body;
    assert!(emptied.get("members").is_none(), "{emptied}");
    assert_eq!(emptied["meta"]["version"], "W/\"3\"");
    let events = published(&app).await;
    assert_eq!(
        events
            .iter()
            .filter(|key| *key == "iam.membership.added")
            .count(),
        2
    );
    assert!(events.contains(&"iam.membership.removed".to_owned()));
    app.stop().await;
}

/// A Group given as a member by bare id, or typed "User", is stored as the Group it is: its
/// membership announces only the Users, never a person whose IAM id is the Group's.
#[tokio::test]
async fn a_nested_group_sent_as_a_user_is_a_group_and_no_person() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    let ann = scim.user(json!({"userName": "ann@example.com"})).await;
    let ann_id = ann["id"].as_str().unwrap();
    let inner = scim.group(json!({"displayName": "Inner"})).await;
    let inner_id = inner["id"].as_str().unwrap();
    let other = scim.group(json!({"displayName": "Other"})).await;
    let other_id = other["id"].as_str().unwrap();
    let before = published_with_subjects(&app).await.len();

    let outer = scim
        .group(json!({"displayName": "Outer", "members": [{"value": ann_id}, {"value": inner_id}]}))
        .await;
    let outer_path = format!("/Groups/{}", outer["id"].as_str().unwrap());
    let patched = scim
        .patch(
            &outer_path,
            json!([{"op": "add", "path": "members", "value": [{"value": other_id, "type": "User"}]}]),
        )
        .await;

    assert_eq!(patched.status, 200, "{}", patched.body);
    let expected = json!([{"value": ann_id, "type": "User"}, {"value": inner_id, "type": "Group"},
                          {"value": other_id, "type": "Group"}]);
    assert_eq!(patched.body["members"], expected);
    assert_eq!(scim.get(&outer_path).await.body["members"], expected);
    let events = published_with_subjects(&app).await;
    assert_eq!(
        events[before..],
        [("iam.membership.added".to_owned(), format!("user:{ann_id}"))]
    );
    app.stop().await;
}
