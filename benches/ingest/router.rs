//! The router as child processes of the release binary (`serve`, `worker`, `run`),
//! configured by environment as an operator would, on loopback only: the bench node or the
//! embedded engine, the in-process ClickUp sandbox, no OIDC, no IAM API, no reconcile passes,
//! no audit-log poller. Dropping a process kills it.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::{
    deliveries::{IAM_SECRET, WEBHOOK_ID, WEBHOOK_SECRET},
    node::free_port,
    process::{answers_within, kill_quietly},
};

/// What every router process of one setup shares.
#[derive(Clone)]
pub struct Setup {
    /// `None`: the embedded engine, its queues in `database`.
    pub amqp_url: Option<String>,
    pub prefix: String,
    pub database: PathBuf,
    pub clickup_api_url: String,
    pub clickup_token: String,
    pub team_id: u64,
    pub dir: PathBuf,
    /// The router binary: this build's, or another build's to compare with.
    pub binary: PathBuf,
}

/// One running router process and the address it answers on.
pub struct Process {
    child: Child,
    pub addr: String,
}

impl Setup {
    /// Starts `role` (`serve`, `run` or `worker`) and waits until it answers (`/readyz`, or a
    /// worker's `/metrics`).
    pub async fn start(&self, role: &str) -> Process {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut command = self.command(role);
        match role {
            "worker" => command.env("METRICS_LISTEN", &addr),
            _ => command.env("HTTP_ADDR", &addr),
        };
        let child = command.spawn().expect("the router binary");
        let process = Process { child, addr };
        let probe = if role == "worker" {
            "/metrics"
        } else {
            "/readyz"
        };
        process.wait_answering(probe).await;
        process
    }

    fn command(&self, role: &str) -> Command {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{role}.log")))
            .unwrap();
        let mut command = Command::new(&self.binary);
        command
            .arg(role)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .env("RUST_LOG", "warn")
            .env("AMQP_PREFIX", &self.prefix)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", self.database.display()),
            )
            .env("CLICKUP_API_URL", &self.clickup_api_url)
            .env("CLICKUP_TOKEN", &self.clickup_token)
            .env("CLICKUP_TEAM_ID", self.team_id.to_string())
            .env(
                "CLICKUP_WEBHOOK_SECRETS",
                format!("{WEBHOOK_ID}={WEBHOOK_SECRET}"),
            )
            .env("CLICKUP_AUDIT_LOG_INTERVAL", "0")
            .env("RECONCILE_INTERVAL", "0")
            .env("IAM_WEBHOOK_SECRETS", IAM_SECRET)
            .env("RULES_DIR", format!("{}/rules", env!("CARGO_MANIFEST_DIR")))
            .env_remove("IAM_API_URL")
            .env_remove("OIDC_ISSUER");
        match &self.amqp_url {
            Some(url) => command.env("AMQP_URL", url),
            None => command.env_remove("AMQP_URL"),
        };
        command
    }
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident set so far (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.status_mib("VmHWM:")
    }

    /// The process's resident set now (`VmRSS`), in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.status_mib("VmRSS:")
    }

    fn status_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the process's status");
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc status"));
        kib / 1024.0
    }

    async fn wait_answering(&self, path: &str) {
        let url = format!("http://{}{path}", self.addr);
        if !answers_within(&url, Duration::from_secs(60)).await {
            panic!("the router did not answer {url}");
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        kill_quietly(&mut self.child);
    }
}
