//! Issue #9's acceptance on the embedded engine: `run` alone (receivers and worker in one
//! process, the queues in its SQLite store, no broker anywhere) under the chaos stream,
//! killed with SIGKILL twice while it works and started again on the same store and address.
//! Senders retry refused connections and 503s with the same delivery, as ClickUp and the IAM
//! do. Every accepted event has its effect in the sandbox exactly once, counted from the
//! sandbox's own records.

use std::time::{Duration, Instant};

use clickup_iam_router::{
    config::StoreSettings,
    sandbox::{Role, SandboxConfig},
    store::Store,
};

use super::{drain, join_the_risk_function, start_sandbox, stream, Backlog, SERIAL};
use crate::{
    node::free_port,
    router::{self, Process, Setup},
};

/// How long the stream runs (the kills fall inside it).
const SEND_FOR: Duration = Duration::from_secs(40);
/// When `run` is killed (seconds into the stream, once it holds a delivery) and how long it
/// stays down.
const KILLS: [(u64, u64); 2] = [(10, 1), (25, 2)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_run_on_the_embedded_engine_mid_work_loses_and_doubles_nothing() {
    let _turn = SERIAL.lock().await;
    let dir = tempfile::Builder::new()
        .prefix("chaos-embedded-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let sandbox = start_sandbox().await;
    let state = sandbox.state();
    let author = state.add_member("chaos.author@example.com", "Casey Author", Role::Member);
    let setup = Setup {
        amqp_url: None,
        prefix: "cir".into(),
        database: dir.path().join("router.db"),
        clickup_api_url: sandbox.base_url(),
        clickup_token: SandboxConfig::default().tokens[0].clone(),
        team_id: SandboxConfig::default().team_id,
        dir: dir.path().to_owned(),
    };
    let addr = format!("127.0.0.1:{}", free_port());
    let mut run = Some(setup.run(&addr).await);
    // The queues as the engine keeps them, read beside the router (read-only).
    let store = Store::open_read_only(&StoreSettings {
        database_url: format!("sqlite://{}", setup.database.display())
            .parse()
            .unwrap(),
    })
    .await
    .unwrap();
    let backlog = Backlog::Store(&store);
    let base = format!("http://{addr}");
    join_the_risk_function(&base, &state).await;

    let until = Instant::now() + SEND_FOR;
    let stream = tokio::spawn(stream(sandbox.clone(), base, author, until));
    let in_hand = kill_while_working(&setup, &store, &addr, &mut run).await;
    let sent = stream.await.unwrap();

    let (tally, pending, dead) = drain(&backlog, &state, &sent).await;
    let alive = run.as_mut().is_some_and(Process::alive);
    let report = format!(
        "{}\nchaos (embedded engine): joiners={} leavers={} tasks={} run_kills={} \
         in_hand_at_kills={in_hand:?} retried_503={} undrained={pending} dead_lettered={dead} \
         run_alive={alive}",
        tally.line(),
        tally.by_kind[0],
        tally.by_kind[1],
        tally.by_kind[2],
        in_hand.len(),
        tally.retried_503,
    );
    println!("{report}");
    let file = format!("{}/chaos-embedded-report.txt", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&file, format!("{report}\n")).unwrap();

    let healthy = tally.lost == 0
        && tally.doubled == 0
        && tally.accepted > 0
        && tally.by_kind.iter().all(|&accepted| accepted > 0)
        && in_hand.len() == KILLS.len()
        && in_hand.iter().all(|&held| held > 0)
        && pending == 0
        && alive;
    if !healthy {
        let kept = dir.keep();
        panic!(
            "{report}\n{}\nlogs and store kept in {}\nrun log:\n{}",
            tally.evidence.join("\n"),
            kept.display(),
            router::log_tail(&kept, "run.log")
        );
    }
    drop(run);
}

/// Kills `run` at each of [`KILLS`] (once it holds a delivery) and starts it again on the
/// same address; returns the deliveries it held at each kill.
async fn kill_while_working(
    setup: &Setup,
    store: &Store,
    addr: &str,
    run: &mut Option<Process>,
) -> Vec<i64> {
    let started = Instant::now();
    let mut in_hand = Vec::new();

    for (when, down) in KILLS {
        tokio::time::sleep_until((started + Duration::from_secs(when)).into()).await;
        in_hand.push(deliveries_in_hand(store).await);
        run.take().expect("run is up").kill();
        tokio::time::sleep(Duration::from_secs(down)).await;
        *run = Some(setup.run(addr).await);
    }
    in_hand
}

/// Deliveries under a live lease (a handler is working on them), waiting up to five seconds
/// for one, so that the kill lands on work in progress rather than an idle process.
async fn deliveries_in_hand(store: &Store) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        let leased: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM bus_messages WHERE lease_until > $1")
                .bind(now)
                .fetch_one(store.pool())
                .await
                .unwrap();
        if leased > 0 || Instant::now() > deadline {
            return leased;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
