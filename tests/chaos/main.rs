//! The chaos suite (issue #7): the real binary as `serve` and `worker` child processes on a
//! private RabbitMQ node, a steady stream of signed IAM and ClickUp events, the worker killed
//! with SIGKILL and started again, the broker stopped and started again, and then a count of
//! what every accepted event did in the ClickUp sandbox: nothing lost, nothing doubled.
//!
//! `cargo test --test chaos -- --nocapture` runs it alone and shows its summary line, which is
//! also written to `<target>/tmp/chaos-report.txt`. Needs the Debian `rabbitmq-server` install
//! (not a running broker: it starts its own node on free loopback ports).
//!
//! `embedded` is the same stream and count on the embedded engine (#9): one `run` process,
//! its queues in its store, killed with SIGKILL mid-work and started again; no broker.
//! The two tests take turns ([`SERIAL`]): each needs the machine's two cores to itself.

mod embedded;
mod node;
#[path = "../common/process.rs"]
mod process;
mod router;
mod tally;
mod traffic;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clickup_iam_router::{
    sandbox::{Role, Sandbox, SandboxConfig, SandboxState},
    store::Store,
};
use tokio::{sync::Mutex as AsyncMutex, task::block_in_place};

use node::Node;
use router::{Process, Setup};
use tally::Tally;
use traffic::{Event, Sent};

/// Events per second, and for how long.
const RATE: u64 = 20;
const SEND_FOR: Duration = Duration::from_secs(70);
/// How long the queues may take to drain after the stream.
const DRAIN_FOR: Duration = Duration::from_secs(120);

