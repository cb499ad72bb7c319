//! Replaying and dropping dead letters: a leaver ClickUp refuses (a 4xx) dies, is listed
//! with its reason, the cause is fixed, and a replay through the CLI or the admin API
//! removes the account exactly once; a replay that dies again is a new open letter; not
//! open is 409, unknown 404, another role 403, a broker that does not confirm 503.

use clickup_iam_router::{
    ingest::envelope::Envelope,
    sandbox::{
        iam::{IamSandboxUser, TokenSpec},
        Role,
    },
    store::{DeadLetterRecord, LetterState},
};
use serde_json::{json, Value};

use super::{dlq_output, garbled, wait_for_dead_letters};
use crate::helpers::{
    bus_url, fixture, fixture_json, skip_unless_rabbitmq, spawn_app_with, Options, TestApp,
};

fn user(n: u8, username: &str, role: &str) -> IamSandboxUser {
    IamSandboxUser {
        dn: format!("cn={username},ou=users,o=data"),
        id: format!("{n:032x}"),
        username: username.into(),
        password: None,
        email: format!("{username}@example.com"),
        display_name: username.into(),
        roles: vec![role.into()],
    }
}

async fn spawn(through_proxy: bool) -> TestApp {
    spawn_app_with(Options {
        iam: Some(vec![
            user(0xa1, "ada", "clickup-router-admin"),
            user(0xa2, "audrey", "clickup-router-auditor"),
        ]),
        admin_api: true,
        through_proxy,
        ..Options::default()
    })
    .await
}

fn token(app: &TestApp, username: &str) -> String {
    let iam = app.iam.as_ref().expect("the IAM stand-in runs");
    iam.issue_token(&TokenSpec::new(username)).unwrap()
}

async fn call(app: &TestApp, method: &str, path: &str, bearer: &str) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let response = reqwest::Client::new()
        .request(method, format!("{}/api/v1{path}", app.url))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A leaver of Mark that ClickUp refuses once (400) after the worker is known to consume:
/// its dead letter. Returns the leaver event.
async fn refused_leaver(app: &TestApp) -> (Value, DeadLetterRecord) {
    let state = app.sandbox.state();
    let warm_up = fixture_json("iam/04-leaver-terminated.json");
    app.post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    assert_eq!(app.wait_processed(&warm_up).await.outcome, "already_absent");
    state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    state.set_fail_next(1, 400);
    let mut leaver = warm_up;
    leaver["id"] = json!("term-replay-1");

    app.post_iam(&serde_json::to_vec(&leaver).unwrap()).await;
    assert_eq!(app.wait_processed(&leaver).await.outcome, "failed");
    let letter = wait_for_dead_letters(app, 1).await.remove(0);
    (leaver, letter)
}

fn removals(app: &TestApp) -> usize {
    let path = format!("/api/v2/team/{}/user/", app.team_id);
    app.sandbox
        .state()
        .calls()
        .iter()
        .filter(|c| c.method == "DELETE" && c.path.starts_with(&path) && c.status == 200)
        .count()
}

/// Runs `dlq ARGS` with the test's store and broker settings: (success, stdout, stderr).
async fn dlq_with_bus(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let bus = &app.settings.bus;
    let limit = bus.delivery_limit.to_string();
    // The broker itself: the CLI is not the router, whose link may go through a test proxy.
    // Without one, the CLI queues the replay in the embedded engine of the test's store.
    let url = bus_url();
    let mut all = args.to_vec();
    if let Some(url) = &url {
        all.extend(["--amqp-url", url]);
    }
    all.extend([
        "--amqp-prefix",
        &bus.amqp_prefix,
        "--delivery-limit",
        &limit,
        "--by",
        "tester",
    ]);
    dlq_output(app, &all).await
}

