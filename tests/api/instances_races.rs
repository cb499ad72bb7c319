//! One person's events handled by two workers at once: a joiner sent to one receiver and the
//! same person's mover to the other at the same moment, for several people, over two `serve`
//! and two `worker` processes. Each person is invited once and every event ends in an outcome
//! other than `failed`, with nothing dead-lettered.

use std::time::{Duration, Instant};

use clickup_iam_router::{
    config::StoreSettings,
    sandbox::{Sandbox, SandboxConfig},
    store::Store,
};

use crate::instances_kit::{email, joiner, mover, Cluster, Delivery};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiner_and_its_mover_on_two_workers_at_once_invite_the_person_once() {
    let config = SandboxConfig {
        rate_limit_per_minute: Some(1_000_000),
        ..SandboxConfig::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sandbox = Sandbox::start(listener, config.clone()).await.unwrap();
    sandbox.state().seed_examples().unwrap();
    let state = sandbox.state();
    let cluster = Cluster::new(sandbox.base_url(), config.tokens[0].clone(), config.team_id);
    let receivers = [
        cluster.serve("serve-1").await,
        cluster.serve("serve-2").await,
    ];
    let _workers = [
        cluster.worker("worker-1").await,
        cluster.worker("worker-2").await,
    ];
    let http = reqwest::Client::new();
    let people: Vec<u32> = (50..=57).collect();

    let sending = people.iter().map(|&n| {
        let (joined, moved) = (Delivery::iam(&joiner(n, "Sales")), Delivery::iam(&mover(n)));
        let http = http.clone();
        let (one, two) = (receivers[0].addr.clone(), receivers[1].addr.clone());
        async move {
            let answers = tokio::join!(joined.send(&http, &one), moved.send(&http, &two));
            assert_eq!(answers, (202, 202), "person {n}");
        }
    });
    futures_util::future::join_all(sending).await;

    let settings = StoreSettings {
        database_url: cluster.database_url.parse().unwrap(),
    };
    let store = Store::open(&settings).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let handled: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM processed WHERE message_key LIKE '%multi-joiner-%'
             OR message_key LIKE '%multi-mover-%'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        if handled == 2 * people.len() as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "{handled} events handled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let outcomes: Vec<(String, String, String)> =
        sqlx::query_as("SELECT message_key, outcome, detail FROM processed ORDER BY message_key")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let failed: Vec<_> = outcomes.iter().filter(|(_, o, _)| o == "failed").collect();
    assert!(failed.is_empty(), "{failed:?}");
    let invites = state
        .audit_log_targets()
        .into_iter()
        .filter(|(kind, _)| kind == "INVITE_TO_WORKSPACE")
        .count();
    assert_eq!(invites, people.len(), "one invite per person");
    for &n in &people {
        assert!(state.find_by_email(&email(n)).is_some(), "{}", email(n));
    }
    sandbox.stop().await;
}
