//! Missed task changes and the versions the task lane saw: a pass publishes a task only when
//! ClickUp shows a change the router never processed. A run after everything was delivered
//! publishes nothing; a change whose delivery ClickUp gave up on is published even though a
//! later change on the same List was delivered (the List's cursor does not move past it).

use std::time::Duration;

use super::{assigned, audit_rows, listed, reconcile, sandbox_get, stdout, world, COMPLIANCE};
use crate::helpers::TestApp;

/// ClickUp's `date_updated` of a task, in ms.
async fn date_updated(app: &TestApp, task: &str) -> i64 {
    let answer = sandbox_get(app, &format!("/v2/task/{task}")).await;
    answer["date_updated"].as_str().unwrap().parse().unwrap()
}

/// Waits until the task lane has seen the task's last change (the router's own echoes
/// included), as the `task_versions` row shows it.
async fn wait_seen(app: &TestApp, task: &str) {
    for _ in 0..200 {
        app.sandbox.settle().await;
        let updated = date_updated(app, task).await;
        let seen: Option<i64> =
            sqlx::query_scalar("SELECT seen_at FROM task_versions WHERE task_id = $1")
                .bind(task)
                .fetch_optional(app.store.pool())
                .await
                .unwrap();
        if seen >= Some(updated) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the task lane never saw the task's last change");
}

/// The ids of the reconciliation events received, in order.
async fn reconciled_events(app: &TestApp) -> Vec<String> {
    audit_rows(app, "event.received")
        .await
        .into_iter()
        .filter(|(_, detail)| detail["routing_key"] == "clickup.reconcile.taskChanged")
        .map(|(_, detail)| detail["event_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_run_with_nothing_missed_publishes_nothing() {
    let (app, _, analyst, author) = world().await;
    let (task, delivered) = app
        .sandbox
        .as_user(author)
        .create_task(COMPLIANCE, "Review", &[])
        .await
        .unwrap();
    assert!(!delivered.is_empty());
    assert_eq!(
        assigned(&app, std::slice::from_ref(&task)).await,
        vec![vec![analyst]]
    );
    wait_seen(&app, &task).await;

    let output = reconcile(&app, &["--only", "tasks"]).await;

    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "tasks: lists=4 seen=1 changed=0 published=0 already_published=0 failed_lists=0\n"
    );
    assert_eq!(reconciled_events(&app).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_change_clickup_gave_up_delivering_is_published_though_a_later_one_was_delivered() {
    let (app, webhook, analyst, author) = world().await;
    let clickup = app.sandbox.as_user(author);

    // X's creation (`taskCreated` and `taskStatusUpdated`) never reaches the router.
    app.sandbox.state().lose_next_deliveries(2);
    let (missed, lost) = clickup
        .create_task(COMPLIANCE, "Review X", &[])
        .await
        .unwrap();
    assert_eq!(lost, vec![0, 0]);
    let (later, delivered) = clickup
        .create_task(COMPLIANCE, "Review Y", &[])
        .await
        .unwrap();
    assert!(
        !delivered.is_empty() && delivered.iter().all(|s| (200..300).contains(s)),
        "{delivered:?}"
    );
    assert_eq!(
        assigned(&app, std::slice::from_ref(&later)).await,
        vec![vec![analyst]]
    );
    wait_seen(&app, &later).await;
    assert!(date_updated(&app, &missed).await < date_updated(&app, &later).await);
    assert!(app.store.open_assignment(&missed).await.unwrap().is_none());
    assert_eq!(
        listed(&app, &webhook).await["health"]["status"],
        "active",
        "a delivery after the lost one leaves nothing for the webhook part to see"
    );

    // The version the pass publishes: once the router acts on it, the task changes again.
    let version = date_updated(&app, &missed).await;
    let output = reconcile(&app, &["--only", "tasks"]).await;

    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "tasks: lists=4 seen=1 changed=1 published=1 already_published=0 failed_lists=0\n"
    );
    assert_eq!(
        reconciled_events(&app).await,
        vec![format!("{missed}:{version}")]
    );
    assert_eq!(
        assigned(&app, &[missed.clone(), later.clone()]).await,
        vec![vec![analyst]; 2]
    );
    let assignments: Vec<_> = audit_rows(&app, "task.assigned").await;
    assert_eq!(assignments.len(), 2, "{assignments:?}");

    // The reconciled version is seen now: the next pass publishes nothing more.
    wait_seen(&app, &missed).await;
    let again = reconcile(&app, &["--only", "tasks"]).await;
    assert!(again.status.success(), "{again:?}");
    assert_eq!(
        stdout(&again),
        "tasks: lists=4 seen=1 changed=0 published=0 already_published=0 failed_lists=0\n",
        "only X changed since the first pass: its assignment, whose echo the lane saw"
    );
    assert_eq!(reconciled_events(&app).await.len(), 1);
}
