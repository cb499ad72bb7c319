//! The router's whole log output holds no secret, signature, token, body or e-mail address:
//! the real binary (`run`, every crate at debug and the router at trace, as text and as JSON)
//! against the sandbox and the IAM stand-in on loopback, fed joiners, movers, leavers,
//! ClickUp deliveries and refused requests that carry secrets, then stopped and its stdout
//! and stderr scanned. The log must name the events and webhook it handled, so a silent
//! logger fails too.

use std::{
    net::TcpListener,
    process::{Command, Stdio},
    time::Duration,
};

use base64::Engine;
use clickup_iam_router::{
    bus::rabbitmq::RabbitMq,
    config::StoreSettings,
    ingest::signature::sign_clickup,
    sandbox::{Sandbox, SandboxConfig},
    store::Store,
};
use serde_json::Value;

use crate::helpers::{
    bus_settings, bus_url, fixture, fixture_json, iam_headers, register_webhook, start_iam,
    store_url, IAM_SECRET, ROUTER_CLIENT, WEBHOOK_ID, WEBHOOK_SECRET,
};

const TOKEN: &str = "pk_logs_test_token_8d1f2c";
const BEARER: &str = "opaque-bearer-token-4f9a1c7e";
const CANARY: &str = "body-canary-7c1e";
const IAM_EVENTS: [&str; 7] = [
    "01-joiner-employee",
    "02-joiner-contractor-end-date",
    "03-mover-dept-title-role",
    "07-manager-change",
    "08-group-membership-added",
    "04-leaver-terminated",
    "05-disable",
];
const CLICKUP_EVENTS: [&str; 3] = [
    "event-taskCreated",
    "event-taskStatusUpdated",
    "event-taskCommentPosted",
];

/// What the test's stand-ins and deliveries use; everything in `secrets` must stay out of logs.
struct World {
    sandbox: Sandbox,
    team_id: u64,
    router: String,
    issuer: String,
    hook: (String, String),
    secrets: Vec<String>,
}

#[tokio::test]
async fn the_log_of_a_full_run_holds_ids_and_no_secret_body_or_email() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let router = format!("http://127.0.0.1:{port}");
    let config = SandboxConfig {
        tokens: vec![TOKEN.to_owned()],
        ..SandboxConfig::default()
    };
    let team_id = config.team_id;
    let sandbox = Sandbox::start(TcpListener::bind("127.0.0.1:0").unwrap(), config)
        .await
        .unwrap();
    sandbox.state().seed_examples().unwrap();
    let hook = register_webhook(&sandbox, team_id, TOKEN, &router).await;
    let iam = start_iam(Vec::new(), &router, false, true, false).await;
    let mut world = World {
        sandbox,
        team_id,
        router,
        issuer: iam.oidc_issuer(),
        secrets: secrets_and_emails(&hook.1),
        hook,
    };

    for format in ["text", "json"] {
        let log = run_router(&mut world, format).await;

        assert!(
            log.len() > 1_000,
            "{format}: the log is nearly empty:\n{log}"
        );
        for expected in ids_expected(&world) {
            assert!(
                log.contains(&expected),
                "{format}: {expected} is not logged"
            );
        }
        for needle in &world.secrets {
            assert!(
                !log.contains(needle.as_str()),
                "{format}: {needle:?} is in the log"
            );
        }
    }
    world.sandbox.stop().await;
    iam.stop().await;
}

/// The ids a run logs: each IAM event's id and the ClickUp webhooks'.
fn ids_expected(world: &World) -> Vec<String> {
    let mut ids: Vec<String> = IAM_EVENTS
        .iter()
        .map(|name| {
            fixture_json(&format!("iam/{name}.json"))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.push(WEBHOOK_ID.to_owned());
    ids.push(world.hook.0.clone());
    ids
}

/// Every configured secret, and every e-mail address in the fixtures.
fn secrets_and_emails(hook_secret: &str) -> Vec<String> {
    let mut needles: Vec<String> = [
        WEBHOOK_SECRET,
        hook_secret,
        IAM_SECRET,
        IAM_SECRET.trim_start_matches("whsec_"),
        TOKEN,
        ROUTER_CLIENT.1,
        BEARER,
        CANARY,
    ]
    .map(str::to_owned)
    .to_vec();
    for dir in ["iam", "clickup"] {
        let path = format!("{}/tests/fixtures/{dir}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(path).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let words = text.split(|c: char| !(c.is_alphanumeric() || "@.+-_".contains(c)));
            needles.extend(
                words
                    .filter(|w| w.contains('@') && w.contains('.') && w.len() > 5)
                    .map(|w| w.trim_matches('.').to_owned()),
            );
        }
    }
    needles.sort();
    needles.dedup();
    needles
}

/// Runs `clickup-iam-router run` with its own queues and store, feeds it, stops it with
/// SIGTERM and returns stdout and stderr.
async fn run_router(world: &mut World, format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (database, _database) = store_url(dir.path()).await;
    let prefix = format!("cir-test-{}", uuid::Uuid::new_v4().simple());
    let secrets = format!(
        "{WEBHOOK_ID}={WEBHOOK_SECRET},{}={}",
        world.hook.0, world.hook.1
    );
    // Files, not pipes: a full pipe nobody reads would block the router's logging.
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
    command.env_clear();
    if let Some(url) = bus_url() {
        command.env("AMQP_URL", url);
    }
    let mut child = command
        .arg("run")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("RUST_LOG", "debug,clickup_iam_router=trace"),
            ("LOG_FORMAT", format),
            ("HTTP_ADDR", world.router.trim_start_matches("http://")),
            ("AMQP_PREFIX", &prefix),
            ("DATABASE_URL", &database),
            ("CLICKUP_API_URL", &world.sandbox.base_url()),
            ("CLICKUP_TOKEN", TOKEN),
            ("CLICKUP_TEAM_ID", &world.team_id.to_string()),
            ("CLICKUP_WEBHOOK_SECRETS", &secrets),
            ("IAM_WEBHOOK_SECRETS", IAM_SECRET),
            ("OIDC_ISSUER", &world.issuer),
            ("OIDC_AUDIENCE", ROUTER_CLIENT.0),
            ("OIDC_CLIENT_ID", ROUTER_CLIENT.0),
            ("OIDC_CLIENT_SECRET", ROUTER_CLIENT.1),
            ("SCHEDULER_TICK_MS", "200"),
        ])
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
        .spawn()
        .unwrap();

    let guard = KillOnDrop(Some(child.id()));
    let http = reqwest::Client::new();
    wait_ready(&http, &world.router).await;
    let signatures = feed(&http, world).await;
    world.secrets.extend(signatures);
    wait_processed(&database).await;

    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    std::mem::forget(guard);
    assert!(status.success(), "the router stopped with {status}");
    delete_queues(&prefix).await;
    let read = |path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    format!("{}{}", read(&out), read(&err))
}

