//! The admin API behind the IAM stand-in's OIDC provider: refusals (401/403), roles, key
//! rotation, introspected opaque tokens, and a brake release asked for through the API.

use std::{path::Path, time::Duration};

use clickup_iam_router::{
    sandbox::iam::{AccessTokenFormat, IamSandbox, IamSandboxUser, TokenSpec},
    store::AuditEntry,
};
use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app_with, Options, TestApp};

const ADMIN: &str = "clickup-router-admin";
const AUDITOR: &str = "clickup-router-auditor";
const APPROVER: &str = "clickup-router-approver";

fn user(n: u8, username: &str, roles: &[&str]) -> IamSandboxUser {
    IamSandboxUser {
        dn: format!("cn={username},ou=users,o=data"),
        id: format!("{n:032x}"),
        username: username.into(),
        password: None,
        email: format!("{username}@example.com"),
        display_name: username.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

async fn spawn(rules_dir: Option<&Path>) -> TestApp {
    spawn_app_with(Options {
        iam: Some(vec![
            user(0xa1, "ada", &[ADMIN]),
            user(0xa2, "audrey", &[AUDITOR]),
            user(0xa3, "april", &[APPROVER]),
            user(0xa4, "nobody", &[]),
        ]),
        admin_api: true,
        rules_dir: rules_dir.map(Path::to_path_buf),
        ..Options::default()
    })
    .await
}

fn iam(app: &TestApp) -> &IamSandbox {
    app.iam.as_ref().expect("the IAM stand-in runs")
}

fn token(app: &TestApp, spec: TokenSpec) -> String {
    iam(app).issue_token(&spec).unwrap()
}

/// `(status, body, WWW-Authenticate)` of a call with an optional bearer token.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
) -> (u16, Value, String) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", app.url));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        challenge,
    )
}

async fn get(app: &TestApp, path: &str, bearer: Option<&str>) -> (u16, Value, String) {
    call(app, reqwest::Method::GET, path, bearer).await
}

fn audit(correlation_id: &str, action: &str) -> AuditEntry {
    AuditEntry {
        actor: "router".into(),
        action: action.into(),
        subject: Some("user:00000000000000000000000000000abc".into()),
        object: Some("list:901100000100".into()),
        outcome: "applied".into(),
        correlation_id: correlation_id.into(),
        event_id: format!("evt-{correlation_id}"),
        detail: json!({ "cause": "event" }),
    }
}

