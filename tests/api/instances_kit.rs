//! What `instances` runs: the real binary as `serve` and `worker` child processes over one
//! queue prefix and one store, configured by environment as an operator would (logs in the
//! run's folder), the signed deliveries it sends (retried on 503 with the same delivery, as
//! ClickUp and the IAM do) and the workers' `scheduler_lease_held` gauge.
//!
//! The store is a SQLite file in the run's folder; with `TEST_POSTGRES_URL` (an admin URL to a
//! throwaway cluster) and RabbitMQ, a fresh PostgreSQL database there instead (the embedded
//! engine lives in SQLite only).

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clickup_iam_router::ingest::signature::sign_clickup;
use serde_json::{json, Value};

use crate::helpers::{
    bus_env, embedded, fixture_json, iam_headers_with_id, IAM_SECRET, WEBHOOK_ID, WEBHOOK_SECRET,
};
use crate::process::{answers_within, kill_quietly};

/// The List the shipped assignment rules send to the risk function, round robin.
pub const COMPLIANCE_LIST: &str = "901100000950";
/// How long one delivery is retried on 503 before the sender gives up.
const RETRY_FOR: Duration = Duration::from_secs(60);

/// What every process of the run shares.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub prefix: String,
    pub database_url: String,
    pub clickup_api_url: String,
    pub clickup_token: String,
    pub team_id: u64,
}

/// One running router process: its name in the logs and the address it answers on.
pub struct Process {
    child: Child,
    pub name: String,
    pub addr: String,
}

impl Cluster {
    pub fn new(clickup_api_url: String, clickup_token: String, team_id: u64) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("instances-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let database_url = database_url(dir.path());
        Self {
            dir,
            prefix: format!("cir-multi-{}", uuid::Uuid::new_v4().simple()),
            database_url,
            clickup_api_url,
            clickup_token,
            team_id,
        }
    }

    /// Starts `serve` as `name` and waits until its `/readyz` answers 200.
    pub async fn serve(&self, name: &str) -> Process {
        let addr = free_addr();
        let child = self
            .command("serve", name)
            .env("HTTP_ADDR", &addr)
            .spawn()
            .expect("the router binary");
        let process = Process {
            child,
            name: name.to_owned(),
            addr,
        };
        process.wait_answering("/readyz").await;
        process
    }

    /// Starts a `worker` as `name` and waits until its metrics answer.
    pub async fn worker(&self, name: &str) -> Process {
        let addr = free_addr();
        let child = self
            .command("worker", name)
            .env("METRICS_LISTEN", &addr)
            .env("RULES_DIR", format!("{}/rules", env!("CARGO_MANIFEST_DIR")))
            .env("SCHEDULER_TICK_MS", "500")
            .env("SCHEDULER_LEASE", "6s")
            .env("RECONCILE_INTERVAL", "off")
            .env("CLICKUP_AUDIT_LOG_INTERVAL", "1")
            .spawn()
            .expect("the router binary");
        let process = Process {
            child,
            name: name.to_owned(),
            addr,
        };
        process.wait_answering("/metrics").await;
        process
    }

    fn command(&self, subcommand: &str, name: &str) -> Command {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
        command
            .arg(subcommand)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .env("RUST_LOG", "warn,clickup_iam_router::worker::lease=info")
            .env("HOSTNAME", name)
            .env("DATABASE_URL", &self.database_url)
            .env("CLICKUP_API_URL", &self.clickup_api_url)
            .env("CLICKUP_TOKEN", &self.clickup_token)
            .env("CLICKUP_TEAM_ID", self.team_id.to_string())
            .env(
                "CLICKUP_WEBHOOK_SECRETS",
                format!("{WEBHOOK_ID}={WEBHOOK_SECRET}"),
            )
            .env("IAM_WEBHOOK_SECRETS", IAM_SECRET)
            .env("RETRY_TIERS", "1s,1s,1s")
            .env("EMBEDDED_VISIBILITY_TIMEOUT", "3s")
            .env_remove("IAM_API_URL")
            .env_remove("OIDC_ISSUER")
            .env_remove("SCIM_TOKENS");
        bus_env(&mut command, &self.prefix);
        command
    }

    /// The last lines of a process's log, for a failure message.
    pub fn log_tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join(format!("{name}.log")))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Cluster {
    /// On a failure, shows the end of every process's log before the folder goes.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(self.dir.path()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(process) = name.strip_suffix(".log") {
                eprintln!("--- {name}\n{}", self.log_tail(process));
            }
        }
    }
}

impl Process {
    /// SIGKILL, then reaps it: no shutdown, no lease released.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn wait_answering(&self, path: &str) {
        let url = format!("http://{}{path}", self.addr);
        // Generous: five debug binaries start at once on a machine the suite keeps busy.
        if !answers_within(&url, Duration::from_secs(120)).await {
            panic!("{} did not answer {url}", self.name);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        kill_quietly(&mut self.child);
    }
}

