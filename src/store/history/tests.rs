//! The audit search's filters and keyset cursor, and the grant history reads.

use serde_json::json;

use super::*;
use crate::store::{temp_store, AuditEntry};

fn entry(action: &str, subject: &str, object: &str, correlation: &str) -> AuditEntry {
    AuditEntry {
        actor: if action.starts_with("request.") {
            "clickup:42"
        } else {
            "router"
        }
        .into(),
        action: action.into(),
        subject: Some(subject.into()),
        object: Some(object.into()),
        outcome: if action == "plan.action_failed" {
            "failed"
        } else {
            "applied"
        }
        .into(),
        correlation_id: correlation.into(),
        event_id: format!("{correlation}:{action}"),
        detail: json!({}),
    }
}

#[tokio::test]
async fn the_audit_search_applies_every_filter_and_pages_by_seq() {
    let (store, _dir) = temp_store().await;
    let rows = [
        entry("clickup.share", "user:jane", "list:310", "hire-1"),
        entry("clickup.add_to_group", "user:jane", "All staff", "hire-1"),
        entry("clickup.share", "user:carlos", "list:510", "hire-2"),
        entry("plan.action_failed", "user:carlos", "list:510", "hire-2"),
        entry("request.approved", "user:jane", "task:86a", "request:86a"),
        entry("clickup.share", "user:jane", "list:710", "request:86a"),
    ];
    for row in &rows {
        store.append_audit(row).await.unwrap();
    }
    let all = store
        .audit_search(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let first_at = all.records[0].at;

    let query = |change: fn(&mut AuditQuery)| {
        let mut query = AuditQuery {
            limit: 100,
            ..Default::default()
        };
        change(&mut query);
        query
    };
    let cases: [(AuditQuery, Vec<usize>); 9] = [
        (
            query(|q| q.correlation_id = Some("hire-2".into())),
            vec![2, 3],
        ),
        (
            query(|q| q.subject = Some("user:jane".into())),
            vec![0, 1, 4, 5],
        ),
        (query(|q| q.object = Some("list:510".into())), vec![2, 3]),
        (
            query(|q| q.action = Some("clickup.share".into())),
            vec![0, 2, 5],
        ),
        (query(|q| q.actor = Some("clickup:42".into())), vec![4]),
        (query(|q| q.outcome = Some("failed".into())), vec![3]),
        (
            query(|q| {
                q.subject = Some("user:jane".into());
                q.action = Some("clickup.share".into());
            }),
            vec![0, 5],
        ),
        (query(|q| q.to = Some(0)), vec![]),
        (query(|q| q.limit = 0), vec![0]),
    ];
    for (query, expected) in cases {
        let page = store.audit_search(&query).await.unwrap();
        let found: Vec<i64> = page.records.iter().map(|r| r.seq).collect();
        let wanted: Vec<i64> = expected.iter().map(|&i| all.records[i].seq).collect();
        assert_eq!(found, wanted, "{query:?}");
    }
    let from_first = store
        .audit_search(&AuditQuery {
            from: Some(first_at),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(from_first.records.len(), 6);

    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .audit_search(&AuditQuery {
                after_seq: cursor,
                limit: 4,
                ..Default::default()
            })
            .await
            .unwrap();
        pages.push(page.records.len());
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, [4, 2]);
}

#[tokio::test]
async fn grant_history_keeps_closed_rows_and_open_counts_only_open_ones() {
    let (store, _dir) = temp_store().await;
    for (person, object, ended) in [
        ("a", "list:1", Some(5)),
        ("a", "list:1", None),
        ("b", "All staff", None),
    ] {
        sqlx::query(
            "INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since, ended_at)
             VALUES ($1, 'share', $2, 'read', 'r', 'e', 1, $3)",
        )
        .bind(person)
        .bind(object)
        .bind(ended)
        .execute(store.pool())
        .await
        .unwrap();
    }

    let of_a = store.grant_history_of("a").await.unwrap();
    let on_list = store
        .grant_history_on(&["list:1".into(), "All staff".into()])
        .await
        .unwrap();
    let counts = store.open_grant_counts().await.unwrap();

    assert_eq!(of_a.len(), 2);
    assert_eq!(of_a[0].ended_at, Some(5));
    assert_eq!(on_list.len(), 3);
    assert!(store.grant_history_on(&[]).await.unwrap().is_empty());
    assert_eq!((counts.get("a"), counts.get("b")), (Some(&1), Some(&1)));
}
