//! Tests of the outbox on its own: numbering in queue order, the log, reading the statuses
//! of a range of deliveries, and which deliveries are lost.

use serde_json::json;

use super::{Job, Outbox, SandboxDelivery};

fn job(event: &'static str) -> Job {
    Job {
        number: 0,
        webhook_id: "hook".to_owned(),
        event,
        task_id: "86abc0001".to_owned(),
        history_item_ids: Vec::new(),
        body: json!({ "event": event }),
    }
}

fn delivery(event: &str, outcome: Result<u16, String>) -> SandboxDelivery {
    SandboxDelivery {
        webhook_id: "hook".to_owned(),
        event: event.to_owned(),
        task_id: "86abc0001".to_owned(),
        history_item_ids: Vec::new(),
        outcome,
    }
}

#[test]
fn deliveries_are_numbered_and_handed_to_the_worker_in_queue_order() {
    let mut outbox = Outbox::default();
    let (mut jobs, _attempted) = outbox.worker_ends.take().expect("worker ends");

    for event in ["taskCreated", "taskStatusUpdated", "taskUpdated"] {
        outbox.queue(job(event));
    }

    let mut handed = Vec::new();
    while let Ok(job) = jobs.try_recv() {
        handed.push((job.number, job.event));
    }
    assert_eq!(
        handed,
        [
            (1, "taskCreated"),
            (2, "taskStatusUpdated"),
            (3, "taskUpdated")
        ]
    );
    assert_eq!(outbox.queued(), 3);
    assert!(outbox.worker_ends.is_none(), "handed out once");
}

#[test]
fn statuses_are_read_by_number_with_0_for_no_answer() {
    let mut outbox = Outbox::default();
    let outcomes = [Ok(200), Err("connection refused".to_owned()), Ok(500)];
    for (number, outcome) in (1..).zip(outcomes) {
        outbox.record(number, delivery("taskUpdated", outcome));
    }
    let cases = [(1..3, vec![200, 0]), (2..4, vec![0, 500]), (4..6, vec![])];

    for (numbers, expected) in cases {
        assert_eq!(outbox.statuses(numbers.clone()), expected, "{numbers:?}");
    }
    let logged: Vec<Result<u16, String>> = outbox
        .deliveries()
        .into_iter()
        .map(|delivery| delivery.outcome)
        .collect();
    assert_eq!(
        logged,
        [Ok(200), Err("connection refused".to_owned()), Ok(500)]
    );
}

#[test]
fn the_next_n_deliveries_queued_are_lost_and_the_rest_are_not() {
    let cases = [(0, vec![]), (2, vec![1, 2]), (5, vec![1, 2, 3])];

    for (lose, expected) in cases {
        let mut outbox = Outbox {
            lose_next: lose,
            ..Outbox::default()
        };
        for event in ["taskCreated", "taskStatusUpdated", "taskUpdated"] {
            outbox.queue(job(event));
        }

        let lost: Vec<u64> = outbox.lost.iter().copied().collect();
        assert_eq!(lost, expected, "lose {lose}");
        assert_eq!(outbox.lose_next, lose.saturating_sub(3), "lose {lose}");
    }
}