/// Held by each test for its whole run, so the two never share the cores.
static SERIAL: AsyncMutex<()> = AsyncMutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_when_the_worker_dies_and_the_broker_restarts() {
    let _turn = SERIAL.lock().await;
    let dir = tempfile::Builder::new()
        .prefix("chaos-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let mut node = block_in_place(|| Node::start(dir.path()));
    let sandbox = start_sandbox().await;
    let state = sandbox.state();
    let author = state.add_member("chaos.author@example.com", "Casey Author", Role::Member);
    let setup = Setup {
        amqp_url: Some(node.amqp_url()),
        prefix: format!("cir-chaos-{}", uuid::Uuid::new_v4().simple()),
        database: dir.path().join("router.db"),
        clickup_api_url: sandbox.base_url(),
        clickup_token: SandboxConfig::default().tokens[0].clone(),
        team_id: SandboxConfig::default().team_id,
        dir: dir.path().to_owned(),
    };
    let mut serve = setup.serve().await;
    let mut worker = Some(setup.worker().await);
    let base = format!("http://{}", serve.addr);
    join_the_risk_function(&base, &state).await;

    let until = Instant::now() + SEND_FOR;
    let stream = tokio::spawn(stream(sandbox.clone(), base, author, until));
    let (kills, restarts, queued_at_kills) = chaos(&setup, &mut worker, &mut node).await;
    let sent = stream.await.unwrap();

    let backlog = Backlog::Broker {
        node: &node,
        prefix: &setup.prefix,
    };
    let (tally, pending, dead) = drain(&backlog, &state, &sent).await;
    let serve_alive = serve.alive();
    let report = format!(
        "{}\nchaos: joiners={} leavers={} tasks={} worker_kills={kills} \
         queued_at_kills={queued_at_kills:?} broker_restarts={restarts} retried_503={} refused_for={}s undrained={pending} \
         dead_lettered={dead} serve_alive={serve_alive}",
        tally.line(),
        tally.by_kind[0],
        tally.by_kind[1],
        tally.by_kind[2],
        tally.retried_503,
        tally.refused_for_secs
    );
    println!("{report}");
    let file = format!("{}/chaos-report.txt", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&file, format!("{report}\n")).unwrap();

    let healthy = tally.lost == 0
        && tally.doubled == 0
        && tally.accepted > 0
        && tally.by_kind.iter().all(|&accepted| accepted > 0)
        && kills >= 2
        && restarts >= 1
        && tally.retried_503 > 0
        && serve_alive;
    if !healthy {
        let kept = dir.keep();
        panic!(
            "{report}\n{}\nlogs and store kept in {}\nworker log:\n{}",
            tally.evidence.join("\n"),
            kept.display(),
            router::log_tail(&kept, "worker.log")
        );
    }
    drop(worker);
    drop(serve);
}

async fn start_sandbox() -> Arc<Sandbox> {
    let config = SandboxConfig {
        rate_limit_per_minute: Some(1_000_000),
        ..SandboxConfig::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sandbox = Sandbox::start(listener, config).await.unwrap();
    sandbox.state().seed_examples().unwrap();
    Arc::new(sandbox)
}

/// Three people in Risk join first, so the compliance reviews have someone to go to; they
/// never leave, so no leaver's tasks are handed on during the run.
async fn join_the_risk_function(base: &str, state: &SandboxState) {
    let http = reqwest::Client::new();
    for n in 1..=3 {
        let sent =
            traffic::send(&http, base, Event::Joiner { n }, traffic::joiner(n, "Risk")).await;
        assert!(sent.accepted(), "risk joiner {n}: {:?}", sent.status);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while (1..=3).any(|n| state.find_by_email(&traffic::email(n)).is_none()) {
        assert!(Instant::now() < deadline, "the risk function never joined");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills the worker three times (SIGKILL, then a new one) and restarts the broker once while
/// the stream runs; returns how many of each happened and the messages queued or in flight
/// at each kill.
async fn chaos(
    setup: &Setup,
    worker: &mut Option<Process>,
    node: &mut Node,
) -> (u32, u32, Vec<u64>) {
    let started = Instant::now();
    let at = |secs: u64| tokio::time::sleep_until((started + Duration::from_secs(secs)).into());
    let (mut kills, mut restarts, mut queued) = (0, 0, Vec::new());

    for (when, pause) in [(10, 2), (40, 0), (55, 1)] {
        if when == 40 {
            at(22).await;
            block_in_place(|| node.stop());
            tokio::time::sleep(Duration::from_secs(4)).await;
            block_in_place(|| node.boot());
            restarts += 1;
        }
        at(when).await;
        queued.push(work_in_flight(node, &setup.prefix).await);
        worker.take().expect("a worker runs").kill();
        kills += 1;
        tokio::time::sleep(Duration::from_secs(pause)).await;
        *worker = Some(setup.worker().await);
    }
    (kills, restarts, queued)
}

/// Messages queued or unacknowledged, waiting up to five seconds for some so that the kill
/// lands on work in progress rather than an idle worker.
async fn work_in_flight(node: &Node, prefix: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let queues = block_in_place(|| node.queues(prefix));
        let messages = queues.iter().map(|(_, messages)| messages).sum();
        if messages > 0 || Instant::now() > deadline {
            return messages;
        }
    }
}

/// Sends [`RATE`] events a second until `until`: of every ten, four joiners, two leavers
/// (joiners when nobody has joined long enough ago) and four new tasks.
async fn stream(sandbox: Arc<Sandbox>, base: String, author: u64, until: Instant) -> Vec<Sent> {
    let http = reqwest::Client::new();
    let joined: Arc<Mutex<VecDeque<(u32, Instant)>>> = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE));
    let (mut seq, mut person) = (0u32, 100u32);
    let mut sending = Vec::new();

    while Instant::now() < until {
        tick.tick().await;
        seq += 1;
        let slot = seq % 10;
        let leaver = match slot {
            4 | 5 => leaver_candidate(&joined, &sandbox.state()),
            _ => None,
        };
        let (event, body) = match (slot, leaver) {
            (6.., _) => {
                let name = format!("Compliance review {seq}");
                let (task_id, _) = sandbox
                    .as_user(author)
                    .create_task(traffic::COMPLIANCE_LIST, &name, &[])
                    .await
                    .unwrap();
                let body = traffic::task_created(&task_id, seq, author);
                (Event::Task { task_id }, body)
            }
            (_, Some((n, user_id))) => (Event::Leaver { n, user_id }, traffic::leaver(n)),
            _ => {
                person += 1;
                (
                    Event::Joiner { n: person },
                    traffic::joiner(person, "Sales"),
                )
            }
        };

        let (http, base, joined) = (http.clone(), base.clone(), joined.clone());
        sending.push(tokio::spawn(async move {
            let sent = traffic::send(&http, &base, event, body).await;
            if let (Event::Joiner { n }, true) = (&sent.event, sent.accepted()) {
                joined.lock().unwrap().push_back((*n, Instant::now()));
            }
            sent
        }));
    }

    let mut sent = Vec::with_capacity(sending.len());
    for one in sending {
        sent.push(one.await.unwrap());
    }
    sent
}

/// The longest-joined person whose account the sandbox shows, accepted at least three
/// seconds ago (an IAM does not terminate someone the moment they are hired).
fn leaver_candidate(
    joined: &Mutex<VecDeque<(u32, Instant)>>,
    state: &SandboxState,
) -> Option<(u32, u64)> {
    let mut joined = joined.lock().unwrap();
    let (n, at) = *joined.front()?;
    if at.elapsed() < Duration::from_secs(3) {
        return None;
    }
    let user = state.find_by_email(&traffic::email(n))?;
    joined.pop_front();
    Some((n, user.id))
}

/// Where the router's messages wait: a RabbitMQ node's queues under the run's prefix, or the
/// embedded engine's table in the run's store.
enum Backlog<'a> {
    Broker { node: &'a Node, prefix: &'a str },
    Store(&'a Store),
}

impl Backlog<'_> {
    /// Messages waiting or in hand (dead letters apart), and dead letters not yet recorded.
    async fn read(&self) -> (u64, u64) {
        match self {
            Backlog::Broker { node, prefix } => {
                let queues = block_in_place(|| node.queues(prefix));
                let dead: u64 = queues
                    .iter()
                    .filter(|(name, _)| name.ends_with(".dead-letters"))
                    .map(|(_, messages)| messages)
                    .sum();
                let all: u64 = queues.iter().map(|(_, messages)| messages).sum();
                (all - dead, dead)
            }
            Backlog::Store(store) => {
                let (pending, dead): (i64, i64) = sqlx::query_as(
                    "SELECT COALESCE(SUM(queue NOT LIKE '%.dead-letters'), 0),
                            COALESCE(SUM(queue LIKE '%.dead-letters'), 0)
                     FROM bus_messages",
                )
                .fetch_one(store.pool())
                .await
                .unwrap();
                (pending as u64, dead as u64)
            }
        }
    }
}

/// Waits until the router's queues are empty and every accepted event shows its effect, or
/// nothing changes for ten seconds, or [`DRAIN_FOR`] passes. Returns the count, the messages
/// still queued and the dead-lettered ones.
async fn drain(backlog: &Backlog<'_>, state: &SandboxState, sent: &[Sent]) -> (Tally, u64, u64) {
    let started = Instant::now();
    let mut last: Option<(Tally, Instant)> = None;

    loop {
        let (pending, dead) = backlog.read().await;
        let tally = tally::count(state, sent);

        let steady = match &last {
            Some((before, since)) => *before == tally && since.elapsed() > Duration::from_secs(10),
            None => false,
        };
        let done = pending == 0 && (tally.lost == 0 || steady);
        if done || started.elapsed() > DRAIN_FOR {
            return (tally, pending, dead);
        }
        if last.as_ref().is_none_or(|(before, _)| *before != tally) {
            last = Some((tally, Instant::now()));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
