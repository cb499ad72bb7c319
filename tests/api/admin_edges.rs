//! The admin API's edges: junk bearer tokens cost the IAM's provider at most the
//! introspection rate limit (refused by shape, cached when inactive, 503 past the limit) and
//! one address cannot spend it alone; an object id ClickUp cannot hold is a bad parameter,
//! ClickUp's error text stays inside, and a list ClickUp does not know is answered from its
//! own grants; a known path asked with another method answers a JSON 405.

use std::time::Duration;

use clickup_iam_router::sandbox::iam::{AccessTokenFormat, IamSandbox, IamSandboxUser, TokenSpec};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Options, TestApp};

fn auditor() -> IamSandboxUser {
    IamSandboxUser {
        dn: "cn=audrey,ou=users,o=data".into(),
        id: format!("{:032x}", 0xa2),
        username: "audrey".into(),
        password: None,
        email: "audrey@example.com".into(),
        display_name: "Audrey".into(),
        roles: vec!["clickup-router-auditor".into()],
    }
}

async fn spawn() -> TestApp {
    spawn_app_with(Options {
        iam: Some(vec![auditor()]),
        admin_api: true,
        without_worker: true,
        ..Options::default()
    })
    .await
}

fn iam(app: &TestApp) -> &IamSandbox {
    app.iam.as_ref().expect("the IAM stand-in runs")
}

