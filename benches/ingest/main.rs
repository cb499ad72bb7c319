//! Throughput and latency of the data path (issue #10): `cargo bench --bench ingest` starts a
//! private RabbitMQ node (the chaos suite's: loopback ports, data under the target folder),
//! the ClickUp sandbox in this process, and the release binary as `serve`, `worker` or `run`,
//! then prints Markdown tables (also written to `<target>/tmp/bench-ingest.md`):
//!
//! 1. `ingest`, `embedded`: accepted deliveries/s and latency at each concurrency, beside the
//!    raw lapin publisher with confirms and the no-op HTTP ceiling (`ingest`);
//! 2. and 4. `fixed`: p50/p99 at a fixed rate, and `run`'s peak RSS (`fixed`);
//! 3. `leavers`: leaver latency idle and behind a backlog of assignment events (`leavers`).
//!
//! `before` and `embedded-before` run part 1 with the binary `BENCH_BEFORE_BIN` names (an
//! earlier build), for before-and-after figures of a change in one run; `BENCH_ROUTER_BIN`
//! replaces this build's binary everywhere else.
//!
//! Settings (environment): `BENCH_PARTS` (default `ingest,embedded,fixed,leavers`),
//! `BENCH_LEVELS` (`1,4,16,64`), `BENCH_SECS` per level (`10`, after 2 s of warm-up),
//! `BENCH_RATE` (`1000`) and `BENCH_FIXED_SECS` (`60`), `BENCH_LEAVERS` (`200`),
//! `BENCH_BACKLOG` (`10000`). The sandbox's rate limit is raised to 10,000,000 requests a
//! minute: ClickUp's Enterprise 10,000 would throttle the backlog's calls, and the
//! leavers' removal with them, which measures the sandbox, not the router.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it only says how to run it.

#[allow(dead_code)] // The chaos suite's node; the bench never stops and restarts it mid-run.
#[path = "../../tests/chaos/node.rs"]
mod node;

mod deliveries;
mod fixed;
mod ingest;
mod leavers;
mod load;
#[path = "../../tests/common/process.rs"]
mod process;
mod raw;
mod router;

use std::{fmt::Write as _, time::Duration};

use clickup_iam_router::{
    bus::{rabbitmq::RabbitMq, topology::Names, Lane},
    config::BusSettings,
    sandbox::{Role, Sandbox, SandboxConfig},
};
use lapin::{options::QueueDeclareOptions, types::FieldTable, Connection, ConnectionProperties};
use tokio::task::block_in_place;

use node::Node;
use router::Setup;

/// The run's settings and the services every part shares.
pub struct Bench {
    pub node: Node,
    pub sandbox: Sandbox,
    dir: tempfile::TempDir,
    pub team_id: u64,
    token: String,
    pub author: u64,
    /// The raw publisher's own topology on the node.
    pub raw_prefix: String,
    pub levels: Vec<usize>,
    pub warmup: Duration,
    pub measure: Duration,
    pub rate: u64,
    pub fixed_for: Duration,
    pub leavers: usize,
    pub backlog: usize,
}

impl Bench {
    /// A router setup with a fresh prefix and store: RabbitMQ (the bench node) or embedded.
    pub fn setup(&self, name: &str, rabbitmq: bool) -> Setup {
        Setup {
            amqp_url: rabbitmq.then(|| self.node.amqp_url()),
            prefix: format!("bench-{name}-{}", uuid::Uuid::new_v4().simple()),
            database: self.dir.path().join(format!("{name}.db")),
            clickup_api_url: self.sandbox.base_url(),
            clickup_token: self.token.clone(),
            team_id: self.team_id,
            dir: self.dir.path().to_owned(),
            binary: setting(
                "BENCH_ROUTER_BIN",
                env!("CARGO_BIN_EXE_clickup-iam-router").to_owned(),
            )
            .into(),
        }
    }

    /// Messages ready in the lanes' queues under `prefix`, read from the broker at once
    /// (a passive declare; `rabbitmqctl list_queues` reports statistics seconds old).
    pub async fn queued(&self, prefix: &str) -> u64 {
        let names = Names::new(prefix);
        let connection =
            Connection::connect(&self.node.amqp_url(), ConnectionProperties::default())
                .await
                .expect("connect to the bench node");
        let channel = connection.create_channel().await.unwrap();
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let mut ready = 0;
        for lane in Lane::ALL {
            let queue = channel
                .queue_declare(names.queue(lane).into(), passive, FieldTable::default())
                .await
                .expect("the lane's queue");
            ready += u64::from(queue.message_count());
        }
        let _ = connection.close(200, "counted".into()).await;
        ready
    }
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not valid")),
        Err(_) => default,
    }
}

