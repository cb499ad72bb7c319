//! The command line: one binary, one subcommand per role.

use clap::{Args, Parser, Subcommand};

use crate::config::{
    BusSettings, ClickUpSettings, HttpSettings, IamSettings, RulesSettings, StoreSettings,
};

mod operator;
pub mod refusal;

pub use operator::{
    AuditCommand, BrakeCommand, DirectoryCommand, DlqCommand, ExportArgs, RulesCommand, SearchArgs,
    SsoCommand, TimelineArgs,
};

#[derive(Parser, Debug)]
#[command(
    name = "clickup-iam-router",
    version,
    about = "Keeps ClickUp access in step with OpenText IAM"
)]
pub struct Cli {
    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,

    /// Longest `serve`, `worker` and `run` take to stop after SIGTERM or Ctrl-C (finishing
    /// requests and deliveries in hand); after it they exit anyway.
    #[arg(long, env = "SHUTDOWN_GRACE", default_value = "20s", global = true,
          value_parser = crate::config::parse_duration)]
    pub shutdown_grace: std::time::Duration,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// HTTP receivers: verify, normalise and queue ClickUp and IAM events.
    Serve(ServeArgs),
    /// Rule workers: consume the queues and act on ClickUp.
    Worker(WorkerCommandArgs),
    /// Receivers and workers in one process.
    Run(RunArgs),
    /// The quick start: run against the sandbox, feed real-shaped events, print what happened.
    Demo(DemoArgs),
    /// The ClickUp stand-in on its own port.
    Sandbox(SandboxArgs),
    /// Validate the rules, or dry-run one event through them.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The mass-removal brake: see what is held, release it.
    #[command(subcommand)]
    Brake(BrakeCommand),
    /// The in-memory directory of IAM identities: bring the record in step from a file.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Dead letters on record: list them, show one (read-only).
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Who had which access when, and the audit trail; reads the store only.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Single sign-on alignment between the ClickUp workspace and the IAM.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// One reconciliation pass: bring back failing or suspended webhooks, publish the task
    /// changes they missed; prints counts per part.
    Reconcile(crate::reconcile::ReconcileArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub http: HttpSettings,
    #[command(flatten)]
    pub bus: BusSettings,
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub clickup: ClickUpSettings,
    #[command(flatten)]
    pub iam: IamSettings,
    #[command(flatten)]
    pub ui: crate::config::UiSettings,
}

#[derive(Args, Debug, Clone)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub bus: BusSettings,
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub clickup: ClickUpSettings,
    #[command(flatten)]
    pub rules: RulesSettings,
}

/// `worker`: the worker's settings and, as it has no receivers, its own metrics listener.
#[derive(Args, Debug, Clone)]
pub struct WorkerCommandArgs {
    #[command(flatten)]
    pub worker: WorkerArgs,
    /// Serve `GET /metrics` on this address (e.g. `127.0.0.1:9464`); not served when unset.
    #[arg(long, env = "METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub rules: RulesSettings,
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// RabbitMQ the demo runs against (its queues get a fresh prefix and are deleted after);
    /// unset: the embedded engine, in the demo's own store, so no service is needed.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<crate::config::RedactedUrl>,

    /// Folder of rule files the demo runs with.
    #[arg(long, env = "RULES_DIR", default_value = "rules")]
    pub rules_dir: std::path::PathBuf,

    /// Seconds to wait for the expected outcomes.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,

    /// Keep the demo's store in this new SQLite file (refused if it exists), for
    /// `audit timeline` and `audit export` afterwards; without it the store is deleted.
    #[arg(long, value_name = "FILE")]
    pub keep_store: Option<std::path::PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Address of the ClickUp stand-in.
    #[arg(long, env = "SANDBOX_ADDR", default_value = "127.0.0.1:9090")]
    pub addr: String,

    /// Plan of the sandbox workspace: free, unlimited, business, business-plus, enterprise.
    #[arg(long, env = "SANDBOX_PLAN", default_value = "enterprise")]
    pub plan: String,

    /// Seed the spaces, folders, lists and user groups the shipped rules name.
    #[arg(long)]
    pub seed_examples: bool,

    /// API token the sandbox accepts.
    #[arg(
        long,
        env = "SANDBOX_TOKEN",
        default_value = "pk_sandbox_token",
        hide_env_values = true
    )]
    pub token: crate::config::Secret,

    /// Also serve the IAM stand-in (Identity Applications REST and an Access Manager OIDC
    /// provider with example people and clients) on this loopback address.
    #[arg(long, env = "SANDBOX_IAM_ADDR", value_name = "ADDR")]
    pub iam_addr: Option<String>,

    /// The router's URL as browsers reach it: the provider accepts `<URL>/ui/callback` as the
    /// router client's redirect URI.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub router_url: String,
}