#[tokio::test]
async fn a_permanent_failure_is_listed_with_its_reason_and_replayed_by_the_cli_once_fixed() {
    let app = spawn(false).await;
    let (leaver, letter) = refused_leaver(&app).await;
    let id = letter.id.to_string();

    let (ok, listed, _) = dlq_output(&app, &["list"]).await;
    assert!(ok);
    let line = listed.lines().nth(1).expect("the open letter listed");
    for expected in [id.as_str(), "open", "rejected", "clickup_refused"] {
        assert!(line.contains(expected), "{expected} in {listed}");
    }
    assert_eq!(removals(&app), 0);
    let detail = app.store.dead_letter(letter.id).await.unwrap().unwrap();
    let key = serde_json::from_slice::<Envelope>(&detail.envelope)
        .unwrap()
        .dedup_key();
    let failures = app
        .store
        .message_failure(&key, "deprovision")
        .await
        .unwrap();
    assert_eq!(failures, None, "pruned with the dead letter that keeps why");
    assert_eq!(open_letters_gauge(&app).await, Some(1.0));
    app.sandbox.state().set_fail_next(0, 400);

    let (ok, out, err) = dlq_with_bus(&app, &["replay", &id]).await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("dead letter {id} replayed")), "{out}");
    assert_eq!(app.wait_processed(&leaver).await.outcome, "removed_member");
    assert_eq!(removals(&app), 1, "the account is removed once");
    let record = app
        .store
        .dead_letter(letter.id)
        .await
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(record.state, LetterState::Replayed);
    assert_eq!(
        (record.replayed_by.as_deref(), record.replays),
        (Some("cli:tester"), 1)
    );
    assert_eq!(
        open_letters_gauge(&app).await,
        Some(0.0),
        "a replayed letter is no longer counted as open"
    );

    let (ok, _, err) = dlq_with_bus(&app, &["replay", &id]).await;
    assert!(!ok, "a second replay is refused");
    assert!(err.contains("is replayed, not open"), "{err}");
    let (status, body) = call(
        &app,
        "POST",
        &format!("/dead-letters/{id}/replay"),
        &token(&app, "ada"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_open")),
        "{body}"
    );
    let (ok, _, err) = dlq_output(&app, &["drop", &id]).await;
    assert!(!ok && err.contains("not open"), "{err}");
    assert_eq!(removals(&app), 1, "nothing published again");

    let (_, open, _) = dlq_output(&app, &["list"]).await;
    assert_eq!(open, "no dead letters on record\n");
    let (_, replayed, _) = dlq_output(&app, &["list", "--state", "replayed"]).await;
    assert!(replayed.contains("replayed"), "{replayed}");
    let (_, shown, _) = dlq_output(&app, &["show", &id]).await;
    assert!(
        shown.contains("by cli:tester (replay 1 of this message)"),
        "{shown}"
    );
    let rows = app
        .store
        .audit_by_correlation(leaver["correlationid"].as_str().unwrap_or("term-replay-1"))
        .await
        .unwrap();
    let replay_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "dead_letter.replayed")
        .collect();
    assert_eq!(replay_rows.len(), 1, "{rows:?}");
    assert_eq!(
        (
            replay_rows[0].actor.as_str(),
            replay_rows[0].outcome.as_str()
        ),
        ("cli:tester", "replayed")
    );
    let detail: Value = serde_json::from_str(&replay_rows[0].detail).unwrap();
    assert_eq!(detail["dead_letter_id"], letter.id);
    assert_eq!(detail["routing_key"], "iam.user.terminated");
    assert!(
        !replay_rows[0].detail.contains("mark.lee"),
        "never the body"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_admin_api_replays_a_letter_that_dies_again_as_a_new_one_and_drops_by_role() {
    let app = spawn(false).await;
    let (admin, auditor) = (token(&app, "ada"), token(&app, "audrey"));
    let (leaver, first) = refused_leaver(&app).await;
    let path = |id: i64, action: &str| format!("/dead-letters/{id}/{action}");

    let (status, body) = call(&app, "POST", &path(first.id, "replay"), &auditor).await;
    assert_eq!(
        (status, body["required_role"].as_str()),
        (403, Some("admin")),
        "{body}"
    );
    app.sandbox.state().set_fail_next(1, 400);
    let (status, body) = call(&app, "POST", &path(first.id, "replay"), &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["replayed"]["replays"], 1);
    let letters = wait_for_dead_letters(&app, 2).await;
    assert_eq!(
        letters[1].message_id, first.message_id,
        "the same message died again"
    );
    assert_eq!(letters[1].state, LetterState::Open, "a new open letter");

    let (status, body) = call(&app, "POST", "/dead-letters/replay", &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["replayed"].as_u64(), body["open"].as_i64()),
        (Some(1), Some(0)),
        "{body}"
    );
    assert_eq!(
        body["items"][0]["replays"], 2,
        "the message's second replay"
    );
    assert_eq!(app.wait_processed(&leaver).await.outcome, "removed_member");

    let (status, body) = call(&app, "GET", "/dead-letters?state=all", &admin).await;
    assert_eq!(status, 200, "{body}");
    let states: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["replayed", "replayed"]);
    let (_, body) = call(&app, "GET", "/dead-letters", &admin).await;
    assert_eq!(body["items"], json!([]), "open ones by default");
    let cases = [
        ("POST", path(first.id, "replay"), 409, "not_open"),
        ("POST", path(first.id, "drop"), 409, "not_open"),
        ("POST", path(9_999, "replay"), 404, "not_found"),
        ("POST", path(9_999, "drop"), 404, "not_found"),
        ("GET", "/dead-letters/9999".into(), 404, "not_found"),
        (
            "POST",
            "/dead-letters/x1/replay".into(),
            400,
            "invalid_parameter",
        ),
        (
            "GET",
            "/dead-letters?state=gone".into(),
            400,
            "invalid_parameter",
        ),
        (
            "GET",
            "/dead-letters/replay".into(),
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, status, code) in cases {
        let (got, body) = call(&app, method, &path, &admin).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{method} {path}: {body}"
        );
    }
    assert_eq!(removals(&app), 1, "exactly once");

    let (_, whoami) = call(&app, "GET", "/whoami", &admin).await;
    let third = app
        .store
        .record_dead_letter(&garbled("garbled-1"))
        .await
        .unwrap()
        .unwrap();
    let (status, body) = call(&app, "POST", &path(third, "replay"), &admin).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_replayable")),
        "{body}"
    );
    let (status, body) = call(&app, "POST", &path(third, "drop"), &admin).await;
    assert_eq!(status, 200, "{body}");
    let (status, shown) = call(&app, "GET", &format!("/dead-letters/{third}"), &admin).await;
    assert_eq!(status, 200);
    assert_eq!(
        (shown["state"].as_str(), &shown["dropped_by"]),
        (Some("dropped"), &whoami["sub"])
    );
    assert!(shown.get("envelope").is_none());
    let (status, body) = call(&app, "POST", &path(third, "drop"), &admin).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("not_open")));
    let drops = app
        .store
        .audit_by_correlation(&format!("dead-letter:{third}"))
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = drops
        .iter()
        .map(|r| (r.action.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("dead_letter.replayed", "refused"),
            ("dead_letter.dropped", "dropped")
        ]
    );
    assert!(drops.iter().all(|r| json!(r.actor) == whoami["sub"]));
    app.stop().await;
}