/// The machine's load right now: the 1-minute load average and compilers running.
fn load_note() -> String {
    let average = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let average = average.split_whitespace().next().unwrap_or("?").to_owned();
    let compilers = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| std::fs::read_to_string(entry.path().join("comm")).ok())
                .filter(|comm| comm.trim() == "rustc")
                .count()
        })
        .unwrap_or(0);
    format!("load average {average}, rustc processes running: {compilers}")
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("ingest: run it with `cargo bench --bench ingest` (it takes minutes)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(run());
    let file = format!("{}/bench-ingest.md", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&file, &report).unwrap();
    println!("\n{report}\n(written to {file})");
}

async fn run() -> String {
    let parts: String = setting("BENCH_PARTS", "ingest,embedded,fixed,leavers".to_owned());
    let levels: String = setting("BENCH_LEVELS", "1,4,16,64".to_owned());
    let bench = start(
        levels
            .split(',')
            .map(|l| l.trim().parse().unwrap())
            .collect(),
    )
    .await;
    let mut report = String::new();

    for part in parts.split(',').map(str::trim) {
        let before = load_note();
        let text = match part {
            "ingest" | "embedded" | "before" | "embedded-before" => {
                let rabbitmq = matches!(part, "ingest" | "before");
                let mut setup = bench.setup(part, rabbitmq);
                if part.ends_with("before") {
                    let binary: String = setting("BENCH_BEFORE_BIN", String::new());
                    assert!(
                        !binary.is_empty(),
                        "BENCH_BEFORE_BIN names the binary to compare"
                    );
                    setup.binary = binary.into();
                }
                let engine = match part {
                    "ingest" => "rabbitmq",
                    "before" => "rabbitmq, before",
                    "embedded" => "embedded",
                    _ => "embedded, before",
                };
                let levels = ingest::run(&bench, &setup, engine).await;
                let rows: Vec<String> = levels.iter().map(ingest::row).collect();
                format!("{}\n{}", ingest::HEADER, rows.join("\n"))
            }
            "fixed" => {
                let fixed = fixed::run(&bench, &bench.setup("fixed", true)).await;
                format!("{}\n{}", fixed::HEADER, fixed::row(&fixed, &bench))
            }
            "leavers" => {
                let idle = leavers::run(&bench, &bench.setup("leavers-idle", true), 0, 1).await;
                let setup = bench.setup("leavers-backlog", true);
                let behind = leavers::run(&bench, &setup, bench.backlog, 2).await;
                format!(
                    "{}\n{}\n{}",
                    leavers::HEADER,
                    leavers::row(&idle),
                    leavers::row(&behind)
                )
            }
            other => panic!("BENCH_PARTS: unknown part {other:?}"),
        };
        let after = load_note();
        let _ = write!(
            report,
            "### {part}\n\nbefore: {before}; after: {after}\n\n{text}\n\n"
        );
    }
    report
}

/// The node, the sandbox with the workspace's author of tasks, and the raw publisher's
/// topology.
async fn start(levels: Vec<usize>) -> Bench {
    let dir = tempfile::Builder::new()
        .prefix("bench-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let node = block_in_place(|| Node::start(dir.path()));
    let config = SandboxConfig {
        rate_limit_per_minute: Some(10_000_000),
        ..SandboxConfig::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sandbox = Sandbox::start(listener, config.clone()).await.unwrap();
    sandbox.state().seed_examples().unwrap();
    let author =
        sandbox
            .state()
            .add_member("bench.author@example.com", "Bench Author", Role::Member);

    let raw_prefix = format!("bench-raw-{}", uuid::Uuid::new_v4().simple());
    let settings = BusSettings {
        amqp_url: Some(node.amqp_url().parse().unwrap()),
        amqp_prefix: raw_prefix.clone(),
        confirm_timeout_ms: 3000,
        prefetch: 32,
        delivery_limit: 20,
        retry_tiers: "10s,1m,10m,1h".parse().unwrap(),
        visibility_timeout: Duration::from_secs(60),
    };
    RabbitMq::new(node.amqp_url().parse().unwrap(), settings)
        .declare_topology()
        .await
        .expect("the raw publisher's topology");

    Bench {
        node,
        sandbox,
        dir,
        team_id: config.team_id,
        token: config.tokens[0].clone(),
        author,
        raw_prefix,
        levels,
        warmup: Duration::from_secs(2),
        measure: Duration::from_secs(setting("BENCH_SECS", 10)),
        rate: setting("BENCH_RATE", 1000),
        fixed_for: Duration::from_secs(setting("BENCH_FIXED_SECS", 60)),
        leavers: setting("BENCH_LEAVERS", 200),
        backlog: setting("BENCH_BACKLOG", 10_000),
    }
}
