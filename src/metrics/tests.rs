use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::{bus::QueueDepths, store::temp_store};

/// A broker that answers with fixed depths, or not at all.
struct Depths(Vec<(&'static str, u32)>);

#[async_trait]
impl QueueDepths for Depths {
    async fn queue_depths(&self, _within: Duration) -> Vec<(&'static str, u32)> {
        self.0.clone()
    }
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
}

#[tokio::test]
async fn recorded_events_and_scrape_time_readings_are_exposed() {
    let (store, _dir) = temp_store().await;
    let metrics = Metrics::new();
    let broker = Depths(vec![("deprovision", 3), ("dead-letters", 1)]);

    metrics.webhook("iam", "accepted", "none");
    metrics.webhook("iam", "accepted", "none");
    metrics.webhook("clickup", "refused", "signature_rejected");
    metrics.clickup_call("remove_member", "ok");
    metrics.clickup_rate_limited();
    metrics.clickup_retry("invite_member");
    metrics.confirmed(Duration::from_millis(4));
    metrics.leaver_removed(Duration::from_millis(700));
    metrics.dead_letter_recorded();
    metrics.brake_held();
    let text = render(&metrics, &store, Some(&broker)).await;

    let cases = [
        (
            r#"clickup_iam_router_webhooks_total{reason="none",result="accepted",source="iam"}"#,
            2.0,
        ),
        (
            r#"clickup_iam_router_webhooks_total{reason="signature_rejected",result="refused",source="clickup"}"#,
            1.0,
        ),
        (
            r#"clickup_iam_router_clickup_calls_total{kind="remove_member",result="ok"}"#,
            1.0,
        ),
        ("clickup_iam_router_clickup_rate_limited_total", 1.0),
        (
            r#"clickup_iam_router_clickup_retries_total{kind="invite_member"}"#,
            1.0,
        ),
        ("clickup_iam_router_broker_confirm_seconds_count", 1.0),
        (
            r#"clickup_iam_router_broker_confirm_seconds_bucket{le="0.005"}"#,
            1.0,
        ),
        ("clickup_iam_router_leaver_seconds_count", 1.0),
        (r#"clickup_iam_router_leaver_seconds_bucket{le="0.5"}"#, 0.0),
        (r#"clickup_iam_router_leaver_seconds_bucket{le="1"}"#, 1.0),
        ("clickup_iam_router_dead_letters_recorded_total", 1.0),
        ("clickup_iam_router_brake_holds_total", 1.0),
        (
            r#"clickup_iam_router_queue_messages{queue="deprovision"}"#,
            3.0,
        ),
        (
            r#"clickup_iam_router_queue_messages{queue="dead-letters"}"#,
            1.0,
        ),
        ("clickup_iam_router_dead_letters", 0.0),
        ("clickup_iam_router_brake_held_people", 0.0),
        ("clickup_iam_router_grants_open", 0.0),
        ("clickup_iam_router_identities", 0.0),
    ];
    for (series, value) in cases {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    assert!(text.contains("# TYPE clickup_iam_router_leaver_seconds histogram"));
}

#[tokio::test]
async fn a_source_that_does_not_answer_leaves_its_samples_out() {
    let (store, _dir) = temp_store().await;
    let metrics = Metrics::new();
    let answering = Depths(vec![("provision", 2)]);
    let first = render(&metrics, &store, Some(&answering)).await;
    store.pool().close().await;

    let second = render(&metrics, &store, Some(&Depths(Vec::new()))).await;

    assert_eq!(
        sample(
            &first,
            r#"clickup_iam_router_queue_messages{queue="provision"}"#
        ),
        Some(2.0)
    );
    assert_eq!(sample(&first, "clickup_iam_router_identities"), Some(0.0));
    for series in [
        r#"clickup_iam_router_queue_messages{queue="provision"}"#,
        "clickup_iam_router_identities",
        "clickup_iam_router_grants_open",
        "clickup_iam_router_dead_letters",
    ] {
        assert_eq!(sample(&second, series), None, "{series} in\n{second}");
    }
}

#[test]
fn two_registries_count_apart() {
    let one = Metrics::new();
    let other = Metrics::new();

    one.brake_held();

    assert_eq!(one.0.brake_holds.get(), 1);
    assert_eq!(other.0.brake_holds.get(), 0);
}