#[tokio::test]
async fn a_replay_the_broker_does_not_confirm_is_503_and_leaves_the_letter_open() {
    if skip_unless_rabbitmq("cuts the router's broker link with a proxy") {
        return;
    }
    let app = spawn(true).await;
    let admin = token(&app, "ada");
    let envelope = json!({
        "specversion": "1.0", "id": "evt-unconfirmed-1", "source": "urn:iam",
        "type": "com.example.iam.user.terminated.v1", "time": "2026-01-01T00:00:00Z",
        "datacontenttype": "application/json", "correlationid": "corr-unconfirmed-1",
        "routingkey": "iam.user.terminated", "data": {}
    });
    let mut letter = garbled("evt-unconfirmed-1");
    letter.envelope = serde_json::to_vec(&envelope).unwrap();
    let id = app
        .store
        .record_dead_letter(&letter)
        .await
        .unwrap()
        .unwrap();
    let proxy = app.proxy.as_ref().unwrap();

    proxy.cut();
    let (status, body) = call(&app, "POST", &format!("/dead-letters/{id}/replay"), &admin).await;
    proxy.restore().await;

    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("broker_unavailable")),
        "{body}"
    );
    let record = app.store.dead_letter(id).await.unwrap().unwrap().record;
    assert_eq!(record.state, LetterState::Open);
    let rows = app
        .store
        .audit_by_correlation("corr-unconfirmed-1")
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>(),
        ["failed"]
    );
    let (ok, out, err) = dlq_with_bus(&app, &["replay", "--all"]).await;
    assert!(ok, "the broker back, the replay goes: {err}");
    assert!(out.contains(&format!("dead letter {id} replayed")), "{out}");
    assert!(out.contains("1 replayed, 0 left open"), "{out}");
    let record = app.store.dead_letter(id).await.unwrap().unwrap().record;
    assert_eq!(record.state, LetterState::Replayed);
    app.stop().await;
}

async fn open_letters_gauge(app: &TestApp) -> Option<f64> {
    let samples = crate::metrics::scrape(app).await;
    crate::metrics::value(&samples, "clickup_iam_router_dead_letters", &[])
}
