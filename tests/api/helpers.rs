//! `spawn_app`: the router on port 0 with a fresh queue prefix, a fresh store and a sandbox,
//! on the bus engine `TEST_BUS` names: `rabbitmq` (the default; the broker at `AMQP_URL`) or
//! `embedded` (queues in the test's store, no broker). The store is a SQLite file, or with
//! RabbitMQ and `TEST_POSTGRES_URL` set, a fresh database in that PostgreSQL cluster.

use std::{net::TcpListener, sync::Arc, time::Duration};

use clickup_iam_router::{
    app::{Application, Settings},
    bus::{Bus, Lane},
    config::{
        BusSettings, ClickUpSettings, HttpSettings, IamApiArgs, IamSettings, OidcSettings,
        RulesSettings, Secret, StoreSettings, UiSettings, WebhookSecrets,
    },
    ingest::signature::{sign_clickup, StandardKey},
    sandbox::{
        iam::{IamNotify, IamSandbox, IamSandboxConfig, IamSandboxUser, OidcClient, OidcConfig},
        Plan, Sandbox, SandboxConfig,
    },
    store::{scratch::ScratchDatabase, Processed, Store},
};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::proxy::BrokerProxy;

pub const WEBHOOK_ID: &str = "a1b2c3d4-0000-4000-8000-00000000abcd";
pub const WEBHOOK_SECRET: &str = "FAKESECRET0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";
pub const IAM_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// Variations of the test application.
#[derive(Default)]
pub struct Options {
    /// Route the router's broker traffic through a proxy the test can cut.
    pub through_proxy: bool,
    /// Plan of the sandbox workspace (Enterprise when `None`).
    pub plan: Option<Plan>,
    /// Run receivers only, no worker.
    pub without_worker: bool,
    /// Rules folder (the shipped `rules/` when `None`).
    pub rules_dir: Option<std::path::PathBuf>,
    /// The sandbox's rate limit: requests per window, and the window's length.
    pub rate_limit: Option<(u32, Duration)>,
    /// Register a ClickUp webhook for every event, pointing at the router (access requests).
    pub clickup_webhook: bool,
    /// Start the IAM stand-in and connect the router's IAM API to it.
    pub iam: Option<Vec<IamSandboxUser>>,
    /// The IAM stand-in does not push decisions: the router has to poll for them.
    pub iam_silent: bool,
    /// Give the IAM stand-in its OIDC provider and turn the admin API on against it
    /// (needs `iam`).
    pub admin_api: bool,
    /// Seconds between reads of ClickUp's audit log (0: the poller is off).
    pub audit_log_interval_secs: u64,
    /// How often the worker reconciles (off when `None`).
    pub reconcile_every: Option<Duration>,
    /// Serve the `/ui` pages, signing in through the IAM stand-in's OIDC provider with the
    /// router's client (needs `iam`; turns the OIDC settings on as `admin_api` does).
    pub ui: bool,
    /// `RETRY_TIERS` (five tiers of one second when `None`).
    pub retry_tiers: Option<&'static str>,
    /// `SCIM_TOKENS` (SCIM off when `None`).
    pub scim_tokens: Option<String>,
}

/// The IAM stand-in's client and the router's service account in it.
pub const IAM_CLIENT: (&str, &str) = ("rbpmrest", "client-secret-for-tests");
pub const IAM_SERVICE: (&str, &str) = ("svc-clickup", "service-password-for-tests");
/// The router's OIDC client in the IAM stand-in (introspection), and its tokens' audience.
pub const ROUTER_CLIENT: (&str, &str) = ("clickup-iam-router", "router-secret-for-tests");
/// The pages' session key.
pub const UI_SESSION_KEY: &str = "a session key for tests, at least 32 bytes long";

pub struct TestApp {
    pub url: String,
    pub sandbox: Sandbox,
    pub store: Store,
    pub bus: Arc<Bus>,
    pub proxy: Option<BrokerProxy>,
    pub team_id: u64,
    pub settings: Settings,
    /// The ClickUp webhook registered for the router, when asked for.
    pub webhook_id: Option<String>,
    pub iam: Option<IamSandbox>,
    http: reqwest::Client,
    shutdown: CancellationToken,
    /// The router, while it runs (`halt` takes it).
    running: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
    /// The store's PostgreSQL database (dropped with the app), when there is one.
    _database: Option<ScratchDatabase>,
}

