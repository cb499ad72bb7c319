//! The lease statements against a real SQLite file, step by step: take, renew, expiry,
//! takeover after expiry, two workers racing, release.

use super::*;
use crate::store::temp_store;

const NAME: &str = "scheduler";
/// Every lease in the table lasts this long (ms).
const LENGTH: i64 = 100;

/// A lease row as the table writes it: holder and end (ms).
type Row = Option<(&'static str, i64)>;

/// One step: `holder` does `what` at `now` (ms).
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Take, having read the row as `seen` (`None`: no row).
    Take(&'static str, i64, Row),
    Renew(&'static str, i64),
    Release(&'static str, i64),
}

fn audit(action: &str, holder: &str) -> AuditEntry {
    AuditEntry {
        actor: "clickup-iam-router".into(),
        action: action.into(),
        subject: None,
        object: Some(format!("lease:{NAME}")),
        outcome: "ok".into(),
        correlation_id: format!("lease:{NAME}"),
        event_id: format!("lease:{NAME}:{holder}"),
        detail: serde_json::json!({ "holder": holder }),
    }
}

async fn apply(store: &Store, step: Step) -> bool {
    match step {
        Step::Take(holder, now_ms, seen) => {
            let seen = seen.map(|(holder, expires_at_ms)| LeaseRow {
                holder: holder.into(),
                expires_at_ms,
            });
            let take = TakeLease {
                name: NAME,
                holder,
                now_ms,
                until_ms: now_ms + LENGTH,
                seen: seen.as_ref(),
            };
            let audit = audit("scheduler.lease_taken", holder);
            store.take_lease(&take, &audit).await.unwrap()
        }
        Step::Renew(holder, now_ms) => store
            .renew_lease(NAME, holder, now_ms + LENGTH)
            .await
            .unwrap(),
        Step::Release(holder, now_ms) => {
            let audit = audit("scheduler.lease_released", holder);
            store
                .release_lease(NAME, holder, now_ms, &audit)
                .await
                .unwrap()
        }
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_ends_or_is_released() {
    use Step::*;
    // (step, whether it succeeds, the row after it)
    let table: &[(Step, bool, Row)] = &[
        // take: nobody holds it
        (Take("a", 0, None), true, Some(("a", 100))),
        // a second fresh take finds the row
        (Take("b", 0, None), false, Some(("a", 100))),
        // held and not ended: not taken
        (Take("b", 50, Some(("a", 100))), false, Some(("a", 100))),
        // renew: the holder extends it
        (Renew("a", 50), true, Some(("a", 150))),
        // another worker cannot renew what it does not hold
        (Renew("b", 60), false, Some(("a", 150))),
        // a take from a stale read changes nothing
        (Take("b", 200, Some(("a", 100))), false, Some(("a", 150))),
        // one millisecond before the end: still a's
        (Take("b", 149, Some(("a", 150))), false, Some(("a", 150))),
        // expired: taken over after the end
        (Take("b", 150, Some(("a", 150))), true, Some(("b", 250))),
        // the old holder's renewal fails: it must stop its duties
        (Renew("a", 160), false, Some(("b", 250))),
        // and it cannot take it back from its own stale read
        (Take("a", 160, Some(("a", 150))), false, Some(("b", 250))),
        // a holder may renew its own ended lease that nobody took
        (Renew("b", 260), true, Some(("b", 360))),
        // two workers race for the ended lease with the same read: one takes it
        (Take("c", 400, Some(("b", 360))), true, Some(("c", 500))),
        (Take("d", 400, Some(("b", 360))), false, Some(("c", 500))),
        // only the holder releases
        (Release("b", 410), false, Some(("c", 500))),
        (Release("c", 410), true, None),
        // released: the next worker takes it at once, without waiting for its end
        (Take("d", 420, None), true, Some(("d", 520))),
    ];
    let (store, _dir) = temp_store().await;

    for (n, (step, succeeds, after)) in table.iter().enumerate() {
        let done = apply(&store, *step).await;

        assert_eq!(done, *succeeds, "step {n}: {step:?}");
        let row = store.lease(NAME).await.unwrap();
        let expected = after.map(|(holder, expires_at_ms)| LeaseRow {
            holder: holder.into(),
            expires_at_ms,
        });
        assert_eq!(row, expected, "step {n}: {step:?}");
    }

    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT action, event_id FROM audit WHERE correlation_id = $1 ORDER BY seq")
            .bind(format!("lease:{NAME}"))
            .fetch_all(store.pool())
            .await
            .unwrap();
    let expected = [
        ("scheduler.lease_taken", "a"),
        ("scheduler.lease_taken", "b"),
        ("scheduler.lease_taken", "c"),
        ("scheduler.lease_released", "c"),
        ("scheduler.lease_taken", "d"),
    ]
    .map(|(action, holder)| (action.to_owned(), format!("lease:{NAME}:{holder}")));
    assert_eq!(rows, expected, "one audit row per change of holder");
}
