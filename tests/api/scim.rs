//! `/scim/v2`: who may use it, what it reads, and a User's and a Group's life through it; every
//! write answered only after its events were published, every refused one publishing none.

use clickup_iam_router::bus::Lane;
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app, Options},
    scim_kit::{published, spawn_scim, Scim, CORE, ENTERPRISE, TOKEN},
};

#[tokio::test]
async fn without_tokens_scim_is_off_and_every_request_is_404() {
    let app = spawn_app().await;
    let scim = Scim::new(&app);

    for path in ["/Users", "/ServiceProviderConfig", "/nothing"] {
        let answer = scim.get(path).await;
        answer.assert_error(404, None);
        assert_eq!(answer.body["detail"], "SCIM is not enabled");
    }
    app.stop().await;
}

#[tokio::test]
async fn only_a_configured_clients_bearer_token_is_let_in() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/scim/v2{path}", app.url);

    let cases: &[(Option<&str>, &str, u16)] = &[
        (None, "/Users", 401),
        (Some("Bearer wrong-token-0123456789"), "/Users", 401),
        (Some(&format!("Basic {TOKEN}")), "/Users", 401),
        (Some("Bearer"), "/Users", 401),
        (Some("Bearer wrong-token-0123456789"), "/nothing", 401),
        (Some(&format!("Bearer {TOKEN}")), "/Users", 200),
        (Some(&format!("bearer {TOKEN}")), "/Schemas", 200),
        (Some(&format!("Bearer {TOKEN}")), "/nothing", 404),
    ];
    for (authorization, path, status) in cases {
        let mut request = http.get(url(path));
        if let Some(value) = authorization {
            request = request.header("authorization", *value);
        }
        let answer = scim.send(request).await;

        match status {
            200 => assert_eq!(answer.status, 200, "{authorization:?} {path}"),
            status => answer.assert_error(*status, None),
        }
        if *status == 401 {
            assert!(answer
                .header("www-authenticate")
                .unwrap()
                .starts_with("Bearer"));
        }
    }

    let wrong_method = scim.call(Method::DELETE, "/Schemas", &Value::Null).await;
    wrong_method.assert_error(405, None);
    assert_eq!(wrong_method.header("allow"), Some("GET"));
    let wrong_method = scim.call(Method::PUT, "/Users", &json!({})).await;
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
    app.stop().await;
}

