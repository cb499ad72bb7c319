//! Task assignment across interrupted attempts (a doubled assignment seen once in the chaos
//! suite). The sandbox fails the worker's assignee change or its comment, before ClickUp
//! acts or after it (the answer lost: what a worker killed right after the call leaves), so
//! the event comes back through the retry tiers; every such point still gives one assignee
//! change, one comment, one `task.assigned` row, and one move of the round-robin cursor.

use std::time::Duration;

use clickup_iam_router::sandbox::CallFault;
use serde_json::Value;

use crate::assignments::{World, COMPLIANCE, RISK_A, RISK_B};

/// Where an attempt is interrupted, and how often.
struct Interruption {
    what: &'static str,
    /// `PUT` (the assignee change) or `POST` (the comment), on `/api/v2/task/…`.
    method: &'static str,
    fault: CallFault,
    /// More than ClickUp calls are tried within one attempt (3 in the tests): the event
    /// itself has to come back.
    times: usize,
    /// Calls of `method` on the task the sandbox answers, failed ones included.
    calls: usize,
}

const INTERRUPTIONS: [Interruption; 4] = [
    Interruption {
        what: "killed before the assignee change",
        method: "PUT",
        fault: CallFault::Refuse(503),
        times: 3,
        calls: 4,
    },
    Interruption {
        what: "killed after the assignee change, before its record",
        method: "PUT",
        fault: CallFault::LoseAnswer(503),
        times: 1,
        calls: 1,
    },
    Interruption {
        what: "killed after the record, before the comment",
        method: "POST",
        fault: CallFault::Refuse(503),
        times: 3,
        calls: 4,
    },
    Interruption {
        what: "killed after the comment, before its record",
        method: "POST",
        fault: CallFault::LoseAnswer(503),
        times: 1,
        calls: 1,
    },
];

#[tokio::test]
async fn an_interrupted_assignment_is_carried_on_with_one_change_and_one_comment() {
    let world = World::start(&[RISK_A, RISK_B]).await;
    let risk = [world.users[&1], world.users[&2]];

    for (n, case) in INTERRUPTIONS.iter().enumerate() {
        let state = world.app.sandbox.state();
        for _ in 0..case.times {
            state.fail_call(case.method, "/api/v2/task/", case.fault);
        }

        let task = world
            .create(COMPLIANCE, &format!("Compliance review: crash {n}"), &[])
            .await;
        let outcome = wait_assigned(&world, &task).await;
        world.app.sandbox.settle().await;
        // Anything a second attempt would do comes after the next retry tier (1 s).
        tokio::time::sleep(Duration::from_millis(1500)).await;

        let what = case.what;
        let assignees = state.task(&task).unwrap().assignees;
        let comments = state.comments(&task);
        let puts = state.count_calls("PUT", &format!("/api/v2/task/{task}"));
        let posts = state.count_calls("POST", &format!("/api/v2/task/{task}/comment"));
        let (expected_puts, expected_posts) = match case.method {
            "PUT" => (case.calls, 1),
            _ => (1, case.calls),
        };
        assert_eq!(assignees.len(), 1, "{what}: {assignees:?}");
        assert!(risk.contains(&assignees[0]), "{what}: {assignees:?}");
        assert_eq!(comments.len(), 1, "{what}: {comments:?}");
        assert!(
            comments[0].text.starts_with("Assigned to R"),
            "{what}: {comments:?}"
        );
        assert_eq!((puts, posts), (expected_puts, expected_posts), "{what}");
        assert_eq!(cursor(&world).await, n as i64 + 1, "{what}: one choice");
        let open = world
            .app
            .store
            .open_assignment(&task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(open.user_id, Some(assignees[0] as i64), "{what}");

        let rows = assigned_rows(&world, &task).await;
        assert_eq!(rows.len(), 1, "{what}: {rows:?}");
        let carried_on = rows[0]["carried_on"] == true;
        assert_eq!(carried_on, case.method == "PUT", "{what}: {rows:?}");
        assert_eq!(
            outcome, "rule compliance-reviews, carried on after an interrupted attempt",
            "{what}"
        );
    }
    world.app.stop().await;
}

/// Waits for the task lane to record its event as assigned; its outcome's detail.
async fn wait_assigned(world: &World, task: &str) -> String {
    for _ in 0..300 {
        let detail: Option<String> = sqlx::query_scalar(
            "SELECT detail FROM audit WHERE action = 'clickup.event' AND subject = $1
             AND outcome = 'assigned'",
        )
        .bind(format!("task:{task}"))
        .fetch_optional(world.app.store.pool())
        .await
        .unwrap();
        if let Some(detail) = detail {
            let detail: Value = serde_json::from_str(&detail).unwrap();
            return detail["detail"].as_str().unwrap_or_default().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("task {task} was never assigned");
}

/// The details of the task's `task.assigned` rows.
async fn assigned_rows(world: &World, task: &str) -> Vec<Value> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit WHERE action = 'task.assigned' AND object = $1",
    )
    .bind(format!("task:{task}"))
    .fetch_all(world.app.store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|row| serde_json::from_str(row).unwrap())
        .collect()
}

/// The compliance rule's round-robin position: one move per choice.
async fn cursor(world: &World) -> i64 {
    sqlx::query_scalar("SELECT next FROM rule_cursors WHERE rule = 'compliance-reviews'")
        .fetch_one(world.app.store.pool())
        .await
        .unwrap()
}
