//! `/scim/v2`: who may use it, what it reads, a User's life through it, and userName
//! uniqueness; each write's events checked in the audit trail.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app, Options},
    scim_kit::{published, spawn_scim, Scim, CORE, ENTERPRISE, PATCH_OP, TOKEN},
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
                .body(json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "x"}]}).to_string()),
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
