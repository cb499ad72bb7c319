//! The router as child processes of the real binary: `serve` (the receivers) and `worker`,
//! or `run` (both in one process), configured by environment as an operator would, logs in
//! the run's folder, on RabbitMQ or (no `AMQP_URL`) the embedded engine in the shared store.
//! A process can be killed with SIGKILL and started again; dropping a process kills it.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::{
    node::free_port,
    process::{answers_within, kill_quietly},
};

pub const WEBHOOK_ID: &str = "c4a05000-0000-4000-8000-00000000c4a0";
pub const WEBHOOK_SECRET: &str = "CHAOSSECRET0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEF";
pub const IAM_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// What every router process of the run shares.
#[derive(Clone)]
pub struct Setup {
    /// The broker; `None`: the embedded engine, its queues in `database`.
    pub amqp_url: Option<String>,
    pub prefix: String,
    pub database: PathBuf,
    pub clickup_api_url: String,
    pub clickup_token: String,
    pub team_id: u64,
    pub dir: PathBuf,
}

/// One running router process and the address it answers on.
pub struct Process {
    child: Child,
    pub addr: String,
}

impl Setup {
    /// Starts `serve` on a free loopback port and waits until `/readyz` answers 200.
    pub async fn serve(&self) -> Process {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = self
            .command("serve", "serve.log")
            .env("HTTP_ADDR", &addr)
            .env("MAX_BODY_BYTES", "65536")
            .spawn()
            .expect("the router binary");
        let process = Process { child, addr };
        process.wait_answering("/readyz").await;
        process
    }

    /// Starts a `worker` (log appended to `worker.log`) and waits until its metrics answer.
    pub async fn worker(&self) -> Process {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = self
            .command("worker", "worker.log")
            .env("METRICS_LISTEN", &addr)
            .env("RULES_DIR", format!("{}/rules", env!("CARGO_MANIFEST_DIR")))
            .env("SCHEDULER_TICK_MS", "1000")
            .spawn()
            .expect("the router binary");
        let process = Process { child, addr };
        process.wait_answering("/metrics").await;
        process
    }

    /// Starts `run` on `addr` (log appended to `run.log`) and waits until `/readyz` answers
    /// 200; the same address after a kill, so senders find it again.
    pub async fn run(&self, addr: &str) -> Process {
        let child = self
            .command("run", "run.log")
            .env("HTTP_ADDR", addr)
            .env("MAX_BODY_BYTES", "65536")
            .env("RULES_DIR", format!("{}/rules", env!("CARGO_MANIFEST_DIR")))
            .env("SCHEDULER_TICK_MS", "1000")
            .spawn()
            .expect("the router binary");
        let process = Process {
            child,
            addr: addr.to_owned(),
        };
        process.wait_answering("/readyz").await;
        process
    }

    fn command(&self, subcommand: &str, log: &str) -> Command {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(log))
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
        command
            .arg(subcommand)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .env("RUST_LOG", "warn")
            .env("AMQP_PREFIX", &self.prefix)
            .env("WORKER_PREFETCH", "16")
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
            .env("IAM_WEBHOOK_SECRETS", IAM_SECRET)
            .env_remove("IAM_API_URL")
            .env_remove("OIDC_ISSUER");
        match &self.amqp_url {
            Some(url) => command.env("AMQP_URL", url),
            // A killed process's deliveries come back after a short visibility timeout.
            None => command
                .env_remove("AMQP_URL")
                .env("EMBEDDED_VISIBILITY_TIMEOUT", "3s"),
        };
        command
    }
}

impl Process {
    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, then reaps it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
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

/// The last twenty lines of one of the run's logs.
pub fn log_tail(dir: &Path, log: &str) -> String {
    let text = std::fs::read_to_string(dir.join(log)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
