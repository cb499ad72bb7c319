//! `demo`: the router end to end on real-shaped events, against the sandbox, on the embedded
//! bus engine (no service needed) or the RabbitMQ broker at `AMQP_URL`.
//!
//! Starts the ClickUp sandbox, registers a webhook in it, starts receivers and worker on
//! loopback with a fresh queue prefix and a temporary store, posts signed events to the real
//! HTTP endpoints, waits for the outcomes, prints a table, and cleans up. Exits non-zero when
//! an expected outcome is missing.

use std::{net::TcpListener, path::Path, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::{
    app::{Application, Settings},
    cli::DemoArgs,
    config::{
        BusSettings, ClickUpSettings, HttpSettings, IamApiArgs, IamSettings, RulesSettings, Secret,
        StoreSettings, WebhookSecrets,
    },
    sandbox::{
        iam::{IamNotify, IamSandbox, IamSandboxConfig, IamSandboxUser},
        Sandbox, SandboxConfig,
    },
};

mod lifecycle;
mod requests;
mod scenario;

use scenario::{Row, Scenario};

/// Runs the demo; `Err` (non-zero exit) when an expected outcome is missing.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let workdir =
        std::env::temp_dir().join(format!("clickup-iam-router-demo-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&workdir).context("creating the demo's temporary directory")?;
    let database = match &args.keep_store {
        Some(file) => kept_store(file)?,
        None => workdir.join("demo.db"),
    };
    let started = Utc::now();

    let outcome = run_in(&args, &database).await;

    let _ = std::fs::remove_dir_all(&workdir);
    let (rows, timeline) = outcome?;
    print_table(&rows);
    print!("{timeline}");
    if args.keep_store.is_some() {
        print_kept(&database, started, Utc::now());
    }

    let (last_line, verdict) = summary(&rows);
    println!("{last_line}");
    verdict
}

/// The demo's last line, and `Err` (a non-zero exit) when any expected outcome is missing.
fn summary(rows: &[Row]) -> (String, anyhow::Result<()>) {
    let failed = rows.iter().filter(|row| !row.passed).count();
    let actions = rows.len() - failed;

    let line = format!(
        "demo: {} events, {actions} actions, {failed} failed",
        rows.len()
    );
    let verdict = match failed {
        0 if !rows.is_empty() => Ok(()),
        0 => Err(anyhow::anyhow!("the demo produced no outcome to check")),
        _ => Err(anyhow::anyhow!("{failed} expected outcome(s) missing")),
    };
    (line, verdict)
}

/// The rows of the table, and the timeline of the person who left, as `audit timeline`
/// prints it.
async fn run_in(args: &DemoArgs, database: &Path) -> anyhow::Result<(Vec<Row>, String)> {
    let sandbox_config = SandboxConfig::default();
    let team_id = sandbox_config.team_id;
    let token = sandbox_config
        .tokens
        .first()
        .cloned()
        .context("the sandbox has no token")?;
    let sandbox = Sandbox::start(TcpListener::bind("127.0.0.1:0")?, sandbox_config).await?;
    sandbox.state().seed_examples()?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let router_url = format!("http://{}", listener.local_addr()?);
    let (webhook_id, webhook_secret) = scenario::register_webhook(
        &sandbox.base_url(),
        &token,
        team_id,
        &format!("{router_url}/webhooks/clickup"),
    )
    .await?;
    let iam_secret = scenario::new_iam_secret();
    let iam = start_iam(&router_url, &iam_secret).await?;

    let mut webhook_secrets = WebhookSecrets::default();
    webhook_secrets.insert(webhook_id.clone(), webhook_secret);
    let prefix = format!(
        "cir-demo-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let bus_settings = BusSettings {
        amqp_url: args.amqp_url.clone(),
        amqp_prefix: prefix,
        confirm_timeout_ms: 2500,
        prefetch: 32,
        delivery_limit: 20,
        retry_tiers: Default::default(),
        visibility_timeout: Duration::from_secs(60),
    };
    let settings = Settings {
        http: Some(HttpSettings {
            http_addr: router_url.clone(),
            max_body_bytes: 1_048_576,
            body_timeout_ms: 10_000,
            scim_tokens: Default::default(),
            oidc: Default::default(),
        }),
        iam: Some(IamSettings {
            iam_webhook_secrets: Secret::new(iam_secret.clone()),
            iam_timestamp_tolerance_secs: 300,
            iam_future_skew_secs: 30,
        }),
        bus: bus_settings,
        store: StoreSettings {
            database_url: format!("sqlite://{}", database.display())
                .parse()
                .map_err(|e: String| anyhow::anyhow!(e))?,
        },
        clickup: ClickUpSettings {
            clickup_api_url: sandbox.base_url(),
            clickup_token: Secret::new(token),
            clickup_team_id: team_id,
            clickup_webhook_secrets: webhook_secrets,
            clickup_max_attempts: 4,
            clickup_timeout_ms: 5_000,
            // The demo shows hand changes in ClickUp's audit log within seconds.
            clickup_audit_log_interval_secs: 2,
        },
        rules: RulesSettings {
            rules_dir: args.rules_dir.clone(),
            scheduler_tick_ms: 200,
            // The demo shows webhooks at work; nothing is missed within it.
            reconcile_interval: crate::reconcile::Interval::OFF,
            iam_api: IamApiArgs {
                iam_api_url: iam.base_url(),
                iam_api_client_id: IAM_CLIENT.0.into(),
                iam_api_client_secret: Secret::new(IAM_CLIENT.1),
                iam_api_username: IAM_SERVICE.0.into(),
                iam_api_password: Secret::new(IAM_SERVICE.1),
                iam_api_timeout_ms: 5_000,
            },
            ..RulesSettings::default()
        },
        run_worker: true,
        metrics_listen: None,
        ui: Default::default(),
    };

    let application = Application::build(settings, Some(listener)).await?;
    let store = application.store();
    let bus = application.bus();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(application.run_until_stopped(shutdown.clone()));

    let scenario = Scenario {
        router_url,
        iam_secret,
        webhook_id,
        sandbox: &sandbox,
        store,
        timeout: Duration::from_secs(args.timeout_secs),
    };
    let rows = match scenario.play().await {
        Ok(mut rows) => requests::rows(&scenario, &iam).await.map(|more| {
            rows.extend(more);
            rows
        }),
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(mut rows) => lifecycle::leaver_timeline(&scenario)
            .await
            .map(|(row, text)| {
                rows.push(row);
                (rows, text)
            }),
        Err(e) => Err(e),
    };

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(15), running).await;
    if let Err(e) = bus.delete_topology().await {
        eprintln!("demo: could not delete its queues: {e:#}");
    }
    sandbox.stop().await;
    iam.stop().await;
    rows
}

/// The file the kept store goes to: a new one, so a demo never writes into a router's store.
fn kept_store(file: &Path) -> anyhow::Result<std::path::PathBuf> {
    anyhow::ensure!(
        !file.exists(),
        "--keep-store {}: the file exists; name a new one",
        file.display()
    );
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(file.to_path_buf())
}

/// How to read the kept store: the export of every interval the demo opened or closed.
fn print_kept(database: &Path, from: DateTime<Utc>, to: DateTime<Utc>) {
    let (from, to) = (
        from - chrono::Duration::minutes(1),
        to + chrono::Duration::minutes(1),
    );
    println!();
    println!(
        "The demo's store is kept in {}. Read it with:",
        database.display()
    );
    println!(
        "  DATABASE_URL=sqlite://{} {} audit export --format csv --from {} --to {}",
        database.display(),
        this_program(),
        from.format("%Y-%m-%dT%H:%M:%SZ"),
        to.format("%Y-%m-%dT%H:%M:%SZ"),
    );
}

/// How to run this program again from the current folder (`target/release/…` after
/// `cargo run --release`), or its name when that cannot be said.
fn this_program() -> String {
    let exe = std::env::current_exe().ok();
    let cwd = std::env::current_dir().ok();
    match (exe, cwd) {
        (Some(exe), Some(cwd)) => match exe.strip_prefix(&cwd) {
            Ok(relative) => relative.display().to_string(),
            Err(_) => exe.display().to_string(),
        },
        _ => env!("CARGO_PKG_NAME").to_owned(),
    }
}

/// The demo's IAM client and service account in the IAM stand-in (made-up credentials).
const IAM_CLIENT: (&str, &str) = ("rbpmrest", "demo-client-secret");
const IAM_SERVICE: (&str, &str) = ("svc-clickup", "demo-service-password");

/// The IAM stand-in, pushing decisions to the router's IAM receiver.
async fn start_iam(router_url: &str, iam_secret: &str) -> anyhow::Result<IamSandbox> {
    let mut users = requests::iam_users();
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
        notify: Some(IamNotify {
            url: format!("{router_url}/webhooks/iam"),
            secret: iam_secret.into(),
        }),
        oidc: Default::default(),
    };
    IamSandbox::start(TcpListener::bind("127.0.0.1:0")?, config).await
}