/// `(status, body, headers)` of a call with an optional bearer token.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", app.url));
    if let Some(bearer) = bearer {
        request = request.header("Authorization", format!("Bearer {bearer}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

async fn audit(app: &TestApp, bearer: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    call(app, reqwest::Method::GET, "/api/v1/audit", Some(bearer)).await
}

#[tokio::test]
async fn junk_tokens_reach_the_provider_at_most_as_often_as_the_limit_allows() {
    const BURST: usize = 3;
    let app = spawn().await;
    let app = app
        .restart(Duration::ZERO, |settings| {
            let oidc = &mut settings.http.as_mut().unwrap().oidc;
            oidc.oidc_introspection_per_minute = 1;
            oidc.oidc_introspection_burst = BURST as u32;
        })
        .await;

    // Refused by their shape: no provider call, not even one the limit would allow.
    let too_long = "a".repeat(60 * 1024);
    let just_too_long = "a".repeat(8 * 1024 + 1);
    for bearer in [too_long.as_str(), &just_too_long, "garbage,token", "a=b"] {
        let (status, body, headers) = audit(&app, bearer).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token"))
        );
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
    assert_eq!(iam(&app).introspections(), 0, "refused before any call");

    let tokens: Vec<String> = (0..30).map(|i| format!("garbage-{i}")).collect();
    let answers = join_all(tokens.iter().map(|token| audit(&app, token))).await;

    let calls = iam(&app).introspections();
    assert!((1..=BURST).contains(&calls), "{calls} calls");
    let inactive: Vec<&String> = tokens
        .iter()
        .zip(&answers)
        .filter(|(_, (status, body, _))| {
            (*status, &body["error"]) == (401, &json!("inactive_token"))
        })
        .map(|(token, _)| token)
        .collect();
    assert_eq!(inactive.len(), calls, "each call answered one token");
    for (status, body, headers) in answers.iter().filter(|(status, ..)| *status != 401) {
        assert_eq!(
            (*status, body["error"].as_str()),
            (503, Some("introspection_busy")),
            "{body}"
        );
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }

    // Known inactive: answered from the cache although the limit is spent.
    let (status, body, _) = audit(&app, inactive[0]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("inactive_token"))
    );
    // Signed tokens are checked locally, never held by the limit.
    let signed = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();
    assert_eq!(audit(&app, &signed).await.0, 200);
    assert_eq!(iam(&app).introspections(), calls, "no call since the burst");
    app.stop().await;
}

#[tokio::test]
async fn one_address_spends_its_own_introspection_budget_not_everyone_elses() {
    const PER_ADDRESS: usize = 2;
    let app = spawn().await;
    let app = app
        .restart(Duration::ZERO, |settings| {
            let oidc = &mut settings.http.as_mut().unwrap().oidc;
            oidc.oidc_introspection_per_minute = 1;
            oidc.oidc_introspection_burst = 10;
            oidc.oidc_introspection_per_address_per_minute = 1;
            oidc.oidc_introspection_per_address_burst = PER_ADDRESS as u32;
        })
        .await;

    // Distinct junk tokens from 127.0.0.1: its own budget, then 503 with the global one left.
    let mut answers = Vec::new();
    for i in 0..6 {
        answers.push(audit(&app, &format!("junk-{i}")).await);
    }
    let codes: Vec<(u16, &str)> = answers
        .iter()
        .map(|(status, body, _)| (*status, body["error"].as_str().unwrap()))
        .collect();
    let mut expected = vec![(401, "inactive_token"); PER_ADDRESS];
    expected.extend([(503, "introspection_busy"); 6 - PER_ADDRESS]);
    assert_eq!(codes, expected);
    assert_eq!(iam(&app).introspections(), PER_ADDRESS);

    // A real opaque token from another loopback address is still introspected.
    let opaque = TokenSpec {
        format: AccessTokenFormat::Encrypted,
        ..TokenSpec::new("audrey")
    };
    let opaque = iam(&app).issue_token(&opaque).unwrap();
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let response = other
        .get(format!("{}/api/v1/whoami", app.url))
        .bearer_auth(&opaque)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["checked_by"], "introspection");
    assert_eq!(iam(&app).introspections(), PER_ADDRESS + 1);
    app.stop().await;
}

#[tokio::test]
async fn an_object_id_past_u64_is_a_bad_parameter_and_clickups_text_stays_inside() {
    let app = spawn().await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();
    let get = |path: &'static str| call(&app, reqwest::Method::GET, path, Some(&auditor));

    for path in [
        "/api/v1/timeline?object=list:99999999999999999999999999",
        "/api/v1/timeline?object=folder:18446744073709551616",
        "/api/v1/timeline?object=space:18446744073709551616",
    ] {
        let (status, body, _) = get(path).await;
        assert_eq!(
            (status, body["error"].as_str(), body["parameter"].as_str()),
            (400, Some("invalid_parameter"), Some("object")),
            "{path}: {body}"
        );
    }

    app.stop().await;
}

#[tokio::test]
async fn a_list_clickup_does_not_know_is_answered_from_its_own_grants_with_a_note() {
    let app = spawn().await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();
    // A list that was deleted in ClickUp (the sandbox answers 404 ITEM_015 for it), with a
    // grant on it that the record still holds.
    sqlx::query(
        "INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since, ended_at, ended_by, end_reason)
         VALUES ('gone-list-holder', 'share', 'list:123', 'edit', 'finance', 'e-1', 1000, 2000, 'rule', 'rule removed')",
    )
    .execute(app.store.pool())
    .await
    .unwrap();

    let (status, body, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/timeline?object=list:123",
        Some(&auditor),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["hierarchy"],
        json!({"type": "unknown", "reason": "not_in_clickup"})
    );
    let note = body["note"].as_str().unwrap();
    assert!(note.contains("ClickUp does not know this object"), "{note}");
    let holders: Vec<(&str, &str)> = body["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["iam_id"].as_str().unwrap(),
                a["via"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(holders, vec![("gone-list-holder", "direct")]);
    app.stop().await;
}

#[tokio::test]
async fn clickup_out_of_reach_is_still_a_502_for_the_object_timeline() {
    let app = spawn().await;
    // Nothing listens on port 9 of loopback: every ClickUp call fails to connect.
    let app = app
        .restart(Duration::ZERO, |settings| {
            settings.clickup.clickup_api_url = "http://127.0.0.1:9".into();
        })
        .await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();

    let (status, body, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/timeline?object=list:123",
        Some(&auditor),
    )
    .await;
    assert_eq!(
        (status, &body),
        (
            502,
            &json!({
                "error": "clickup_unavailable",
                "message": "ClickUp could not be read: ClickUp could not be reached",
            })
        )
    );
    app.stop().await;
}

#[tokio::test]
async fn a_known_path_asked_with_another_method_answers_a_json_405() {
    let app = spawn().await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();
    use reqwest::Method;

    // method, path, bearer, Allow, the path named
    let cases = [
        (Method::POST, "/api/v1/audit", None, "GET", "/api/v1/audit"),
        (
            Method::POST,
            "/api/v1/audit",
            Some(&auditor),
            "GET",
            "/api/v1/audit",
        ),
        (
            Method::GET,
            "/api/v1/brake/release",
            None,
            "POST",
            "/api/v1/brake/release",
        ),
        (
            Method::DELETE,
            "/api/v1/requests/86abc",
            None,
            "GET",
            "/api/v1/requests/{task_id}",
        ),
        (Method::GET, "/webhooks/iam", None, "POST", "/webhooks/iam"),
        (Method::PUT, "/webhooks/iam", None, "POST", "/webhooks/iam"),
        (
            Method::GET,
            "/webhooks/clickup",
            None,
            "POST",
            "/webhooks/clickup",
        ),
        (Method::POST, "/healthz", None, "GET", "/healthz"),
    ];
    for (method, path, bearer, allow, named) in cases {
        let (status, body, headers) =
            call(&app, method.clone(), path, bearer.map(String::as_str)).await;
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(headers["allow"], allow, "{method} {path}");
        assert_eq!(
            body,
            json!({
                "error": "method_not_allowed",
                "message": format!("{method} is not allowed on {named}; it allows {allow}"),
                "method": method.as_str(),
                "path": named,
            })
        );
    }

    for path in ["/webhooks/other", "/nowhere", "/api/v1/nowhere"] {
        let (status, body, _) = call(&app, Method::GET, path, Some(&auditor)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    app.stop().await;
}