/// Kills the router when the test fails before stopping it, so no process outlives the test.
struct KillOnDrop(Option<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

async fn wait_ready(http: &reqwest::Client, router: &str) {
    for _ in 0..600 {
        if let Ok(response) = http.get(format!("{router}/readyz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the router did not become ready");
}

/// Sends the good deliveries and the refused ones; returns the signatures it sent.
async fn feed(http: &reqwest::Client, world: &World) -> Vec<String> {
    let mut sent = Vec::new();
    let post = |path: &str| http.post(format!("{}{path}", world.router));

    for name in CLICKUP_EVENTS {
        let body = fixture(&format!("clickup/{name}.json"));
        let signature = sign_clickup(WEBHOOK_SECRET, &body);
        let response = post("/webhooks/clickup")
            .header("content-type", "application/json")
            .header("x-signature", &signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{name}: {}",
            response.status()
        );
        sent.push(signature);
    }
    let mut delivered = fixture_json("clickup/event-taskMoved.json");
    delivered["webhook_id"] = Value::from(world.hook.0.clone());
    let status = world
        .sandbox
        .deliver(&world.hook.0, &delivered)
        .await
        .unwrap();
    assert_eq!(status, 202, "the sandbox's signed delivery");

    for name in IAM_EVENTS {
        let body = fixture(&format!("iam/{name}.json"));
        let headers = iam_headers(&body, chrono::Utc::now().timestamp());
        let mut request = post("/webhooks/iam")
            .header("content-type", "application/cloudevents+json")
            .body(body);
        for (header, value) in &headers {
            request = request.header(*header, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 202, "{name}");
        sent.push(headers[2].1.trim_start_matches("v1,").to_owned());
    }

    refused(http, world).await;
    sent
}

/// Requests the router refuses, with secrets and personal data in headers and bodies.
async fn refused(http: &reqwest::Client, world: &World) {
    let post = |path: &str| http.post(format!("{}{path}", world.router));
    let body = format!(
        r#"{{"event":"taskCreated","webhook_id":"{WEBHOOK_ID}","task_id":"{CANARY}","note":"{TOKEN} jane.doe@example.com"}}"#
    );
    let iam_key =
        base64::engine::general_purpose::STANDARD.encode(IAM_SECRET.trim_start_matches("whsec_"));
    let requests = [
        post("/webhooks/clickup")
            .header("x-signature", WEBHOOK_SECRET)
            .body(body.clone()),
        post("/webhooks/clickup")
            .header("x-signature", "00")
            .body(format!(
                r#"{{"webhook_id":"jane.doe@example.com","x":"{CANARY}"}}"#
            )),
        post("/webhooks/clickup")
            .header("x-signature", WEBHOOK_SECRET)
            .header("x-signature", WEBHOOK_SECRET)
            .body(body.clone()),
        post("/webhooks/iam")
            .header("webhook-id", IAM_SECRET)
            .header(
                "webhook-timestamp",
                chrono::Utc::now().timestamp().to_string(),
            )
            .header(
                "webhook-signature",
                format!("v1,{iam_key} v1,{}", IAM_SECRET),
            )
            .body(body.clone()),
        post("/webhooks/iam")
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", CANARY)
            .header("webhook-signature", "v1,AAAA")
            .body(body.clone()),
        http.get(format!("{}/api/v1/whoami", world.router))
            .bearer_auth(BEARER),
        http.get(format!(
            "{}/api/v1/audit?subject=jane.doe@example.com",
            world.router
        ))
        .bearer_auth(BEARER),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
}

/// Waits until the worker recorded an outcome for every IAM event.
async fn wait_processed(database: &str) {
    let settings = StoreSettings {
        database_url: database.parse().unwrap(),
    };
    let store = Store::open_read_only(&settings).await.unwrap();
    for name in IAM_EVENTS {
        let event = fixture_json(&format!("iam/{name}.json"));
        let key = format!(
            "{} {}",
            event["source"].as_str().unwrap(),
            event["id"].as_str().unwrap()
        );
        let mut waited = 0;
        while store.processed(&key).await.unwrap().is_none() {
            assert!(waited < 600, "no outcome recorded for {name}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
    }
}

/// Deletes the run's queues and exchanges from the broker (the embedded engine's go with
/// the run's store).
async fn delete_queues(prefix: &str) {
    let Some(url) = bus_url() else {
        return;
    };
    // The run's default tiers, so their queues are deleted too.
    let settings = bus_settings(prefix, "10s,1m,10m,1h");
    let bus = RabbitMq::new(url.parse().unwrap(), settings);
    bus.delete_topology().await.unwrap();
}