/// Whether the suite runs on the embedded engine (`TEST_BUS=embedded`) rather than RabbitMQ
/// (`TEST_BUS=rabbitmq` or unset).
pub fn embedded() -> bool {
    match std::env::var("TEST_BUS").as_deref() {
        Ok("embedded") => true,
        Ok("rabbitmq") | Err(_) => false,
        Ok(other) => panic!("TEST_BUS={other:?}: use embedded or rabbitmq"),
    }
}

/// For tests about RabbitMQ itself: `true` (skip) under the embedded engine, saying why.
pub fn skip_unless_rabbitmq(why: &str) -> bool {
    if embedded() {
        eprintln!("skipped under TEST_BUS=embedded: {why}");
    }
    embedded()
}

/// The store of one test router: a fresh PostgreSQL database when `TEST_POSTGRES_URL` names
/// a cluster and the engine is RabbitMQ (the embedded engine needs SQLite), else a SQLite
/// file in `dir`.
pub async fn store_url(dir: &std::path::Path) -> (String, Option<ScratchDatabase>) {
    match ScratchDatabase::admin_url().filter(|_| !embedded()) {
        Some(admin_url) => {
            let database = ScratchDatabase::create(&admin_url).await.unwrap();
            (database.url().to_owned(), Some(database))
        }
        None => (format!("sqlite://{}", dir.join("t.db").display()), None),
    }
}

/// The test broker (RabbitMQ runs only).
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://127.0.0.1:5672/%2f".into())
}

/// The `AMQP_URL` the router gets: none under the embedded engine.
pub fn bus_url() -> Option<String> {
    (!embedded()).then(amqp_url)
}

/// Points a router process at the suite's engine: the test broker and `prefix`, or (no
/// `AMQP_URL`) the embedded engine in its store.
pub fn bus_env(command: &mut std::process::Command, prefix: &str) {
    command.env("AMQP_PREFIX", prefix);
    match bus_url() {
        Some(url) => command.env("AMQP_URL", url),
        None => command.env_remove("AMQP_URL"),
    };
}

/// The bus a test reads queues through, beside a router process: the same engine, prefix
/// and store.
pub fn bus_for(settings: BusSettings, store: &Store) -> Bus {
    Bus::from_settings(&settings, store).unwrap()
}

