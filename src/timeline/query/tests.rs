//! "Who had access to the finance space yesterday at noon", against a real store with grants
//! opened and closed around that time.

use chrono::{Duration, DurationRound, TimeZone};

use super::*;
use crate::{
    store::{temp_store, IdentityRecord},
    timeline::{EndCause, GrantedBy, Via},
};

const FINANCE: &str = "space:901100000700";
const LEDGER: &str = "list:901100000710";

/// One grant row as the workers write it, with explicit times.
struct Row<'a> {
    person: &'a str,
    kind: &'a str,
    object: &'a str,
    level: &'a str,
    rule: &'a str,
    since: DateTime<Utc>,
    ended: Option<(DateTime<Utc>, &'a str, &'a str)>,
}

async fn insert(store: &Store, row: Row<'_>) {
    sqlx::query(
        "INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since, ended_at, ended_by, end_reason)
         VALUES ($1, $2, $3, $4, $5, 'evt', $6, $7, $8, $9)",
    )
    .bind(row.person)
    .bind(row.kind)
    .bind(row.object)
    .bind(row.level)
    .bind(row.rule)
    .bind(row.since.timestamp_millis())
    .bind(row.ended.map(|e| e.0.timestamp_millis()))
    .bind(row.ended.map(|e| e.1))
    .bind(row.ended.map(|e| e.2))
    .execute(store.pool())
    .await
    .unwrap();
}

async fn person(store: &Store, iam_id: &str, email: &str, clickup_user: Option<i64>) {
    let record = IdentityRecord {
        iam_id: iam_id.into(),
        email: Some(email.into()),
        status: "active".into(),
        attributes: serde_json::json!({}),
        clickup_user_id: clickup_user,
        event_time: 0,
        enabled_at: None,
    };
    store.save_identity(&record).await.unwrap();
}

