//! Part 3, leaver latency: from the 202 of an IAM leaver event to the sandbox answering the
//! ClickUp removal call, for `serve` and `worker` on RabbitMQ, once idle and once with a
//! backlog of assignment events (`taskCreated` in the compliance reviews List, each a task
//! read, an assignee change and a comment) queued before the worker starts. Leavers are sent
//! at a steady rate while the backlog drains; their own lane must not wait behind it.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use clickup_iam_router::sandbox::Role;

use crate::{
    deliveries::{self, ClickUpTemplate, COMPLIANCE_LIST},
    load::{self, send_all},
    router::Setup,
    Bench,
};

/// Leavers sent per second: one every 100 ms, so each is timed on its own, not behind the
/// previous ones.
const LEAVERS_PER_SECOND: u64 = 10;
/// How long the removals may take to appear before the run gives up on the rest.
const WAIT_FOR: Duration = Duration::from_secs(180);

/// What one leaver run measured.
pub struct LeaverRun {
    pub backlog: usize,
    /// Accepted leaver to removal answered, in ms, for every removal seen.
    pub latencies_ms: Vec<f64>,
    /// Leavers whose removal answer came before the client read the 202 (counted as 0 ms).
    pub before_202: usize,
    pub missing: usize,
    /// Messages queued when the worker started, and when the last removal was seen.
    pub queued_at_start: u64,
    pub queued_at_end: u64,
}

pub async fn run(bench: &Bench, setup: &Setup, backlog: usize, run_no: u32) -> LeaverRun {
    let serve = setup.start("serve").await;
    let state = bench.sandbox.state();
    if backlog > 0 {
        let worker = setup.start("worker").await;
        join_the_risk_function(bench, &serve.addr).await;
        drop(worker);
        queue_backlog(bench, &serve.addr, backlog).await;
    }
    let people: Vec<(String, String, u64)> = (0..bench.leavers)
        .map(|n| {
            let email = format!("bench.leaver.{run_no}.{n}@example.com");
            let user = state.add_member(&email, &format!("Leaver {n}"), Role::Member);
            (format!("be{run_no:04}{n:026}"), email, user)
        })
        .collect();
    let queued_at_start = bench.queued(&setup.prefix).await;
    let worker = setup.start("worker").await;

    let started = Instant::now();
    let mut sends = Vec::new();
    for (n, (iam_id, email, user)) in people.into_iter().enumerate() {
        let due = started + Duration::from_millis(n as u64 * 1000 / LEAVERS_PER_SECOND);
        tokio::time::sleep_until(due.into()).await;
        let addr = serve.addr.clone();
        sends.push(tokio::spawn(async move {
            let mut sender = load::connect(&addr).await;
            let status = load::send(&mut sender, &addr, deliveries::leaver(&iam_id, &email)).await;
            assert_eq!(status, Ok(202), "leaver {n} was not accepted");
            (user, Instant::now())
        }));
    }
    let mut accepted = HashMap::new();
    for send in sends {
        let (user, at) = send.await.unwrap();
        accepted.insert(user, at);
    }

    let removed = removals(bench, &accepted).await;
    let queued_at_end = bench.queued(&setup.prefix).await;
    drop(worker);
    drop(serve);
    let mut result = LeaverRun {
        backlog,
        latencies_ms: Vec::new(),
        before_202: 0,
        missing: accepted.len() - removed.len(),
        queued_at_start,
        queued_at_end,
    };
    for (user, answered) in removed {
        let took = answered.checked_duration_since(accepted[&user]);
        result.before_202 += usize::from(took.is_none());
        let took = took.unwrap_or_default();
        result.latencies_ms.push(took.as_secs_f64() * 1000.0);
    }
    println!("{}", row(&result));
    result
}

/// The answer time of each accepted leaver's removal (`DELETE /v2/team/{team}/user/{id}`
/// answered 200), waiting until all are there or [`WAIT_FOR`] passes.
async fn removals(bench: &Bench, accepted: &HashMap<u64, Instant>) -> HashMap<u64, Instant> {
    let prefix = format!("/api/v2/team/{}/user/", bench.team_id);
    let deadline = Instant::now() + WAIT_FOR;
    loop {
        let mut removed = HashMap::new();
        for call in bench.sandbox.state().calls() {
            let user = call
                .path
                .strip_prefix(&prefix)
                .and_then(|id| id.parse().ok());
            let removal = call.method == "DELETE" && call.status == 200;
            if let Some(user) = user.filter(|user| removal && accepted.contains_key(user)) {
                removed.entry(user).or_insert(call.answered);
            }
        }
        if removed.len() == accepted.len() || Instant::now() > deadline {
            return removed;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Three people in Risk join (the worker invites them), so the compliance reviews have
/// someone to go to.
async fn join_the_risk_function(bench: &Bench, addr: &str) {
    let people: Vec<(String, String)> = (1..=3)
        .map(|n| (format!("bf{n:030}"), format!("bench.risk{n}@example.com")))
        .collect();
    let calls = people
        .iter()
        .map(|(id, email)| deliveries::joiner(id, email, "Risk"))
        .collect();
    let statuses = send_all(addr, calls, 3).await;
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 200),
        "{statuses:?}"
    );
    let state = bench.sandbox.state();
    let deadline = Instant::now() + Duration::from_secs(60);
    while people
        .iter()
        .any(|(_, email)| state.find_by_email(email).is_none())
    {
        assert!(Instant::now() < deadline, "the risk function never joined");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates `count` tasks in the compliance reviews List and queues their `taskCreated`
/// deliveries through `serve` while no worker runs.
async fn queue_backlog(bench: &Bench, addr: &str, count: usize) {
    let template = ClickUpTemplate::created(bench.author);
    let mut calls = Vec::with_capacity(count);
    for n in 0..count {
        let (task, _) = bench
            .sandbox
            .as_user(bench.author)
            .create_task(COMPLIANCE_LIST, &format!("Compliance review {n}"), &[])
            .await
            .expect("a task in the sandbox");
        calls.push(template.call(&task));
    }
    let statuses = send_all(addr, calls, 16).await;
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(accepted, count, "backlog deliveries not all accepted");
}

pub const HEADER: &str = "| backlog queued ahead | leavers | p50 ms | p99 ms | max ms | removed before the 202 was read | missing | queued when the worker started | queued when the last removal was seen |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

pub fn row(run: &LeaverRun) -> String {
    let mut sorted = run.latencies_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| match sorted.len() {
        0 => f64::NAN,
        n => sorted[((n as f64 * q) as usize).min(n - 1)],
    };
    format!(
        "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} |",
        run.backlog,
        sorted.len(),
        at(0.50),
        at(0.99),
        at(1.0),
        run.before_202,
        run.missing,
        run.queued_at_start,
        run.queued_at_end,
    )
}