/// Bus settings as the suite's router processes get them (`RETRY_TIERS` `tiers`).
pub fn bus_settings(prefix: &str, tiers: &str) -> BusSettings {
    BusSettings {
        amqp_url: bus_url().map(|url| url.parse().unwrap()),
        amqp_prefix: prefix.to_owned(),
        confirm_timeout_ms: 2500,
        prefetch: 1,
        delivery_limit: 5,
        retry_tiers: tiers.parse().unwrap(),
        visibility_timeout: Duration::from_secs(60),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        clickup_iam_router::telemetry::init("text", clickup_iam_router::telemetry::DEFAULT_FILTER);
    }
    let mut sandbox_config = SandboxConfig {
        plan: options.plan.unwrap_or(Plan::Enterprise),
        ..SandboxConfig::default()
    };
    if let Some((limit, window)) = options.rate_limit {
        sandbox_config.rate_limit_per_minute = Some(limit);
        sandbox_config.rate_window = window;
    }
    let team_id = sandbox_config.team_id;
    let token = sandbox_config.tokens[0].clone();
    let sandbox = Sandbox::start(TcpListener::bind("127.0.0.1:0").unwrap(), sandbox_config)
        .await
        .unwrap();

    assert!(
        !(options.through_proxy && embedded()),
        "a broker proxy needs RabbitMQ: skip the test under TEST_BUS=embedded"
    );
    let mut amqp = bus_url().map(|url| url::Url::parse(&url).unwrap());
    let proxy = match (&mut amqp, options.through_proxy) {
        (Some(amqp), true) => {
            let upstream = amqp.socket_addrs(|| Some(5672)).unwrap()[0];
            let proxy = BrokerProxy::start(upstream).await;
            amqp.set_host(Some("127.0.0.1")).unwrap();
            amqp.set_port(Some(proxy.addr().port())).unwrap();
            Some(proxy)
        }
        _ => None,
    };

    let dir = tempfile::tempdir().unwrap();
    let (database_url, database) = store_url(dir.path()).await;
    let mut secrets = WebhookSecrets::default();
    secrets.insert(WEBHOOK_ID, WEBHOOK_SECRET);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    sandbox.state().seed_examples().unwrap();
    let webhook_id = match options.clickup_webhook {
        true => {
            let (id, secret) = register_webhook(&sandbox, team_id, &token, &url).await;
            secrets.insert(&id, &secret);
            Some(id)
        }
        false => None,
    };
    let iam = match options.iam.clone() {
        Some(users) => Some(
            start_iam(
                users,
                &url,
                !options.iam_silent,
                options.admin_api,
                options.ui,
            )
            .await,
        ),
        None => None,
    };
    let settings = Settings {
        http: Some(HttpSettings {
            http_addr: url.clone(),
            max_body_bytes: 64 * 1024,
            body_timeout_ms: 1_000,
            scim_tokens: options
                .scim_tokens
                .as_deref()
                .unwrap_or_default()
                .parse()
                .unwrap(),
            oidc: match (&iam, options.admin_api || options.ui) {
                (Some(iam), true) => admin_api(iam),
                _ => OidcSettings::default(),
            },
        }),
        iam: Some(IamSettings {
            iam_webhook_secrets: Secret::new(IAM_SECRET),
            iam_timestamp_tolerance_secs: 300,
            iam_future_skew_secs: 30,
        }),
        bus: BusSettings {
            amqp_url: amqp.map(|url| url.as_str().parse().unwrap()),
            amqp_prefix: format!("cir-test-{}", uuid::Uuid::new_v4().simple()),
            confirm_timeout_ms: 2500,
            prefetch: 16,
            delivery_limit: 5,
            retry_tiers: options
                .retry_tiers
                .unwrap_or("1s,1s,1s,1s,1s")
                .parse()
                .unwrap(),
            visibility_timeout: Duration::from_secs(60),
        },
        store: StoreSettings {
            database_url: database_url.parse().unwrap(),
        },
        clickup: ClickUpSettings {
            clickup_api_url: sandbox.base_url(),
            clickup_token: Secret::new(token),
            clickup_team_id: team_id,
            clickup_webhook_secrets: secrets,
            clickup_max_attempts: 3,
            clickup_timeout_ms: 5_000,
            clickup_audit_log_interval_secs: options.audit_log_interval_secs,
        },
        rules: RulesSettings {
            rules_dir: options
                .rules_dir
                .clone()
                .unwrap_or_else(|| format!("{}/rules", env!("CARGO_MANIFEST_DIR")).into()),
            scheduler_tick_ms: 100,
            reconcile_interval: clickup_iam_router::reconcile::Interval(options.reconcile_every),
            iam_api: iam.as_ref().map(iam_api).unwrap_or_default(),
            ..RulesSettings::default()
        },
        run_worker: !options.without_worker,
        ui: match options.ui {
            true => UiSettings {
                ui_public_url: url.clone(),
                ui_session_key: Secret::new(UI_SESSION_KEY),
            },
            false => UiSettings::default(),
        },
        metrics_listen: None,
    };

    let (store, bus, shutdown, running) = start(settings.clone(), listener).await;

    let app = TestApp {
        url,
        sandbox,
        store,
        bus,
        proxy,
        team_id,
        settings,
        webhook_id,
        iam,
        http: reqwest::Client::new(),
        shutdown,
        running: Some(running),
        _dir: dir,
        _database: database,
    };
    app.wait_ready().await;
    app
}

type Running = (
    Store,
    Arc<Bus>,
    CancellationToken,
    JoinHandle<anyhow::Result<()>>,
);

