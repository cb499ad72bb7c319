//! Tests of the stand-in over plain HTTP: OSP grants, the token gate, body checks and
//! Faults, request and task bookkeeping, and scheduled failures.

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};

use super::{testing::*, IamRequestState};

/// name, client credentials, form, status, OAuth error
type GrantCase<'a> = (
    &'a str,
    (&'a str, &'a str),
    Vec<(&'a str, &'a str)>,
    u16,
    Option<&'a str>,
);

#[tokio::test]
async fn osp_grants_follow_rfc_6749() {
    let sandbox = start(config()).await;
    let good = (CLIENT_ID, CLIENT_SECRET);
    let password = |user: &'static str, secret: &'static str| {
        vec![
            ("grant_type", "password"),
            ("username", user),
            ("password", secret),
        ]
    };
    let cases: Vec<GrantCase> = vec![
        (
            "good",
            good,
            password(SERVICE_USER, SERVICE_PASSWORD),
            200,
            None,
        ),
        (
            "wrong client secret",
            (CLIENT_ID, "nope"),
            password(SERVICE_USER, SERVICE_PASSWORD),
            401,
            Some("invalid_client"),
        ),
        (
            "unknown client",
            ("rbpm", CLIENT_SECRET),
            password(SERVICE_USER, SERVICE_PASSWORD),
            401,
            Some("invalid_client"),
        ),
        (
            "wrong password",
            good,
            password(SERVICE_USER, "nope"),
            400,
            Some("invalid_grant"),
        ),
        (
            "user without login",
            good,
            password("tbecker", ""),
            400,
            Some("invalid_request"),
        ),
        (
            "unknown user",
            good,
            password("nobody", "x"),
            400,
            Some("invalid_grant"),
        ),
        (
            "unknown refresh",
            good,
            vec![("grant_type", "refresh_token"), ("refresh_token", "abc")],
            400,
            Some("invalid_grant"),
        ),
        (
            "other grant",
            good,
            vec![("grant_type", "client_credentials")],
            400,
            Some("unsupported_grant_type"),
        ),
        ("no grant", good, vec![], 400, Some("invalid_request")),
    ];

    for (name, client, form, status, error) in cases {
        let (got, body) = grant(&sandbox, client, &form).await;

        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(body["error"].as_str(), error, "{name}");
        if status == 200 {
            assert_eq!(body["token_type"], "bearer", "{name}");
            assert_eq!(body["expires_in"], 60, "{name}");
            assert!(body["refresh_token"].is_string(), "{name}");
        }
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn refresh_tokens_are_single_use_and_tokens_gate_the_api() {
    let sandbox = start(config()).await;
    let form = [
        ("grant_type", "password"),
        ("username", SERVICE_USER),
        ("password", SERVICE_PASSWORD),
    ];
    let (_, first) = grant(&sandbox, (CLIENT_ID, CLIENT_SECRET), &form).await;
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];

    let (renewed, second) = grant(&sandbox, (CLIENT_ID, CLIENT_SECRET), &refresh_form).await;
    let (reused, _) = grant(&sandbox, (CLIENT_ID, CLIENT_SECRET), &refresh_form).await;
    let token = second["access_token"].as_str().unwrap();
    let (with_token, _) = call(&sandbox, Some(token), Method::GET, "/tasks/list", None).await;
    let (without, _) = call(&sandbox, None, Method::GET, "/tasks/list", None).await;
    let (forged, _) = call(&sandbox, Some("0123"), Method::GET, "/tasks/list", None).await;
    sandbox.revoke_tokens();
    let (revoked, _) = call(&sandbox, Some(token), Method::GET, "/tasks/list", None).await;

    assert_eq!((renewed, reused), (200, 400));
    assert_eq!((with_token, without, forged, revoked), (200, 401, 401, 401));
    assert_eq!(sandbox.grants(), ["password", "refresh_token"]);
    sandbox.stop().await;
}

#[tokio::test]
async fn bodies_are_checked_and_refused_with_faults() {
    let sandbox = start(config()).await;
    let token = login(&sandbox).await;
    let user_recipient = json!([{ "dn": RECIPIENT_DN, "type": "user" }]);
    // name, path, body, status, subcode
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("malformed", "/requests/permissions/v2", "{oops".into(), 400, "InvalidInput"),
        ("not an object", "/tasks", "[1]".into(), 400, "InvalidInput"),
        ("no permissions", "/requests/permissions/v2", json!({ "reqPermissions": [] }).to_string(), 489, "InvalidInput"),
        ("not a dn", "/requests/permissions/v2", request_body("ClickUp-Space-Access", user_recipient.clone()), 489, "SecurityException"),
        ("a role", "/requests/permissions/v2", json!({ "reqPermissions": [{ "id": PRD_DN, "entityType": "ROLE" }] }).to_string(), 489, "InvalidInput"),
        ("bad data", "/requests/permissions/v2", json!({ "reqPermissions": [{ "id": PRD_DN, "entityType": "PRD" }], "data": [{ "key": "reason", "value": "x" }] }).to_string(), 489, "InvalidInput"),
        ("group recipient", "/requests/permissions/v2", request_body(PRD_DN, json!([{ "dn": "cn=staff,o=data", "type": "group" }])), 489, "InvalidInput"),
        ("unknown recipient", "/requests/permissions/v2", request_body(PRD_DN, json!([{ "dn": "cn=ghost,o=data", "type": "user" }])), 489, "NotFound"),
        ("bad action", "/tasks", json!({ "tasks": [{ "taskId": "a1" }], "action": "escalate" }).to_string(), 489, "InvalidEnumValue"),
        ("unknown task", "/tasks", json!({ "tasks": [{ "taskId": "a1" }], "action": "approve" }).to_string(), 489, "NotFound"),
        ("no tasks", "/tasks", json!({ "tasks": [], "action": "approve" }).to_string(), 489, "InvalidInput"),
        ("unknown history item", "/requests/history/item", json!({ "id": "ffff" }).to_string(), 489, "NotFound"),
    ];

    for (name, path, body, status, expected) in cases {
        let (got, answer) = call(&sandbox, Some(&token), Method::POST, path, Some(&body)).await;

        assert_eq!(got, status, "{name}: {answer}");
        assert_eq!(subcode(&answer), expected, "{name}: {answer}");
    }
    assert!(sandbox.requests().is_empty());
    sandbox.stop().await;
}

