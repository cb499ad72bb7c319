//! Several instances (#9): two `serve` and two `worker` processes of the real binary over one
//! queue prefix and one store. Joiners, contractors whose contracts end, leavers and ClickUp
//! task events are spread over both receivers, some sent to both at once. Every effect must be
//! in the sandbox's own records exactly once and in the audit trail once; the periodic duties
//! must run on one worker at a time (the workers' `scheduler_lease_held` gauges, sampled all
//! along, and the lease's audit rows); and when the holder is killed, the other worker takes
//! the lease over once it ended and carries out the contract ends.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use chrono::Utc;
use clickup_iam_router::{
    config::StoreSettings,
    sandbox::{Role, Sandbox, SandboxConfig, SandboxState},
    store::Store,
};
use serde_json::Value;

use crate::{
    instances_kit::{
        contractor, email, iam_id, joiner, leaver, task_created, Cluster, Delivery, COMPLIANCE_LIST,
    },
    instances_watch::Watch,
};

/// The reminder List of the shipped rules.
const REMINDER_LIST: &str = "901100000900";
/// Contracts end this long after they are sent: after the holder is killed.
const CONTRACT: chrono::Duration = chrono::Duration::seconds(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_and_two_workers_do_everything_once_and_hand_the_scheduler_over() {
    let sandbox = start_sandbox().await;
    let state = sandbox.state();
    let author = state.add_member("multi.author@example.com", "Morgan Author", Role::Member);
    let config = SandboxConfig::default();
    let cluster = Cluster::new(sandbox.base_url(), config.tokens[0].clone(), config.team_id);
    let receivers = [
        cluster.serve("serve-1").await,
        cluster.serve("serve-2").await,
    ];
    let mut workers = vec![
        cluster.worker("worker-1").await,
        cluster.worker("worker-2").await,
    ];
    let watch = Watch::start(&workers);
    let http = reqwest::Client::new();
    let addr = |i: usize| receivers[i % 2].addr.as_str();

    // The risk function first: the compliance reviews go to them in turn.
    for n in 1..=3 {
        assert_eq!(
            send(&http, &joiner(n, "Risk"), addr(n as usize), None).await,
            202
        );
    }
    eventually("the risk function joined", || {
        (1..=3).all(|n| state.find_by_email(&email(n)).is_some())
    })
    .await;

    // Joiners, contractors and new tasks over both receivers; every third to both at once.
    let contract_end = Utc::now() + CONTRACT;
    let mut tasks = Vec::new();
    let mut deliveries = Vec::new();
    for n in 10..=17 {
        deliveries.push(Delivery::iam(&joiner(n, "Sales")));
    }
    for n in 30..=33 {
        deliveries.push(Delivery::iam(&contractor(n, contract_end)));
    }
    for seq in 0..6 {
        let name = format!("Compliance review {seq}");
        let (task_id, _) = sandbox
            .as_user(author)
            .create_task(COMPLIANCE_LIST, &name, &[])
            .await
            .unwrap();
        deliveries.push(Delivery::clickup(&task_created(&task_id, seq, author)));
        tasks.push(task_id);
    }
    let sending = deliveries.iter().enumerate().map(|(i, delivery)| {
        let both = (i % 3 == 0).then(|| addr(i + 1));
        send_delivery(&http, delivery, addr(i), both)
    });
    for (i, answers) in futures_util::future::join_all(sending)
        .await
        .iter()
        .enumerate()
    {
        assert_eq!(answers[0], 202, "delivery {i}: {answers:?}");
        assert!(
            answers[1..].iter().all(|&status| status == 200),
            "delivery {i}: {answers:?}"
        );
    }

    let people: Vec<u32> = (1..=3).chain(10..=17).chain(30..=33).collect();
    eventually("everyone joined", || {
        people
            .iter()
            .all(|&n| state.find_by_email(&email(n)).is_some())
    })
    .await;
    let user_of: HashMap<u32, u64> = people
        .iter()
        .map(|&n| (n, state.find_by_email(&email(n)).unwrap().id))
        .collect();
    eventually("every task assigned with its comment", || {
        tasks.iter().all(|task| state.comments(task).len() == 1)
    })
    .await;
    eventually("a reminder per contract end", || {
        reminder_tasks(&state) >= 4
    })
    .await;

    for n in 10..=13 {
        assert_eq!(send(&http, &leaver(n), addr(n as usize), None).await, 202);
    }
    eventually("the leavers removed", || {
        (10..=13).all(|n| state.find_by_email(&email(n)).is_none())
    })
    .await;

    // The holder is killed before the contracts end; the other worker takes over once its
    // lease ended, and a new worker started after that waits.
    let store = open_store(&cluster).await;
    let first = lease_rows(&store).await;
    assert_eq!(first.len(), 1, "one worker took the lease: {first:?}");
    let killed = holder_name(&first[0].holder);
    let index = workers.iter().position(|w| w.name == killed).unwrap();
    let survivor = workers[1 - index].name.clone();
    assert!(
        Utc::now() + chrono::Duration::seconds(12) < contract_end,
        "too slow: the contracts end before the holder could be killed and replaced"
    );
    workers.remove(index).kill();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lease_rows(&store).await.len() < 2 {
        assert!(Instant::now() < deadline, "nobody took the lease over");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    workers.push(cluster.worker("worker-3").await);
    watch.follow(&workers);
    eventually("the contracts ended", || {
        (30..=33).all(|n| state.find_by_email(&email(n)).is_none())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    watch.stop();

    // Every effect once, in the sandbox's own records.
    let (invites, removals) = membership_changes(&state);
    for &n in &people {
        let user = user_of[&n];
        let removed = (10..=13).contains(&n) || (30..=33).contains(&n);
        assert_eq!(invites.get(&user), Some(&1), "{}: invites", email(n));
        assert_eq!(
            removals.get(&user).copied().unwrap_or(0),
            usize::from(removed),
            "{}: removals",
            email(n)
        );
    }
    for task in &tasks {
        let updates = answered(&state, "PUT", &format!("/api/v2/task/{task}"));
        let assignees = state.task(task).unwrap().assignees.len();
        assert_eq!(
            (updates, state.comments(task).len(), assignees),
            (1, 1, 1),
            "task {task}"
        );
    }
    assert_eq!(
        reminder_tasks(&state),
        4,
        "one reminder task per contract end"
    );

    // And once in the audit trail.
    let repeated = repeated_audit(&store).await;
    assert!(
        repeated.is_empty(),
        "audit rows written twice: {repeated:?}"
    );
    let audit_log_rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE action = 'clickup.audit_log'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(audit_log_rows > 0, "the audit-log poller ran");

    // The lease: one holder at a time, taken over only after it ended, never by worker-3.
    let leases = lease_rows(&store).await;
    let holders: Vec<String> = leases.iter().map(|l| holder_name(&l.holder)).collect();
    assert_eq!(holders, [killed.clone(), survivor.clone()], "{leases:?}");
    let takeover = &leases[1];
    assert_eq!(takeover.previous.as_deref(), Some(first[0].holder.as_str()));
    assert!(
        takeover.at >= takeover.previous_end.unwrap(),
        "taken over before the lease ended: {takeover:?}"
    );
    assert_eq!(watch.overlaps(), 0, "two holders at once");
    assert_eq!(watch.holders(), [killed, survivor.clone()]);
    let ended_at: Vec<i64> = sqlx::query_scalar(
        "SELECT ended_at FROM grants WHERE iam_id IN ($1, $2, $3, $4) AND ended_at IS NOT NULL",
    )
    .bind(iam_id(30))
    .bind(iam_id(31))
    .bind(iam_id(32))
    .bind(iam_id(33))
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(!ended_at.is_empty());
    assert!(
        ended_at.iter().all(|&at| at >= takeover.at),
        "the contract ends were applied by {survivor}, after it took the lease over"
    );

    drop(workers);
    drop(receivers);
    sandbox.stop().await;
}

async fn start_sandbox() -> Sandbox {
    let config = SandboxConfig {
        rate_limit_per_minute: Some(1_000_000),
        ..SandboxConfig::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sandbox = Sandbox::start(listener, config).await.unwrap();
    sandbox.state().seed_examples().unwrap();
    sandbox
}

/// Sends an IAM event to `addr` (and at once to `both` too): the first final status, then
/// the other's.
async fn send(http: &reqwest::Client, event: &Value, addr: &str, both: Option<&str>) -> u16 {
    send_delivery(http, &Delivery::iam(event), addr, both).await[0]
}

/// Sends one delivery to `addr`, and the same one to `both` at the same moment when given:
/// the final statuses, 202 first.
async fn send_delivery(
    http: &reqwest::Client,
    delivery: &Delivery,
    addr: &str,
    both: Option<&str>,
) -> Vec<u16> {
    let mut answers = match both {
        None => vec![delivery.send(http, addr).await],
        Some(other) => {
            let (one, two) = tokio::join!(delivery.send(http, addr), delivery.send(http, other));
            vec![one, two]
        }
    };
    answers.sort_by_key(|&status| status != 202);
    answers
}

/// Waits up to a minute for `done`.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reminder tasks the sandbox created.
fn reminder_tasks(state: &SandboxState) -> usize {
    answered(state, "POST", &format!("/api/v2/list/{REMINDER_LIST}/task"))
}

/// Calls with `method` on exactly `path` that the sandbox answered 2xx.
fn answered(state: &SandboxState, method: &str, path: &str) -> usize {
    state
        .calls()
        .iter()
        .filter(|call| call.method == method && call.path == path)
        .filter(|call| (200..300).contains(&call.status))
        .count()
}

/// Invites and removals per ClickUp user, from the sandbox's audit log.
fn membership_changes(state: &SandboxState) -> (HashMap<u64, usize>, HashMap<u64, usize>) {
    let (mut invites, mut removals) = (HashMap::new(), HashMap::new());
    for (kind, target) in state.audit_log_targets() {
        match (kind.as_str(), target) {
            ("INVITE_TO_WORKSPACE", Some(id)) => *invites.entry(id).or_default() += 1,
            ("REMOVE_FROM_WORKSPACE", Some(id)) => *removals.entry(id).or_default() += 1,
            _ => {}
        }
    }
    (invites, removals)
}

async fn open_store(cluster: &Cluster) -> Store {
    let settings = StoreSettings {
        database_url: cluster.database_url.parse().unwrap(),
    };
    Store::open(&settings).await.unwrap()
}

/// One `scheduler.lease_taken` row.
#[derive(Debug)]
struct Taken {
    at: i64,
    holder: String,
    previous: Option<String>,
    previous_end: Option<i64>,
}

async fn lease_rows(store: &Store) -> Vec<Taken> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT at, detail FROM audit WHERE action = 'scheduler.lease_taken' ORDER BY seq",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(at, detail)| {
            let detail: Value = serde_json::from_str(&detail).unwrap();
            let previous = &detail["previous"];
            Taken {
                at,
                holder: detail["holder"].as_str().unwrap().to_owned(),
                previous: previous["holder"].as_str().map(str::to_owned),
                previous_end: previous["expired_at"].as_i64(),
            }
        })
        .collect()
}

/// The process name in a holder id (`<HOSTNAME>:<pid>:<random>`).
fn holder_name(holder: &str) -> String {
    holder.split(':').next().unwrap().to_owned()
}

/// Audit rows that record one thing twice: an event received twice, a reminder sent twice,
/// one of ClickUp's audit-log records copied twice.
async fn repeated_audit(store: &Store) -> Vec<String> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, event_id, detail FROM audit
         WHERE action IN ('event.received', 'reminder.sent', 'clickup.audit_log')",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (action, event_id, detail) in rows {
        let key = match action.as_str() {
            "clickup.audit_log" => {
                let detail: Value = serde_json::from_str(&detail).unwrap();
                format!("{action} {}", detail["record_id"])
            }
            _ => format!("{action} {event_id}"),
        };
        *seen.entry(key).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, times)| *times > 1)
        .map(|(key, times)| format!("{key} x{times}"))
        .collect()
}
