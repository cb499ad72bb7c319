//! The admin API's edges: junk bearer tokens cost the IAM's provider at most the
//! introspection rate limit (refused by shape, cached when inactive, 503 past the limit) and
//! one address cannot spend it alone; an object id ClickUp cannot hold is a bad parameter for
//! the timeline, grants and audit, ClickUp's error text stays inside, caller input is echoed
//! at most 64 characters; a known path asked with another method answers a JSON 405.

use std::time::Duration;

use clickup_iam_router::{
    sandbox::iam::{AccessTokenFormat, IamSandbox, IamSandboxUser, TokenSpec},
    store::AuditEntry,
};
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

pub(crate) async fn spawn() -> TestApp {
    spawn_app_with(Options {
        iam: Some(vec![auditor()]),
        admin_api: true,
        without_worker: true,
        ..Options::default()
    })
    .await
}

pub(crate) fn iam(app: &TestApp) -> &IamSandbox {
    app.iam.as_ref().expect("the IAM stand-in runs")
}

/// `(status, body, headers)` of a call with an optional bearer token.
pub(crate) async fn call(
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
        "/api/v1/grants?object=list:18446744073709551616",
        "/api/v1/grants?object=list:abc",
        "/api/v1/grants?object=nonsense",
        "/api/v1/audit?object=list:18446744073709551616",
        "/api/v1/audit?object=folder:abc",
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
async fn grants_and_audit_filter_by_objects_as_the_record_names_them() {
    let app = spawn().await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();
    sqlx::query(
        "INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since)
         VALUES ('p1', 'share', 'list:5', 'edit', 'r', 'e-1', 1), ('p2', 'group', 'All staff', 'member', 'r', 'e-2', 2)",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
    for (object, action) in [
        ("task:86abc", "request.opened"),
        ("clickup:user:9001", "clickup.invite"),
    ] {
        app.store
            .append_audit(&AuditEntry {
                actor: "router".into(),
                action: action.into(),
                subject: None,
                object: Some(object.into()),
                outcome: "applied".into(),
                correlation_id: format!("corr-{action}"),
                event_id: format!("evt-{action}"),
                detail: json!({}),
            })
            .await
            .unwrap();
    }
    let items = |body: &Value, field: &str| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i[field].as_str().unwrap().to_owned())
            .collect()
    };

    // path, field of the items, expected
    let cases = [
        ("/api/v1/grants?object=list:5", "iam_id", vec!["p1"]),
        (
            "/api/v1/grants?object=group:All%20staff",
            "iam_id",
            vec!["p2"],
        ),
        (
            "/api/v1/audit?object=task:86abc",
            "action",
            vec!["request.opened"],
        ),
        (
            "/api/v1/audit?object=clickup:user:9001",
            "action",
            vec!["clickup.invite"],
        ),
    ];
    for (path, field, expected) in cases {
        let (status, body, _) = call(&app, reqwest::Method::GET, path, Some(&auditor)).await;
        assert_eq!(
            (status, items(&body, field)),
            (200, expected.iter().map(|e| e.to_string()).collect()),
            "{path}: {body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn caller_input_is_echoed_at_most_64_characters() {
    let app = spawn().await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();
    let long = "7".repeat(5000);
    let cut = format!("{}…", "7".repeat(64));

    // path, status, message, parameter
    let cases = [
        (
            format!("/api/v1/requests/{long}"),
            404,
            format!("no access request for task {cut}"),
            None,
        ),
        (
            format!("/api/v1/audit?{long}=1"),
            400,
            format!("parameter {cut} unknown parameter; known: correlation_id, subject, object, action, actor, outcome, from, to, limit, after"),
            Some(cut.clone()),
        ),
        (
            format!("/api/v1/timeline?object=list:{long}"),
            400,
            format!("parameter object: \"{} is not a ClickUp id: ClickUp ids are decimal numbers below 2^64", &format!("{}…", "7".repeat(63))),
            Some("object".to_owned()),
        ),
    ];
    for (path, status, message, parameter) in cases {
        let (got, body, _) = call(&app, reqwest::Method::GET, &path, Some(&auditor)).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(body["message"], json!(message));
        assert_eq!(body["parameter"].as_str(), parameter.as_deref());
    }
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
        (Method::POST, "/healthz", None, "GET, HEAD", "/healthz"),
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