#[tokio::test]
async fn a_request_starts_per_recipient_with_one_task_per_approver() {
    let sandbox = start(config()).await;
    sandbox.add_prd(PRD_DN, PRD_NAME, &[APPROVER_DN, SECOND_APPROVER_DN]);
    let token = login(&sandbox).await;
    let recipients = json!([
        { "dn": RECIPIENT_DN, "type": "user" },
        { "dn": APPROVER_DN, "type": "user" }
    ]);

    let (status, answer) = call(
        &sandbox,
        Some(&token),
        Method::POST,
        "/requests/permissions/v2",
        Some(&request_body(PRD_DN, recipients)),
    )
    .await;
    let (unknown_status, unknown) = call(
        &sandbox,
        Some(&token),
        Method::POST,
        "/requests/permissions/v2",
        Some(&request_body(
            "cn=Missing,cn=RequestDefs,o=system",
            json!(null),
        )),
    )
    .await;
    let (_, tasks) = call(
        &sandbox,
        Some(&token),
        Method::GET,
        "/tasks/list?fromIndex=1&size=3",
        None,
    )
    .await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true);
    assert_eq!(answer["OperationNodes"][0]["userDn"], SERVICE_DN);
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 2);
    let today = Utc::now().format("%Y%m%d").to_string();
    for (index, request) in requests.iter().enumerate() {
        assert_eq!(
            answer["OperationNodes"][0]["succeeded"][index]["requestId"],
            request.id.as_str()
        );
        assert!(is_hex_id(&request.id), "{}", request.id);
        assert_eq!(
            request.confirmation_number,
            format!("{today}-{}", index + 1)
        );
        assert_eq!(request.state, IamRequestState::Pending);
        assert_eq!(
            request.data,
            [("clickupTaskId".to_owned(), vec!["86b1x2y3z".to_owned()])]
        );
        let addressees: Vec<&str> = request.tasks.iter().map(|t| t.addressee.as_str()).collect();
        assert_eq!(addressees, [APPROVER_DN, SECOND_APPROVER_DN]);
        assert!(request.tasks.iter().all(|t| is_hex_id(&t.task_id)));
    }
    assert_eq!((unknown_status, &unknown["success"]), (200, &json!(false)));
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(tasks["arraySize"], 4);
    assert_eq!(tasks["nextIndex"], 4);
    assert_eq!(tasks["tasks"][0]["processId"], requests[0].id.as_str());
    assert_eq!(tasks["tasks"][0]["activityName"], "approval_1");
    sandbox.stop().await;
}

#[tokio::test]
async fn scheduled_failures_hit_only_idmprov_calls_and_calls_are_recorded() {
    let sandbox = start(config()).await;
    sandbox.fail_next(1, 489);
    sandbox.fail_next(1, 503);
    let token = login(&sandbox).await;

    let (first, fault) = call(&sandbox, Some(&token), Method::GET, "/tasks/list", None).await;
    let (second, empty) = call(
        &sandbox,
        Some(&token),
        Method::GET,
        "/requests/historylist",
        None,
    )
    .await;
    let (third, _) = call(&sandbox, Some(&token), Method::GET, "/tasks/list", None).await;

    assert_eq!((first, subcode(&fault)), (489, "InternalExceptionOccured"));
    assert_eq!((second, empty), (503, Value::Null));
    assert_eq!(third, 200);
    let recorded = sandbox.calls();
    let calls: Vec<(&str, &str, u16)> = recorded
        .iter()
        .map(|(m, p, s)| (m.as_str(), p.as_str(), *s))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST", "/osp/a/idm/auth/oauth2/token", 200),
            ("GET", "/IDMProv/rest/access/tasks/list", 489),
            ("GET", "/IDMProv/rest/access/requests/historylist", 503),
            ("GET", "/IDMProv/rest/access/tasks/list", 200),
        ]
    );
    sandbox.stop().await;
}