fn print_table(rows: &[Row]) {
    let width = |f: fn(&Row) -> &str, title: &str| {
        rows.iter()
            .map(|r| f(r).len())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (e, h, a) = (
        width(|r| &r.event, "event"),
        width(|r| &r.http, "http"),
        width(|r| &r.action, "action"),
    );

    println!("{:e$}  {:h$}  {:a$}  result", "event", "http", "action");
    println!("{}", "-".repeat(e + h + a + 14));
    for row in rows {
        println!(
            "{:e$}  {:h$}  {:a$}  {}",
            row.event, row.http, row.action, row.result
        );
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::{kept_store, summary, Row};

    fn row(passed: bool) -> Row {
        Row {
            event: "IAM leaver (member)".into(),
            http: "202".into(),
            action: "remove ClickUp user".into(),
            result: if passed { "removed_member" } else { "missing" }.into(),
            passed,
        }
    }

    #[test]
    fn a_missing_outcome_fails_the_demo_and_is_counted() {
        // (rows passed, rows failed, last line, exits zero)
        let cases = [
            (3, 0, "demo: 3 events, 3 actions, 0 failed", true),
            (2, 1, "demo: 3 events, 2 actions, 1 failed", false),
            (0, 2, "demo: 2 events, 0 actions, 2 failed", false),
            (0, 0, "demo: 0 events, 0 actions, 0 failed", false),
        ];

        for (passed, failed, expected, zero) in cases {
            let mut rows: Vec<Row> = (0..passed).map(|_| row(true)).collect();
            rows.extend((0..failed).map(|_| row(false)));

            let (line, verdict) = summary(&rows);

            assert_eq!(line, expected);
            assert_eq!(verdict.is_ok(), zero, "{expected}");
        }
    }

    #[test]
    fn a_kept_store_goes_to_a_new_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("router.db");
        std::fs::write(&existing, b"a router's store").unwrap();
        let nested = dir.path().join("new/demo.db");

        let cases = [(existing.clone(), false), (nested.clone(), true)];

        for (file, accepted) in cases {
            assert_eq!(kept_store(&file).is_ok(), accepted, "{}", file.display());
        }
        assert_eq!(std::fs::read(&existing).unwrap(), b"a router's store");
        assert!(nested.parent().unwrap().is_dir());
    }
}
