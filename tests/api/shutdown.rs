//! Graceful shutdown of the real binary: `run` against a sandbox on loopback and the suite's
//! bus engine, events accepted, then SIGTERM. The process exits 0 within `SHUTDOWN_GRACE`, and
//! every event it answered 202 for is either handled (its processed row) or still queued.

use std::{
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use clickup_iam_router::{
    bus::Lane,
    config::StoreSettings,
    sandbox::{Role, Sandbox, SandboxConfig},
    store::Store,
};
use serde_json::json;

use crate::helpers::{
    bus_env, bus_for, bus_settings, embedded, fixture_json, iam_headers, store_url, IAM_SECRET,
};

const GRACE: Duration = Duration::from_secs(10);
const EVENTS: usize = 12;

#[tokio::test]
async fn sigterm_stops_run_with_status_0_within_the_grace_and_loses_no_accepted_event() {
    let config = SandboxConfig::default();
    let (team_id, token) = (config.team_id, config.tokens[0].clone());
    let sandbox = Sandbox::start(TcpListener::bind("127.0.0.1:0").unwrap(), config)
        .await
        .unwrap();
    sandbox.state().seed_examples().unwrap();
    sandbox
        .state()
        .add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _database) = store_url(dir.path()).await;
    let prefix = format!("cir-test-{}", uuid::Uuid::new_v4().simple());
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}");
    let log = std::fs::File::create(dir.path().join("router.log")).unwrap();

    let mut command = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
    bus_env(&mut command, &prefix);
    let mut router = command
        .arg("run")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HTTP_ADDR", addr.to_string())
        .env("DATABASE_URL", &database_url)
        .env("CLICKUP_API_URL", sandbox.base_url())
        .env("CLICKUP_TOKEN", &token)
        .env("CLICKUP_TEAM_ID", team_id.to_string())
        .env("CLICKUP_AUDIT_LOG_INTERVAL", "0")
        .env("IAM_WEBHOOK_SECRETS", IAM_SECRET)
        .env("RULES_DIR", "rules")
        .env("RETRY_TIERS", "1s")
        .env("SHUTDOWN_GRACE", "10s")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    wait_ready(&http, &url).await;

    let mut accepted = Vec::new();
    for n in 0..EVENTS {
        let mut leaver = fixture_json("iam/04-leaver-terminated.json");
        leaver["id"] = json!(format!("term-shutdown-{n}"));
        let body = serde_json::to_vec(&leaver).unwrap();
        let mut request = http
            .post(format!("{url}/webhooks/iam"))
            .header("content-type", "application/cloudevents+json")
            .body(body.clone());
        for (name, value) in iam_headers(&body, chrono::Utc::now().timestamp()) {
            request = request.header(name, value);
        }
        if request.send().await.unwrap().status().as_u16() == 202 {
            accepted.push(format!(
                "{} {}",
                leaver["source"].as_str().unwrap(),
                leaver["id"].as_str().unwrap()
            ));
        }
    }
    let signalled = Instant::now();
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    let sent = unsafe { libc::kill(router.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0);
    let status = loop {
        if let Some(status) = router.try_wait().unwrap() {
            break Some(status);
        }
        if signalled.elapsed() > GRACE + Duration::from_secs(5) {
            let _ = router.kill();
            let _ = router.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = signalled.elapsed();

    let log = std::fs::read_to_string(dir.path().join("router.log")).unwrap_or_default();
    let status = status.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM:\n{log}"));
    assert!(status.success(), "exit status {status:?}:\n{log}");
    assert!(took < GRACE, "took {took:?} to stop:\n{log}");
    // RabbitMQ's publish link closes last; the embedded engine has none, and the application
    // says it stopped once every part has.
    let in_order = log.lines().any(|line| match embedded() {
        true => line.contains("clickup_iam_router::app") && line.trim_end().ends_with("stopped"),
        false => line.contains("publisher closed"),
    });
    assert!(
        in_order && !log.contains("shutdown grace over"),
        "stopped in order, not by the grace's end:\n{log}"
    );
    assert_eq!(accepted.len(), EVENTS, "every event was accepted");
    let store = Store::open(&StoreSettings {
        database_url: database_url.parse().unwrap(),
    })
    .await
    .unwrap();
    let mut processed = 0;
    for key in &accepted {
        if store.processed(key).await.unwrap().is_some() {
            processed += 1;
        }
    }
    let bus = bus_for(bus_settings(&prefix, "1s"), &store);
    let queued = bus
        .queue_depth(&bus.names().queue(Lane::Deprovision))
        .await
        .unwrap();
    let dead = bus.queue_depth(&bus.names().dead_queue()).await.unwrap();
    assert_eq!(
        processed + queued as usize,
        accepted.len(),
        "{processed} handled and {queued} queued (dead: {dead}):\n{log}"
    );
    bus.delete_topology().await.unwrap();
    sandbox.stop().await;
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    for _ in 0..400 {
        if let Ok(response) = http.get(format!("{url}/readyz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the router did not become ready");
}