async fn start(settings: Settings, listener: TcpListener) -> Running {
    let application = Application::build(settings, Some(listener)).await.unwrap();
    let store = application.store();
    let bus = application.bus();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(application.run_until_stopped(shutdown.clone()));
    (store, bus, shutdown, running)
}

impl TestApp {
    /// Posts a ClickUp delivery with the given signature header (none when `None`).
    pub async fn post_clickup(&self, body: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/webhooks/clickup", self.url))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("x-signature", signature);
        }
        request.send().await.unwrap()
    }

    /// Posts a ClickUp delivery signed with the configured webhook secret.
    pub async fn post_clickup_signed(&self, body: &[u8]) -> reqwest::Response {
        self.post_clickup(body, Some(&sign_clickup(WEBHOOK_SECRET, body)))
            .await
    }

    /// Posts an IAM delivery with explicit Standard Webhooks headers.
    pub async fn post_iam_with(
        &self,
        body: &[u8],
        headers: &[(&str, String)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/webhooks/iam", self.url))
            .header("content-type", "application/cloudevents+json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap()
    }

    /// Posts an IAM delivery signed now with the configured secret.
    pub async fn post_iam(&self, body: &[u8]) -> reqwest::Response {
        self.post_iam_with(body, &iam_headers(body, chrono::Utc::now().timestamp()))
            .await
    }

    /// Waits for the worker to record an outcome for `source id`.
    pub async fn wait_processed(&self, event: &Value) -> Processed {
        let key = format!(
            "{} {}",
            event["source"].as_str().unwrap(),
            event["id"].as_str().unwrap()
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(processed) = self.store.processed(&key).await.unwrap() {
                return processed;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no outcome recorded for {key}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `/readyz` says the broker and the store answer.
    pub async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(response) = self.http.get(format!("{}/readyz", self.url)).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the router did not become ready");
    }

    pub async fn depth(&self, lane: Lane) -> u32 {
        self.bus
            .queue_depth(&self.bus.names().queue(lane))
            .await
            .unwrap()
    }

    pub async fn dead_letters(&self) -> u32 {
        self.bus
            .queue_depth(&self.bus.names().dead_queue())
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    /// Stops the router and starts it again on the same store, queues and sandbox, with
    /// `change` applied to its settings; `pause` passes while it is down.
    pub async fn restart(mut self, pause: Duration, change: impl FnOnce(&mut Settings)) -> TestApp {
        self.halt().await;
        tokio::time::sleep(pause).await;

        change(&mut self.settings);
        // The same address when it is free again, so webhooks registered for it still arrive.
        let listener = TcpListener::bind(self.url.trim_start_matches("http://"))
            .unwrap_or_else(|_| TcpListener::bind("127.0.0.1:0").unwrap());
        let url = format!("http://{}", listener.local_addr().unwrap());
        if let (true, Some(webhook_id)) = (url != self.url, &self.webhook_id) {
            let token = self.settings.clickup.clickup_token.expose().to_owned();
            reqwest::Client::new()
                .put(format!("{}/v2/webhook/{webhook_id}", self.sandbox.base_url()))
                .header("Authorization", token)
                .json(&serde_json::json!({ "endpoint": format!("{url}/webhooks/clickup"), "events": ["*"], "status": "active" }))
                .send()
                .await
                .unwrap();
        }
        self.url = url;
        let (store, bus, shutdown, running) = start(self.settings.clone(), listener).await;
        self.store = store;
        self.bus = bus;
        self.shutdown = shutdown;
        self.running = Some(running);
        self.wait_ready().await;
        self
    }

    /// Stops the router only (queues, store and sandbox stay).
    pub async fn halt(&mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), running).await;
        }
    }

    /// Stops the router, deletes the test's queues and stops the sandbox.
    pub async fn stop(self) {
        self.shutdown.cancel();
        if let Some(running) = self.running {
            let _ = tokio::time::timeout(Duration::from_secs(15), running).await;
        }
        if let Some(proxy) = &self.proxy {
            proxy.restore().await;
        }
        self.bus.delete_topology().await.unwrap();
        self.sandbox.stop().await;
        if let Some(iam) = self.iam {
            iam.stop().await;
        }
    }
}

/// Registers a webhook for every event at the router, through the sandbox API as ClickUp
/// users do; returns its id and secret.
pub async fn register_webhook(
    sandbox: &Sandbox,
    team_id: u64,
    token: &str,
    url: &str,
) -> (String, String) {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/v2/team/{team_id}/webhook", sandbox.base_url()))
        .header("Authorization", token)
        .json(
            &serde_json::json!({ "endpoint": format!("{url}/webhooks/clickup"), "events": ["*"] }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let webhook = &answer["webhook"];
    (
        webhook["id"].as_str().unwrap().to_owned(),
        webhook["secret"].as_str().unwrap().to_owned(),
    )
}

pub async fn start_iam(
    mut users: Vec<IamSandboxUser>,
    url: &str,
    push: bool,
    admin_api: bool,
    ui: bool,
) -> IamSandbox {
    users.push(IamSandboxUser {
        dn: "cn=svc-clickup,ou=sa,o=data".into(),
        id: "00000000000000000000000000005ec0".into(),
        username: IAM_SERVICE.0.into(),
        password: Some(IAM_SERVICE.1.into()),
        email: "svc-clickup@example.com".into(),
        display_name: "ClickUp router service".into(),
        roles: Vec::new(),
    });
    let config = IamSandboxConfig {
        client_id: IAM_CLIENT.0.into(),
        client_secret: IAM_CLIENT.1.into(),
        users,
        token_ttl: Duration::from_secs(60),
        notify: push.then(|| IamNotify {
            url: format!("{url}/webhooks/iam"),
            secret: IAM_SECRET.into(),
        }),
        oidc: OidcConfig {
            clients: match admin_api || ui {
                true => vec![OidcClient {
                    redirect_uris: match ui {
                        true => vec![format!("{url}/ui/callback")],
                        false => Vec::new(),
                    },
                    ..OidcClient::new(ROUTER_CLIENT.0, ROUTER_CLIENT.1, ROUTER_CLIENT.0)
                }],
                false => Vec::new(),
            },
            ..OidcConfig::default()
        },
    };
    IamSandbox::start(TcpListener::bind("127.0.0.1:0").unwrap(), config)
        .await
        .unwrap()
}

/// The admin API against the stand-in's provider. Introspection answers are not cached, so a
/// revoked token is refused at once; unknown key ids refresh the keys at most once a minute.
fn admin_api(iam: &IamSandbox) -> OidcSettings {
    OidcSettings {
        oidc_issuer: iam.oidc_issuer(),
        oidc_audience: ROUTER_CLIENT.0.into(),
        oidc_client_id: ROUTER_CLIENT.0.into(),
        oidc_client_secret: Secret::new(ROUTER_CLIENT.1),
        oidc_jwks_refresh_min_secs: 60,
        oidc_introspection_cache_secs: 0,
        ..OidcSettings::default()
    }
}

fn iam_api(iam: &IamSandbox) -> IamApiArgs {
    IamApiArgs {
        iam_api_url: iam.base_url(),
        iam_api_client_id: IAM_CLIENT.0.into(),
        iam_api_client_secret: Secret::new(IAM_CLIENT.1),
        iam_api_username: IAM_SERVICE.0.into(),
        iam_api_password: Secret::new(IAM_SERVICE.1),
        iam_api_timeout_ms: 5_000,
    }
}

/// Valid Standard Webhooks headers for `body` at `timestamp`.
pub fn iam_headers(body: &[u8], timestamp: i64) -> Vec<(&'static str, String)> {
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    iam_headers_with_id(body, timestamp, id)
}

/// Valid Standard Webhooks headers for `body` at `timestamp`, signed for message `id`.
pub fn iam_headers_with_id(body: &[u8], timestamp: i64, id: String) -> Vec<(&'static str, String)> {
    let key = StandardKey::parse(IAM_SECRET).unwrap();
    let signature = key.sign(&id, timestamp, body);
    vec![
        ("webhook-id", id),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ]
}

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

/// Reads a JSON answer, asserting the status first.
pub async fn json_with_status(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    response.json().await.unwrap()
}
