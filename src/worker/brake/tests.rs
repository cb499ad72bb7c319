use std::time::Duration;

use super::*;
use crate::store::temp_store as store;

fn removal(person: usize, action: &str, cause: &str) -> AuditEntry {
    AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: action.into(),
        subject: Some(format!("user:p{person}")),
        object: Some("list:1".into()),
        outcome: "applied".into(),
        correlation_id: "c".into(),
        event_id: format!("e{person}"),
        detail: json!({ "cause": cause }),
    }
}

#[tokio::test]
async fn the_brake_counts_people_whose_access_rules_or_scim_took_away_within_the_window() {
    let brake = Brake {
        settings: BrakeSettings {
            max_people: 3,
            max_percent: 5.0,
            window: Duration::from_secs(600),
        },
    };
    let cases: [(&[(&str, &str)], bool); 14] = [
        (&[], false),
        (&[("clickup.unshare", "event"); 2], false),
        (&[("clickup.unshare", "event"); 3], true),
        (&[("clickup.remove_member", "leaver"); 5], false),
        (&[("clickup.change_share", "event"); 5], false),
        (&[("clickup.downgrade_share", "rules-reload"); 3], true),
        (&[("clickup.unshare", "reconcile"); 3], true),
        (&[("clickup.remove_member", "scim"); 3], true),
        (&[("clickup.remove_guest", "scim"); 3], true),
        (&[("clickup.remove_member", "scim"); 2], false),
        (&[("deprovision", "scim"); 3], false),
        (&[("grant.close", "scim"); 3], false),
        (&[("clickup.remove_member", "brake-release"); 3], false),
        (
            &[
                ("clickup.unshare", "event"),
                ("clickup.remove_from_group", "rules-reload"),
                ("clickup.remove_guest", "scim"),
            ],
            true,
        ),
    ];

    for (earlier, held) in cases {
        let (store, _dir) = store().await;
        managed_population(&store, 0..100, "active").await;
        for (person, (action, cause)) in earlier.iter().enumerate() {
            store
                .append_audit(&removal(person, action, cause))
                .await
                .unwrap();
        }

        let verdict = brake.check(&store, "next", Utc::now()).await.unwrap();

        assert_eq!(matches!(verdict, Verdict::Hold { .. }), held, "{earlier:?}");
    }
}

#[tokio::test]
async fn removals_a_person_released_are_not_counted_again() {
    let brake = Brake {
        settings: BrakeSettings {
            max_people: 3,
            max_percent: 100.0,
            window: Duration::from_secs(600),
        },
    };
    let cases = [
        (ROUTER_ACTOR, "reconcile", true),
        ("ops@example.com", "reconcile", false),
        (ROUTER_ACTOR, "brake-release", false),
    ];

    for (actor, cause, held) in cases {
        let (store, _dir) = store().await;
        managed_population(&store, 0..100, "active").await;
        for person in 0..3 {
            let mut row = removal(person, "clickup.unshare", cause);
            row.actor = actor.into();
            store.append_audit(&row).await.unwrap();
        }

        let verdict = brake.check(&store, "next", Utc::now()).await.unwrap();

        assert_eq!(
            matches!(verdict, Verdict::Hold { .. }),
            held,
            "{actor} {cause}"
        );
    }
}

#[test]
fn a_hold_knows_the_cause_kind_it_was_recorded_with() {
    let cases = [
        ("reconcile: a drift repair would remove access", "reconcile"),
        ("rules-reload: a rules reload would remove", "rules-reload"),
        ("scim: removals would reach 4 people", "scim"),
        ("no kind", ""),
    ];

    for (cause, kind) in cases {
        let hold = Held {
            id: 1,
            iam_id: "p".into(),
            actions: Vec::new(),
            cause: cause.into(),
            held_at: 0,
            envelope: None,
        };

        assert_eq!(hold.kind(), kind, "{cause}");
    }
}

#[tokio::test]
async fn a_drift_repair_counts_its_people_with_those_of_the_window() {
    let brake = Brake {
        settings: BrakeSettings {
            max_people: 3,
            max_percent: 100.0,
            window: Duration::from_secs(600),
        },
    };
    let cases = [
        (0, 0, false),
        (0, 3, false),
        (0, 4, true),
        (2, 1, false),
        (2, 2, true),
        (5, 0, false),
    ];

    for (earlier, people, held) in cases {
        let (store, _dir) = store().await;
        managed_population(&store, 0..100, "active").await;
        for person in 0..earlier {
            let row = removal(person, "clickup.unshare", "event");
            store.append_audit(&row).await.unwrap();
        }

        let verdict = brake.check_run(&store, people, Utc::now()).await.unwrap();

        let case = (earlier, people);
        assert_eq!(matches!(verdict, Verdict::Hold { .. }), held, "{case:?}");
    }
}