/// The `scheduler_lease_held` gauge of the worker whose metrics answer at `addr`; `None`
/// when they do not (a killed worker).
pub async fn lease_held(http: &reqwest::Client, addr: &str) -> Option<bool> {
    let response = http
        .get(format!("http://{addr}/metrics"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    let text = response.text().await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("clickup_iam_router_scheduler_lease_held "))
        .map(|value| value.trim() == "1")
}

/// A loopback address nothing listens on now (the process binds it a moment later).
fn free_addr() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// The run's store: a SQLite file in `dir`, or with `TEST_POSTGRES_URL` on RabbitMQ a fresh
/// database in that cluster (made with `psql`).
fn database_url(dir: &std::path::Path) -> String {
    let admin = std::env::var("TEST_POSTGRES_URL").ok();
    let Some(admin) = admin.filter(|_| !embedded()) else {
        return format!("sqlite://{}", dir.join("router.db").display());
    };
    let name = format!("cir_multi_{}", uuid::Uuid::new_v4().simple());
    let created = Command::new("psql")
        .args([admin.as_str(), "-v", "ON_ERROR_STOP=1", "-qc"])
        .arg(format!("CREATE DATABASE {name}"))
        .status()
        .expect("psql, to create the test database");
    assert!(created.success(), "CREATE DATABASE {name} failed");
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// One signed delivery, as the sender sends it on every attempt.
#[derive(Clone)]
pub struct Delivery {
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Delivery {
    /// An IAM event with its own `webhook-id`, signed now.
    pub fn iam(event: &Value) -> Self {
        let body = serde_json::to_vec(event).unwrap();
        let message_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let mut headers = iam_headers_with_id(&body, chrono::Utc::now().timestamp(), message_id);
        headers.push(("content-type", "application/cloudevents+json".into()));
        Self {
            path: "/webhooks/iam",
            headers,
            body,
        }
    }

    /// A ClickUp webhook delivery signed with the router's webhook secret.
    pub fn clickup(event: &Value) -> Self {
        let body = serde_json::to_vec(event).unwrap();
        let headers = vec![
            ("content-type", "application/json".into()),
            ("x-signature", sign_clickup(WEBHOOK_SECRET, &body)),
        ];
        Self {
            path: "/webhooks/clickup",
            headers,
            body,
        }
    }

    /// Posts it to the receiver at `addr`, again after each 503 or refused connection, until
    /// a final answer: its status.
    pub async fn send(&self, http: &reqwest::Client, addr: &str) -> u16 {
        let started = Instant::now();
        loop {
            let mut request = http.post(format!("http://{addr}{}", self.path));
            for (name, value) in &self.headers {
                request = request.header(*name, value);
            }
            let answer = request
                .body(self.body.clone())
                .timeout(Duration::from_secs(15))
                .send()
                .await;
            let status = answer.map(|response| response.status().as_u16()).ok();
            match status {
                Some(status) if status < 500 => return status,
                _ if started.elapsed() > RETRY_FOR => panic!("{}: answered {status:?}", self.path),
                _ => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }
}

/// Person `n`'s IAM id and email.
pub fn iam_id(n: u32) -> String {
    format!("aa{n:030}")
}

pub fn email(n: u32) -> String {
    format!("multi.person{n}@example.com")
}

/// `event` (a fixture) made about person `n`: ids, emails and names.
fn about(mut event: Value, kind: &str, n: u32) -> Value {
    let (id, email) = (iam_id(n), email(n));
    event["id"] = json!(format!("multi-{kind}-{id}"));
    event["sourceeventid"] = event["id"].clone();
    event["subject"] = json!(format!("user:{id}"));
    event["partitionkey"] = event["subject"].clone();
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["email"] = json!(email);
    user["username"] = json!(format!("multi{n}"));
    user["display_name"] = json!(format!("Multi Person {n}"));
    if user["profile"].is_object() {
        let profile = &mut user["profile"];
        profile["email"] = json!(email);
        profile["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
        profile["display_name"] = json!(format!("Multi Person {n}"));
    }
    event
}

/// An employee of `department` joining.
pub fn joiner(n: u32, department: &str) -> Value {
    let mut event = about(fixture_json("iam/01-joiner-employee.json"), "joiner", n);
    event["data"]["user"]["profile"]["department"] = json!(department);
    event
}

/// A Data Platform contractor joining, whose contract ends at `end`.
pub fn contractor(n: u32, end: chrono::DateTime<chrono::Utc>) -> Value {
    let fixture = fixture_json("iam/02-joiner-contractor-end-date.json");
    let mut event = about(fixture, "contractor", n);
    let profile = &mut event["data"]["user"]["profile"];
    profile["end_at"] = json!(end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    profile["end_date"] = Value::Null;
    event
}

/// Person `n` moving to Customer Success (a partial snapshot, later than the joiner).
pub fn mover(n: u32) -> Value {
    about(
        fixture_json("iam/03-mover-dept-title-role.json"),
        "mover",
        n,
    )
}

/// Person `n` terminated.
pub fn leaver(n: u32) -> Value {
    about(fixture_json("iam/04-leaver-terminated.json"), "leaver", n)
}

/// The `taskCreated` delivery ClickUp sends for a new task made by `author`; history item
/// ids are unique per task.
pub fn task_created(task_id: &str, seq: u32, author: u64) -> Value {
    let mut event = fixture_json("clickup/event-taskCreated.json");
    event["task_id"] = json!(task_id);
    event["webhook_id"] = json!(WEBHOOK_ID);
    for (i, item) in event["history_items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        item["id"] = json!(format!("88{seq:012}{i}"));
        item["parent_id"] = json!(COMPLIANCE_LIST);
        item["user"]["id"] = json!(author);
        item["user"]["email"] = json!("multi.author@example.com");
        item["user"]["username"] = json!("Morgan Author");
    }
    event
}
