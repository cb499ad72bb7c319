//! Tests of the gate: token checks, the rate limit, scheduled failures and the call log.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::{
    testing::{acl_path, call, seed_hierarchy, send, start, start_default, TEAM, TOKEN},
    CallFault, SandboxConfig,
};

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970")
}

#[tokio::test]
async fn authorization_is_checked_before_anything_else() {
    let sandbox = start(SandboxConfig {
        tokens: vec![TOKEN.to_owned(), "oauth_abc123".to_owned()],
        ..SandboxConfig::default()
    })
    .await;
    let cases = [
        (None, 401, Some("OAUTH_017")),
        (Some(""), 401, Some("OAUTH_017")),
        (Some("Bearer "), 401, Some("OAUTH_025")),
        (Some("pk_wrong"), 401, Some("OAUTH_025")),
        (Some("Bearer pk_wrong"), 401, Some("OAUTH_025")),
        (Some(TOKEN), 200, None),
        (Some("Bearer oauth_abc123"), 200, None),
        (Some("bearer oauth_abc123"), 200, None),
    ];

    for (authorization, status, ecode) in cases {
        let reply = send(&sandbox, authorization, Method::GET, "/v2/team", None).await;

        assert_eq!(reply.status, status, "{authorization:?}: {:?}", reply.body);
        if let Some(ecode) = ecode {
            assert_eq!(reply.body["ECODE"], ecode, "{authorization:?}");
            assert!(
                reply.header("x-ratelimit-limit").is_none(),
                "{authorization:?}"
            );
        } else {
            assert_eq!(reply.header("x-ratelimit-limit"), Some("10000"));
        }
    }
    let missing = send(&sandbox, None, Method::GET, "/v2/user", None).await;
    assert_eq!(
        missing.body,
        json!({ "err": "Authorization header required", "ECODE": "OAUTH_017" })
    );
    let unknown = send(&sandbox, Some("pk_nope"), Method::GET, "/v2/user", None).await;
    assert_eq!(
        unknown.body,
        json!({ "err": "Token invalid", "ECODE": "OAUTH_025" })
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn rate_limit_answers_429_with_headers_once_the_override_is_used_up() {
    let sandbox = start(SandboxConfig {
        tokens: vec![TOKEN.to_owned(), "pk_other".to_owned()],
        rate_limit_per_minute: Some(3),
        ..SandboxConfig::default()
    })
    .await;
    let before = unix_now();

    let mut replies = Vec::new();
    for _ in 0..4 {
        replies.push(call(&sandbox, Method::GET, "/v2/team", None).await);
    }

    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(statuses, [200, 200, 200, 429]);
    let remaining: Vec<Option<&str>> = replies
        .iter()
        .map(|reply| reply.header("x-ratelimit-remaining"))
        .collect();
    assert_eq!(remaining, [Some("2"), Some("1"), Some("0"), Some("0")]);
    for reply in &replies {
        assert_eq!(reply.header("x-ratelimit-limit"), Some("3"));
        let reset: u64 = reply
            .header("x-ratelimit-reset")
            .and_then(|reset| reset.parse().ok())
            .expect("numeric reset");
        assert!(
            (before + 59..=unix_now() + 61).contains(&reset),
            "reset {reset}"
        );
    }
    assert_eq!(
        replies[3].body,
        json!({ "err": "Rate limit reached", "ECODE": "APP_002" })
    );

    let other = send(&sandbox, Some("pk_other"), Method::GET, "/v2/team", None).await;
    assert_eq!(other.status, 200, "another token has its own window");
    assert_eq!(other.header("x-ratelimit-remaining"), Some("2"));
    sandbox.stop().await;
}

#[tokio::test]
async fn set_fail_next_fails_that_many_requests_then_recovers() {
    let sandbox = start_default().await;
    sandbox.state().set_fail_next(2, 503);

    let first = call(&sandbox, Method::GET, "/v2/team", None).await;
    let second = call(
        &sandbox,
        Method::GET,
        &format!("/v2/team/{TEAM}/plan"),
        None,
    )
    .await;
    let third = call(&sandbox, Method::GET, "/v2/team", None).await;

    for reply in [&first, &second] {
        assert_eq!(reply.status, 503);
        assert_eq!(reply.body["ECODE"], "SANDBOX_001");
        assert_eq!(reply.body["err"], "Service Unavailable");
        assert!(reply.header("x-ratelimit-remaining").is_some());
    }
    assert_eq!(third.status, 200);
    assert!(third.body["teams"].is_array());
    sandbox.stop().await;
}

#[tokio::test]
async fn a_planned_fault_fails_its_call_once_before_or_after_acting() {
    let cases = [
        (CallFault::Refuse(503), false),
        (CallFault::LoseAnswer(503), true),
    ];
    for (fault, acted) in cases {
        let sandbox = start_default().await;
        let [.., (_, task)] = seed_hierarchy(&sandbox);
        let user = sandbox.state().users()[0].id;
        let assign = json!({ "assignees": { "add": [user], "rem": [] } });
        sandbox.state().fail_call("PUT", "/api/v2/task/", fault);

        let read = call(&sandbox, Method::GET, &format!("/v2/task/{task}"), None).await;
        let failed = call(
            &sandbox,
            Method::PUT,
            &format!("/v2/task/{task}"),
            Some(assign.clone()),
        )
        .await;
        let assigned = sandbox.state().task(&task).unwrap().assignees;
        let next = call(
            &sandbox,
            Method::PUT,
            &format!("/v2/task/{task}"),
            Some(assign),
        )
        .await;

        assert_eq!(read.status, 200, "{fault:?}: another method is not failed");
        assert_eq!(failed.status, 503, "{fault:?}");
        assert_eq!(failed.body["ECODE"], "SANDBOX_001", "{fault:?}");
        assert_eq!(assigned.contains(&user), acted, "{fault:?}");
        assert_eq!(next.status, 200, "{fault:?}: once");
        sandbox.stop().await;
    }
}

#[tokio::test]
async fn scheduled_failures_skip_requests_refused_for_auth() {
    let sandbox = start_default().await;
    sandbox.state().set_fail_next(1, 500);

    let unauthenticated = send(&sandbox, None, Method::GET, "/v2/team", None).await;
    let failed = call(&sandbox, Method::GET, "/v2/team", None).await;
    let recovered = call(&sandbox, Method::GET, "/v2/team", None).await;

    assert_eq!(unauthenticated.status, 401);
    assert_eq!(failed.status, 500);
    assert_eq!(failed.body["err"], "Internal Server Error");
    assert_eq!(recovered.status, 200);
    sandbox.stop().await;
}

#[tokio::test]
async fn every_call_is_recorded_in_order_with_its_status() {
    let sandbox = start_default().await;
    let state = sandbox.state();

    send(&sandbox, None, Method::GET, "/v2/team", None).await;
    call(&sandbox, Method::GET, "/v2/team", None).await;
    call(&sandbox, Method::GET, "/v2/team/1/plan?x=1", None).await;
    call(&sandbox, Method::DELETE, "/v2/webhook/missing", None).await;

    let recorded: Vec<(String, String, u16)> = state
        .calls()
        .into_iter()
        .map(|call| (call.method, call.path, call.status))
        .collect();
    let expected = [
        ("GET", "/api/v2/team", 401),
        ("GET", "/api/v2/team", 200),
        ("GET", "/api/v2/team/1/plan", 401),
        ("DELETE", "/api/v2/webhook/missing", 404),
    ]
    .map(|(method, path, status)| (method.to_owned(), path.to_owned(), status));
    assert_eq!(recorded, expected);
    let times: Vec<_> = state.calls().iter().map(|call| call.answered).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");
    assert_eq!(state.count_calls("GET", "/api/v2/team"), 3);
    assert_eq!(state.count_calls("get", "/api/v2/team/"), 1);
    assert_eq!(state.count_calls("DELETE", "/api/v2/"), 1);
    assert_eq!(state.count_calls("POST", "/api"), 0);
    sandbox.stop().await;
}

#[tokio::test]
async fn the_new_routes_pass_the_gate() {
    let sandbox = start(SandboxConfig {
        rate_limit_per_minute: Some(3),
        ..SandboxConfig::default()
    })
    .await;
    let [_, _, (_, list), _] = seed_hierarchy(&sandbox);
    let path = acl_path("list", &list);
    let body = Some(r#"{"entries":[]}"#.to_owned());
    let cases = [
        (None, 401, Some("OAUTH_017")),
        (Some(TOKEN), 200, None),
        (Some(TOKEN), 200, None),
        (Some(TOKEN), 200, None),
        (Some(TOKEN), 429, Some("APP_002")),
    ];

    for (token, status, ecode) in cases {
        let reply = send(&sandbox, token, Method::PATCH, &path, body.clone()).await;

        assert_eq!(reply.status, status, "{token:?}: {:?}", reply.body);
        assert_eq!(
            reply.body.get("ECODE").and_then(Value::as_str),
            ecode,
            "{token:?}"
        );
        if token.is_some() {
            assert_eq!(reply.header("x-ratelimit-limit"), Some("3"));
        }
    }
    let statuses: Vec<u16> = sandbox
        .state()
        .calls()
        .into_iter()
        .filter(|call| call.method == "PATCH" && call.path == format!("/api{path}"))
        .map(|call| call.status)
        .collect();
    assert_eq!(statuses, [401, 200, 200, 200, 429]);
    assert_eq!(
        sandbox.state().count_calls("PATCH", "/api/v3/workspaces/"),
        5
    );
    sandbox.stop().await;
}