/// Identities `p{n}` on record with `status`.
pub(crate) async fn managed_population(store: &Store, ids: std::ops::Range<usize>, status: &str) {
    for n in ids {
        sqlx::query("INSERT INTO identities (iam_id, status, attributes, event_time, updated_at) VALUES ($1, $2, '{}', 0, 0)")
            .bind(format!("p{n}"))
            .bind(status)
            .execute(store.pool())
            .await
            .unwrap();
    }
}

#[test]
fn the_limit_is_whichever_of_people_and_share_comes_first() {
    let settings = |max_people, max_percent| BrakeSettings {
        max_people,
        max_percent,
        window: Duration::from_secs(600),
    };
    // (managed identities, max_people, max_percent, limit)
    let cases = [
        (10_000, 10, 5.0, 10),
        (1_000, 10, 5.0, 10),
        (200, 10, 5.0, 10),
        (199, 10, 5.0, 9),
        (100, 10, 5.0, 5),
        (40, 10, 5.0, 2),
        (39, 10, 5.0, 1),
        (15, 10, 5.0, 1),
        (0, 10, 5.0, 1),
        (10_000, 600, 5.0, 500),
        (10_000, 10, 100.0, 10),
        (3, 10, 100.0, 3),
        (50, 0, 5.0, 0),
    ];

    for (managed, max_people, max_percent, limit) in cases {
        let case = (managed, max_people, max_percent);
        assert_eq!(
            limit_for(managed, &settings(max_people, max_percent)),
            limit,
            "{case:?}"
        );
    }
}

#[tokio::test]
async fn the_limit_reads_the_identities_holding_access() {
    let (store, _dir) = store().await;
    let brake = Brake {
        settings: BrakeSettings {
            max_people: 10,
            max_percent: 5.0,
            window: Duration::from_secs(600),
        },
    };
    for n in 0..100 {
        sqlx::query("INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since) VALUES ($1, 'role', 'w', 'member', 'r', 'e', 0)")
            .bind(format!("p{n}"))
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since, ended_at) VALUES ('gone', 'role', 'w', 'member', 'r', 'e', 0, 1)")
        .execute(store.pool())
        .await
        .unwrap();
    // Holding access: 80 ended in the IAM (not yet removed) and 20 active; 40 more active
    // hold nothing yet; 30 ended hold nothing any more. 140 managed.
    managed_population(&store, 0..80, "terminated").await;
    managed_population(&store, 80..140, "active").await;
    managed_population(&store, 200..230, "terminated").await;

    assert_eq!(brake.limit(&store).await.unwrap(), 7);
    assert!(matches!(
        brake.check_batch(&store, 8).await.unwrap(),
        Verdict::Hold { .. }
    ));
    assert_eq!(brake.check_batch(&store, 7).await.unwrap(), Verdict::Pass);
}

#[tokio::test]
async fn a_held_message_is_recorded_once_with_its_envelope_and_audit_row() {
    let (store, _dir) = store().await;
    let cause = Cause {
        iam_id: "p1".into(),
        email: None,
        display_name: "p1".into(),
        event_id: "urn:scim:client:okta e1".into(),
        correlation_id: "c1".into(),
        kind: "scim",
        ends_at: None,
        ending: None,
        actor: None,
    };
    let processed = crate::store::Processed {
        lane: "deprovision".into(),
        outcome: "held_by_brake".into(),
        detail: "held".into(),
    };
    let (hold, audit) = hold_of(
        &cause,
        vec!["remove the ClickUp account".into()],
        "limit 3",
        Some("{}".into()),
    );

    let first = store
        .record_held("k", &processed, &hold, std::slice::from_ref(&audit))
        .await;
    let again = store.record_held("k", &processed, &hold, &[audit]).await;

    assert_eq!((first.unwrap(), again.unwrap()), (true, false));
    let brake = Brake {
        settings: BrakeSettings::default(),
    };
    let held = brake.held(&store).await.unwrap();
    let seen: Vec<_> = held
        .iter()
        .map(|h| (h.iam_id.as_str(), h.kind(), h.envelope.as_deref()))
        .collect();
    assert_eq!(seen, [("p1", "scim", Some("{}"))]);
    assert_eq!(held[0].actions, ["remove the ClickUp account"]);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE action = 'brake.hold'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
}