#[tokio::test]
async fn bodies_must_be_scim_or_plain_json_within_the_size_limit() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    let user = |name: &str| json!({"schemas": [CORE], "userName": name}).to_string();

    let cases = [
        ("application/scim+json", user("a"), 201),
        ("application/json; charset=utf-8", user("b"), 201),
        ("Application/SCIM+JSON", user("c"), 201),
        ("text/plain", user("d"), 415),
        (
            "application/x-www-form-urlencoded",
            "userName=e".to_owned(),
            415,
        ),
        ("application/json", "{\"userName\": ".to_owned(), 400),
        (
            "application/json",
            format!("{{\"userName\": \"{}\"}}", "f".repeat(70_000)),
            413,
        ),
    ];
    for (content_type, body, status) in cases {
        let request = scim
            .request(Method::POST, "/Users")
            .header("content-type", content_type)
            .body(body);
        let answer = scim.send(request).await;

        assert_eq!(answer.status, status, "{content_type}: {}", answer.body);
        assert_eq!(answer.header("content-type"), Some("application/scim+json"));
        if status != 201 {
            let scim_type = (status == 400).then_some("invalidSyntax");
            answer.assert_error(status, scim_type);
        }
    }
    assert_eq!(published(&app).await.len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_user_lives_through_post_get_put_patch_and_delete() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);

    let created = scim
        .post(
            "/Users",
            &json!({"schemas": [CORE, ENTERPRISE], "userName": "Ann.Lee@example.com",
                    "name": {"givenName": "Ann", "familyName": "Lee"}, "nickName": "Annie",
                    "emails": [{"value": "ann.lee@example.com", "type": "work", "primary": true}],
                    ENTERPRISE: {"department": "Sales"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let location = created.body["meta"]["location"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(location, format!("{}/scim/v2/Users/{id}", app.url));
    assert_eq!(created.header("etag"), Some("W/\"1\""));
    assert_eq!(created.body["meta"]["version"], "W/\"1\"");
    assert_eq!(published(&app).await, ["iam.user.created"]);

    let read = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);

    let replaced = scim
        .call(
            Method::PUT,
            &format!("/Users/{id}"),
            &json!({"schemas": [CORE], "userName": "Ann.Lee@example.com", "title": "Lead",
                    "name": {"givenName": "Ann", "familyName": "Lee"}}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["title"], "Lead");
    assert!(replaced.body.get("nickName").is_none(), "PUT replaces");
    assert!(replaced.body.get(ENTERPRISE).is_none(), "PUT replaces");
    assert_eq!(replaced.header("etag"), Some("W/\"2\""));

    let stale = scim
        .send(
            scim.request(Method::PATCH, &format!("/Users/{id}"))
                .header("if-match", "W/\"1\"")
                .header("content-type", "application/scim+json")
                .body(json!({"schemas": [crate::scim_kit::PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "x"}]}).to_string()),
        )
        .await;
    stale.assert_error(412, None);

    let patched = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "title", "value": "Director"}]),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["title"], "Director");
    assert_eq!(patched.body["meta"]["version"], "W/\"3\"");

    let unchanged = scim
        .send(
            scim.request(Method::GET, &format!("/Users/{id}"))
                .header("if-none-match", "W/\"3\""),
        )
        .await;
    assert_eq!(unchanged.status, 304);

    let before_delete = published(&app).await.len();
    let deleted = scim
        .call(Method::DELETE, &format!("/Users/{id}"), &Value::Null)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    let events = published(&app).await;
    assert_eq!(events.len(), before_delete + 1);
    assert_eq!(events.last().unwrap(), "iam.user.terminated");
    scim.get(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
    scim.call(Method::DELETE, &format!("/Users/{id}"), &Value::Null)
        .await
        .assert_error(404, None);
    app.stop().await;
}

#[tokio::test]
async fn user_names_are_unique_whatever_their_case() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    scim.user(json!({"userName": "Ann.Lee@example.com"})).await;
    let bob = scim.user(json!({"userName": "bob@example.com"})).await;
    let bob = format!("/Users/{}", bob["id"].as_str().unwrap());
    let events = published(&app).await.len();

    let duplicate = scim
        .post("/Users", &json!({"userName": "ann.lee@EXAMPLE.com"}))
        .await;
    let renamed = scim
        .call(
            Method::PUT,
            &bob,
            &json!({"userName": "ANN.LEE@example.com"}),
        )
        .await;
    let patched = scim
        .patch(
            &bob,
            json!([{"op": "replace", "path": "userName", "value": "ann.lee@example.com"}]),
        )
        .await;
    let own_case = scim
        .patch(
            &bob,
            json!([{"op": "replace", "path": "userName", "value": "Bob@Example.com"}]),
        )
        .await;

    duplicate.assert_error(409, Some("uniqueness"));
    renamed.assert_error(409, Some("uniqueness"));
    patched.assert_error(409, Some("uniqueness"));
    assert!(
        !duplicate.body["detail"].as_str().unwrap().contains("ann"),
        "no value echoed"
    );
    assert_eq!(
        own_case.status, 200,
        "a User may change its own name's case"
    );
    assert_eq!(scim.get("/Users").await.body["totalResults"], 2);
    assert_eq!(published(&app).await.len(), events + 1);
    app.stop().await;
}

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

    let patch = |ops: Value| json!({"schemas": [crate::scim_kit::PATCH_OP], "Operations": ops});
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
        json!([{"value": ann_id}, {"value": bob_id, "display": "Bob"}])
    );

    let removed = scim
        .patch(
            &format!("/Groups/{sales_id}"),
            json!([{"op": "Remove", "path": "members", "value": [{"value": ann_id}]}]),
        )
        .await;
    assert_eq!(
        removed.body["members"],
        json!([{"value": bob_id, "display": "Bob"}])
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