impl Cli {
    /// The demo prints a table on stdout, so its logs stay at warnings unless `RUST_LOG` asks.
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Demo(_) => "error",
            _ => crate::telemetry::DEFAULT_FILTER,
        }
    }

    /// Runs the chosen subcommand to completion.
    pub async fn execute(self) -> anyhow::Result<()> {
        if self.command.only_reports() {
            stop_quietly_when_the_reader_goes();
        }
        let shutdown = crate::shutdown::on_signals();
        let grace = self.shutdown_grace;
        match self.command {
            Command::Serve(args) => run_app(args.into_settings(None), shutdown, grace).await,
            Command::Worker(args) => {
                let mut settings = args.worker.into_settings();
                settings.metrics_listen = args.metrics_listen;
                run_app(settings, shutdown, grace).await
            }
            Command::Run(args) => {
                run_app(args.serve.into_settings(Some(args.rules)), shutdown, grace).await
            }
            Command::Demo(args) => crate::demo::run(args).await,
            Command::Sandbox(args) => crate::sandbox::run_until_stopped(args, shutdown).await,
            Command::Rules(RulesCommand::Check { dir }) => crate::operator::check_rules(&dir),
            Command::Rules(RulesCommand::Explain {
                event,
                task,
                rules_dir,
                database_url,
            }) => {
                crate::operator::explain_event(&event, task.as_deref(), &rules_dir, database_url)
                    .await
            }
            Command::Brake(BrakeCommand::Status { store }) => {
                crate::operator::brake_status(&store).await
            }
            Command::Brake(BrakeCommand::Release { worker, by }) => {
                crate::operator::release_brake((*worker).into_settings(), &by).await
            }
            Command::Directory(DirectoryCommand::Resync { file, store }) => {
                crate::directory::resync::run(&file, &store).await
            }
            Command::Dlq(command) => dlq(command).await,
            Command::Audit(command) => crate::operator::audit_command(command).await,
            Command::Sso(SsoCommand::Report {
                format,
                store,
                clickup,
            }) => crate::operator::sso_report(&store, &clickup, format).await,
            Command::Reconcile(args) => crate::reconcile::execute(args).await,
        }
    }
}

impl ServeArgs {
    /// Settings for `serve` (no rules: no worker) or `run` (with the worker's rules).
    fn into_settings(self, rules: Option<RulesSettings>) -> crate::app::Settings {
        crate::app::Settings {
            http: Some(self.http),
            iam: Some(self.iam),
            bus: self.bus,
            store: self.store,
            clickup: self.clickup,
            run_worker: rules.is_some(),
            rules: rules.unwrap_or_default(),
            metrics_listen: None,
            ui: self.ui,
        }
    }
}

impl WorkerArgs {
    pub fn into_settings(self) -> crate::app::Settings {
        crate::app::Settings {
            http: None,
            iam: None,
            bus: self.bus,
            store: self.store,
            clickup: self.clickup,
            rules: self.rules,
            run_worker: true,
            metrics_listen: None,
            ui: Default::default(),
        }
    }
}

async fn run_app(
    settings: crate::app::Settings,
    shutdown: tokio_util::sync::CancellationToken,
    grace: std::time::Duration,
) -> anyhow::Result<()> {
    let application = crate::app::Application::build(settings, None).await?;
    let running = application.run_until_stopped(shutdown.clone());
    crate::shutdown::within_grace(running, &shutdown, grace).await
}

async fn dlq(command: DlqCommand) -> anyhow::Result<()> {
    use crate::operator::dlq;
    match command {
        DlqCommand::List {
            limit,
            after,
            state,
            store,
        } => dlq::list(&store, limit, after, state.state()).await,
        DlqCommand::Show {
            id,
            envelope,
            store,
        } => dlq::show(&store, id, envelope).await,
        DlqCommand::Replay {
            id,
            all: _,
            by,
            bus,
            store,
        } => dlq::replay(&store, bus, id, &by).await,
        DlqCommand::Drop { id, by, store } => dlq::drop(&store, id, &by).await,
    }
}

impl Command {
    /// Commands that read and print, and change nothing: cut short by a reader that goes away
    /// (`| head`), they have nothing left undone.
    fn only_reports(&self) -> bool {
        matches!(
            self,
            Command::Rules(_)
                | Command::Brake(BrakeCommand::Status { .. })
                | Command::Dlq(DlqCommand::List { .. })
                | Command::Audit(_)
                | Command::Sso(_)
        )
    }
}

/// Restores SIGPIPE's default action, which Rust's runtime sets to ignored: a report whose
/// reader closed the pipe then ends as `grep` or `cat` would, instead of panicking in
/// `println!` with a backtrace. Sockets are unaffected (Rust writes to them with
/// `MSG_NOSIGNAL`), and the servers never call this.
fn stop_quietly_when_the_reader_goes() {
    // SAFETY: called before any thread of ours writes to a pipe; it only resets a signal's
    // disposition to the default, which async-signal safety does not concern.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests;