#[tokio::test]
async fn the_admin_api_refuses_bad_tokens_and_answers_by_role() {
    let app = spawn(None).await;
    app.store
        .append_audit(&audit("corr-1", "clickup.share"))
        .await
        .unwrap();
    app.store
        .append_audit(&audit("corr-2", "clickup.unshare"))
        .await
        .unwrap();
    let foreign = TokenSpec {
        foreign_key: true,
        ..TokenSpec::new("audrey")
    };
    let expired = TokenSpec {
        lifetime_secs: -600,
        ..TokenSpec::new("audrey")
    };
    let elsewhere = TokenSpec {
        audience: Some("another-app".into()),
        ..TokenSpec::new("audrey")
    };
    let unsigned = format!("eyJhbGciOiJub25lIn0.{}.", "eyJzdWIiOiJ4In0");

    // token, status, error
    let refusals = [
        (None, 401, "missing_token"),
        (Some("not-a-jwt".to_owned()), 401, "inactive_token"),
        (Some(unsigned), 401, "algorithm_not_accepted"),
        (Some(token(&app, foreign)), 401, "bad_signature"),
        (Some(token(&app, expired)), 401, "expired_token"),
        (Some(token(&app, elsewhere)), 401, "wrong_audience"),
        (
            Some(token(&app, TokenSpec::new("april"))),
            403,
            "insufficient_role",
        ),
        (
            Some(token(&app, TokenSpec::new("nobody"))),
            403,
            "insufficient_role",
        ),
    ];
    for (bearer, status, error) in refusals {
        let (got, body, challenge) = get(&app, "/api/v1/audit", bearer.as_deref()).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{body}"
        );
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        if status == 403 {
            assert_eq!(body["required_role"], "auditor");
        }
    }

    let auditor = token(&app, TokenSpec::new("audrey"));
    let (status, page, _) = get(&app, "/api/v1/audit?correlation_id=corr-2", Some(&auditor)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["action"], "clickup.unshare");
    assert_eq!(page["items"][0]["detail"]["cause"], "event");
    let (status, body, _) = get(&app, "/api/v1/audit?limit=0", Some(&auditor)).await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("limit")));

    // The test's own rows (the worker writes its lease's rows too).
    let admin = token(&app, TokenSpec::new("ada"));
    let (status, page, _) = get(&app, "/api/v1/audit?actor=router&limit=1", Some(&admin)).await;
    assert_eq!((status, page["items"].as_array().unwrap().len()), (200, 1));
    let next = page["next"].as_str().unwrap();
    let (_, rest, _) = get(
        &app,
        &format!("/api/v1/audit?actor=router&limit=1&after={next}"),
        Some(&admin),
    )
    .await;
    assert_eq!(
        rest["items"][0]["correlation_id"], "corr-2",
        "admin includes auditor"
    );

    let approver = token(&app, TokenSpec::new("april"));
    let (status, me, _) = get(&app, "/api/v1/whoami", Some(&approver)).await;
    assert_eq!(
        (status, me["sub"].as_str()),
        (200, Some(format!("{:032x}", 0xa3).as_str()))
    );
    assert_eq!(me["roles"], json!(["approver"]));
    assert_eq!(get(&app, "/api/v1/requests", Some(&approver)).await.0, 200);
    assert_eq!(get(&app, "/api/v1/grants", Some(&approver)).await.0, 403);
    let release = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/brake/release",
        Some(&auditor),
    )
    .await;
    assert_eq!(
        (release.0, release.1["required_role"].as_str()),
        (403, Some("admin"))
    );
    let (status, brake, _) = get(&app, "/api/v1/brake", Some(&auditor)).await;
    assert_eq!((status, &brake["engaged"]), (200, &json!(false)));
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up_with_one_refresh_and_a_dropped_one_is_refused() {
    let app = spawn(None).await;
    let before = token(&app, TokenSpec::new("audrey"));
    assert_eq!(get(&app, "/api/v1/whoami", Some(&before)).await.0, 200);
    assert_eq!(iam(&app).jwks_fetches(), 1);

    iam(&app).rotate_signing_key(false).unwrap();
    let after = token(&app, TokenSpec::new("audrey"));
    let (status, me, _) = get(&app, "/api/v1/whoami", Some(&after)).await;
    assert_eq!((status, me["checked_by"].as_str()), (200, Some("jwt")));
    assert_eq!(
        iam(&app).jwks_fetches(),
        2,
        "the unknown kid refreshed the keys once"
    );

    let (status, body, _) = get(&app, "/api/v1/whoami", Some(&before)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown_key")));
    assert_eq!(
        iam(&app).jwks_fetches(),
        2,
        "a second unknown kid within the interval does not fetch again"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_opaque_token_is_introspected_and_refused_once_inactive() {
    let app = spawn(None).await;
    let opaque = TokenSpec {
        format: AccessTokenFormat::Encrypted,
        ..TokenSpec::new("audrey")
    };
    let opaque = token(&app, opaque);
    assert_eq!(opaque.split('.').count(), 5, "JWE-shaped");

    let (status, me, _) = get(&app, "/api/v1/whoami", Some(&opaque)).await;
    assert_eq!(
        (status, me["checked_by"].as_str()),
        (200, Some("introspection"))
    );
    assert_eq!(
        get(&app, "/api/v1/grants?open=true", Some(&opaque)).await.0,
        200
    );

    assert!(iam(&app).revoke_access_token(&opaque));
    let (status, body, challenge) = get(&app, "/api/v1/whoami", Some(&opaque)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("inactive_token"))
    );
    assert!(challenge.contains("invalid_token"), "{challenge}");
    app.stop().await;
}

/// The shipped rules without the `all-staff` mapping, and a brake that holds any removal.
fn strict_rules_without_all_staff(into: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for name in ["employees.yaml", "externals.yaml"] {
        let text = std::fs::read_to_string(shipped.join(name)).unwrap();
        let text = match text.split_once("  - name: all-staff") {
            Some((head, rest)) => format!("{head}{}", &rest[rest.find("  - name:").unwrap()..]),
            None => text,
        };
        let text = text.replace("max_people: 10", "max_people: 0");
        std::fs::write(into.join(name), text).unwrap();
    }
}

#[tokio::test]
async fn a_brake_release_through_the_api_happens_and_is_audited() {
    let app = spawn(None).await;
    let joiner = fixture_json("iam/01-joiner-employee.json");
    app.post_iam(&serde_json::to_vec(&joiner).unwrap()).await;
    assert_eq!(app.wait_processed(&joiner).await.outcome, "applied");
    let state = app.sandbox.state();
    assert_eq!(state.group_members("All staff").unwrap().len(), 1);

    let rules = tempfile::tempdir().unwrap();
    strict_rules_without_all_staff(rules.path());
    let app = app
        .restart(Duration::ZERO, |s| {
            s.rules.rules_dir = rules.path().to_path_buf()
        })
        .await;
    let admin = token(&app, TokenSpec::new("ada"));
    let mut brake = Value::Null;
    for _ in 0..100 {
        brake = get(&app, "/api/v1/brake", Some(&admin)).await.1;
        if brake["engaged"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(brake["held"].as_array().map(Vec::len), Some(1), "{brake}");
    assert_eq!(state.group_members("All staff").unwrap().len(), 1, "held");

    let (status, answer, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/brake/release",
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("requested")),
        "{answer}"
    );

    let ada = format!("{:032x}", 0xa1);
    let mut released_by: Option<String> = None;
    for _ in 0..100 {
        released_by = sqlx::query_scalar("SELECT released_by FROM held_removals")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        if released_by.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(released_by.as_deref(), Some(ada.as_str()));
    assert_eq!(state.group_members("All staff").unwrap(), Vec::<u64>::new());

    let correlation = answer["release_requested"]["correlation_id"]
        .as_str()
        .unwrap();
    let path = format!("/api/v1/audit?correlation_id={correlation}");
    let mut trail = Value::Null;
    for _ in 0..50 {
        trail = get(&app, &path, Some(&admin)).await.1;
        if trail["items"]
            .as_array()
            .is_some_and(|items| items.len() == 2)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let actions: Vec<(&str, &str)> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["action"].as_str().unwrap(),
                item["actor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("brake.release_requested", ada.as_str()),
            ("brake.release", ada.as_str())
        ]
    );
    let (_, brake, _) = get(&app, "/api/v1/brake", Some(&admin)).await;
    assert_eq!(
        (&brake["engaged"], &brake["release_requested"]),
        (&json!(false), &Value::Null)
    );
    app.stop().await;
}

#[tokio::test]
async fn without_an_issuer_the_admin_api_says_it_is_not_configured() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let (status, body, _) = get(&app, "/api/v1/whoami", Some("anything")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("admin_api_not_configured"))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_timeline_and_dead_letters_answer_by_role_with_inherited_access() {
    let app = spawn(None).await;
    let joiner = fixture_json("iam/01-joiner-employee.json");
    let response = app.post_iam(&serde_json::to_vec(&joiner).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    app.wait_processed(&joiner).await;
    let jane = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";

    let auditor = token(&app, TokenSpec::new("audrey"));
    let (status, timeline, _) = get(
        &app,
        "/api/v1/timeline?person=Jane.Doe%40example.com",
        Some(&auditor),
    )
    .await;
    assert_eq!(status, 200, "{timeline}");
    assert_eq!(timeline["iam_id"], jane);
    let intervals = timeline["intervals"].as_array().unwrap();
    assert!(!intervals.is_empty());
    assert!(intervals
        .iter()
        .all(|i| i["granted_by"]["type"] == "rule" && i["to"].is_null()));

    // The list sits in a folder of space 100, which Jane has a share of: the API reads the
    // hierarchy from ClickUp, so the list's answer names her, inherited from the space.
    let now = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!(
        "/api/v1/timeline?object=list:901100000210&at={}",
        now.replace('+', "%2B")
    );
    let (status, answer, _) = get(&app, &path, Some(&auditor)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["access"][0]["iam_id"], jane, "{answer}");
    assert_eq!(
        answer["access"][0]["via"],
        json!({"type": "inherited", "from": "space:901100000100"})
    );

    let bad = [
        ("/api/v1/timeline", "person"),
        ("/api/v1/timeline?object=901100000210", "object"),
        (
            "/api/v1/timeline?object=list:99999999999999999999999999",
            "object",
        ),
        ("/api/v1/timeline?object=list:1&at=yesterday", "at"),
        ("/api/v1/timeline?person=x&object=list:1", "person"),
    ];
    for (path, parameter) in bad {
        let (status, body, _) = get(&app, path, Some(&auditor)).await;
        assert_eq!(
            (status, body["parameter"].as_str()),
            (400, Some(parameter)),
            "{path}"
        );
    }
    let (status, _, _) = get(
        &app,
        "/api/v1/timeline?person=nobody%40example.com",
        Some(&auditor),
    )
    .await;
    assert_eq!(status, 404);

    let (status, body, _) = get(&app, "/api/v1/dead-letters", Some(&auditor)).await;
    assert_eq!(
        (status, body["required_role"].as_str()),
        (403, Some("admin"))
    );
    app.store
        .record_dead_letter(&clickup_iam_router::store::NewDeadLetter {
            fingerprint: "test-death-1".into(),
            message_id: Some("evt-1".into()),
            lane: Some("provision".into()),
            source_queue: None,
            routing_key: "iam.user.created".into(),
            reason: "delivery_limit".into(),
            error_code: Some("clickup_unavailable".into()),
            error: None,
            attempts: 6,
            first_failed_at: 1,
            last_failed_at: 2,
            envelope: b"{}".to_vec(),
            failure_key: None,
        })
        .await
        .unwrap();
    let admin = token(&app, TokenSpec::new("ada"));
    let (status, page, _) = get(&app, "/api/v1/dead-letters", Some(&admin)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["message_id"], "evt-1");
    assert_eq!(page["items"][0]["attempts"], 6);
    assert!(page["items"][0].get("envelope").is_none());
    app.stop().await;
}