#[tokio::test]
async fn who_had_access_to_the_finance_space_yesterday_at_noon() {
    let (store, _dir) = temp_store().await;
    let today = Utc::now().duration_trunc(Duration::days(1)).unwrap();
    let noon = today - Duration::hours(12);
    let at = |hour: i64| today - Duration::days(1) + Duration::hours(hour);
    let share = |person, level, since, ended| Row {
        person,
        kind: "share",
        object: FINANCE,
        level,
        rule: "finance-analysts",
        since,
        ended,
    };
    person(&store, "approver", "morgan@example.com", Some(9001007)).await;
    person(&store, "requester", "rita@example.com", None).await;

    // Before noon and still open; closed before noon; opened after noon; closed after noon.
    insert(&store, share("open", "read", at(9), None)).await;
    insert(
        &store,
        share(
            "gone",
            "edit",
            at(8),
            Some((at(11), "event:e1", "no rule grants it")),
        ),
    )
    .await;
    insert(&store, share("late", "read", at(14), None)).await;
    insert(
        &store,
        share(
            "left",
            "edit",
            at(10),
            Some((at(15), "leaver:e2", "terminated")),
        ),
    )
    .await;
    // A level change across noon: edit until 13:00, then create.
    insert(
        &store,
        share(
            "mover",
            "edit",
            at(9),
            Some((at(13), "event:e3", "level changed")),
        ),
    )
    .await;
    insert(&store, share("mover", "create", at(13), None)).await;
    // An approved request, an admin, and a share of a list inside the space.
    let mut requested = share(
        "requester",
        "read",
        at(11),
        Some((at(20), "expiry:x", "expired")),
    );
    requested.rule = "request:86fin";
    insert(&store, requested).await;
    sqlx::query("INSERT INTO request_decisions (task_id, step, decision, decided_by, via, at) VALUES ('86fin', 0, 'approved', 'clickup:9001007', 'clickup-status', 0)")
        .execute(store.pool()).await.unwrap();
    let admin = Row {
        kind: "role",
        object: "workspace:9012345678",
        level: "admin",
        ..share("admin", "admin", at(1), None)
    };
    insert(&store, admin).await;
    let ledger = Row {
        object: LEDGER,
        ..share("ledger", "edit", at(9), None)
    };
    insert(&store, ledger).await;

    let space = object_access(
        &store,
        &FINANCE.parse().unwrap(),
        Hierarchy::Known { ancestors: vec![] },
        Some(noon),
    )
    .await
    .unwrap();
    let list = object_access(
        &store,
        &LEDGER.parse().unwrap(),
        Hierarchy::Known {
            ancestors: vec![FINANCE.into()],
        },
        Some(noon),
    )
    .await
    .unwrap();
    let unknown = object_access(
        &store,
        &LEDGER.parse().unwrap(),
        Hierarchy::Unknown {
            reason: super::Unread::NoClickup,
        },
        Some(noon),
    )
    .await
    .unwrap();

    let who = |answer: &ObjectAccess| -> Vec<(String, String, Via)> {
        answer
            .access
            .iter()
            .map(|a| {
                (
                    a.interval.iam_id.clone(),
                    a.interval.level.clone(),
                    a.via.clone(),
                )
            })
            .collect()
    };
    let direct = |p: &str, l: &str| (p.to_owned(), l.to_owned(), Via::Direct);
    let inherited = |p: &str, l: &str| {
        (
            p.to_owned(),
            l.to_owned(),
            Via::Inherited {
                from: FINANCE.into(),
            },
        )
    };
    let admin = ("admin".to_owned(), "admin".to_owned(), Via::WorkspaceAdmin);
    assert_eq!(
        who(&space),
        vec![
            admin.clone(),
            direct("left", "edit"),
            direct("mover", "edit"),
            direct("open", "read"),
            direct("requester", "read"),
        ]
    );
    assert_eq!(
        who(&list),
        vec![
            admin.clone(),
            direct("ledger", "edit"),
            inherited("left", "edit"),
            inherited("mover", "edit"),
            inherited("open", "read"),
            inherited("requester", "read"),
        ]
    );
    assert_eq!(who(&unknown), vec![admin, direct("ledger", "edit")]);
    assert_eq!(
        (
            space.note,
            unknown.note.map(|n| n.starts_with("No ClickUp settings"))
        ),
        (None, Some(true)),
        "a note only when inherited access is not counted"
    );

    let requester = space
        .access
        .iter()
        .find(|a| a.interval.iam_id == "requester")
        .unwrap();
    match &requester.interval.granted_by {
        GrantedBy::Request { task_id, approvers } => {
            assert_eq!(task_id, "86fin");
            assert_eq!(approvers[0].who.as_deref(), Some("morgan@example.com"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        space.emails.get("requester").map(String::as_str),
        Some("rita@example.com")
    );

    let everything = object_access(
        &store,
        &FINANCE.parse().unwrap(),
        Hierarchy::Known { ancestors: vec![] },
        None,
    )
    .await
    .unwrap();
    let mover: Vec<_> = everything
        .access
        .iter()
        .filter(|a| a.interval.iam_id == "mover")
        .collect();
    assert_eq!(mover.len(), 2);
    assert_eq!(mover[0].interval.to, Some(mover[1].interval.from));
    let ended = mover[0].interval.ended.as_ref().unwrap();
    assert_eq!((ended.cause, ended.level_changed), (EndCause::Mover, true));
}

#[tokio::test]
async fn a_person_is_found_by_iam_id_or_email_and_a_range_export_takes_overlapping_rows() {
    let (store, _dir) = temp_store().await;
    let base = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let h = |hour: i64| base + Duration::hours(hour);
    person(&store, "jane", "Jane.Doe@example.com", None).await;
    let row = |object, since, ended| Row {
        person: "jane",
        kind: "share",
        object,
        level: "read",
        rule: "staff",
        since,
        ended,
    };
    insert(
        &store,
        row("list:1", h(1), Some((h(2), "event:e", "no rule grants it"))),
    )
    .await;
    insert(
        &store,
        row("list:2", h(3), Some((h(5), "leaver:e", "disabled"))),
    )
    .await;
    insert(&store, row("list:3", h(6), None)).await;

    let by_id = person_timeline(&store, "jane").await.unwrap().unwrap();
    let by_email = person_timeline(&store, " jane.doe@EXAMPLE.com")
        .await
        .unwrap()
        .unwrap();
    let nobody = person_timeline(&store, "nobody@example.com").await.unwrap();
    let range = intervals_between(&store, h(2), h(6)).await.unwrap();

    assert_eq!(by_id.intervals.len(), 3);
    assert_eq!(by_email.iam_id, "jane");
    assert!(nobody.is_none());
    let objects: Vec<&str> = range.iter().map(|i| i.object.as_str()).collect();
    assert_eq!(
        objects,
        ["list:2"],
        "ends at 2 and begins at 6 are outside [2, 6)"
    );
    assert_eq!(range[0].ended.as_ref().unwrap().cause, EndCause::Disabled);
}
