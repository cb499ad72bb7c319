//! Changes to the directory: upserts, removals, re-enables and re-ranking keep the index exact
//! (compared with a directory built afresh from the same records) and selections in order.

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    tests::{ids, one, people, record, risk_analyst},
    *,
};
use crate::store::IdentityRecord;
#[test]
fn an_upsert_replaces_the_indexed_values() {
    let mut directory = Directory::from_records(people());
    let moved = record(
        "u1",
        "active",
        Some(1),
        json!({"department": "Legal", "location": "Boston", "groups": ["legal"]}),
    );

    directory.upsert(&moved);

    let cases = [
        (Attribute::Department, "Risk", vec!["u2"]),
        (Attribute::Department, "Legal", vec!["u1"]),
        (Attribute::Group, "risk-team", vec![]),
        (Attribute::Group, "all-staff", vec!["u2"]),
        (Attribute::Group, "legal", vec!["u1"]),
        (Attribute::Title, "Analyst", vec!["u3"]),
        (Attribute::Location, "Boston", vec!["u1", "u3"]),
    ];
    for (attribute, value, expected) in cases {
        assert_eq!(
            ids(directory.select(&one(attribute, value))),
            expected,
            "{value}"
        );
    }
    let later_wins = Directory::from_records(people().into_iter().chain([moved.clone()]));
    let mut records = people();
    records[0] = moved;
    assert_eq!(
        directory.index_snapshot(),
        Directory::from_records(records).index_snapshot()
    );
    assert_eq!(directory.index_snapshot(), later_wins.index_snapshot());
    assert_eq!(directory.len(), 3);
}

#[test]
fn a_removed_person_is_gone_from_every_lookup_and_their_slot_serves_again() {
    let mut directory = Directory::from_records(people());

    directory.remove("u2");
    directory.remove("nobody");

    assert!(directory.get("u2").is_none());
    assert!(directory.by_clickup_user(2).is_none());
    assert_eq!(directory.len(), 2);
    assert_eq!(
        ids(directory.select(&one(Attribute::Department, "Risk"))),
        ["u1"]
    );
    assert!(directory
        .select(&one(Attribute::EmploymentType, "contractor"))
        .is_empty());

    let newcomer = record("u0", "active", Some(9), json!({"department": "Risk"}));
    directory.upsert(&newcomer);

    assert_eq!(
        ids(directory.select(&one(Attribute::Department, "Risk"))),
        ["u0", "u1"]
    );
    assert_eq!(directory.by_clickup_user(9).unwrap().iam_id, "u0");
    let mut records = people();
    records[1] = newcomer;
    assert_eq!(
        directory.index_snapshot(),
        Directory::from_records(records).index_snapshot()
    );
}

#[test]
fn a_disable_unindexes_and_a_re_enable_indexes_again_in_place() {
    let mut directory = Directory::from_records(people());
    let steps = [
        ("disabled", Some(1), vec!["u2"]),
        ("active", Some(1), vec!["u1", "u2"]),
        ("active", None, vec!["u2"]),
        ("active", Some(1), vec!["u1", "u2"]),
    ];

    for (status, account, expected) in steps {
        directory.upsert(&record("u1", status, account, risk_analyst()));

        assert_eq!(
            ids(directory.select(&one(Attribute::Department, "Risk"))),
            expected,
            "{status} {account:?}"
        );
        assert_eq!(
            directory.get("u1").unwrap().clickup_user_id,
            account.unwrap_or(0) as u64
        );
    }
}

#[test]
fn the_linked_identity_with_the_newest_event_answers_for_an_account() {
    let mut older = record("a", "terminated", Some(5), json!({}));
    older.event_time = 10;
    let mut newer = record("b", "active", Some(5), json!({}));
    newer.event_time = 20;
    let mut directory = Directory::from_records([newer.clone(), older]);

    assert_eq!(directory.by_clickup_user(5).unwrap().iam_id, "b");

    directory.remove("b");

    assert_eq!(directory.by_clickup_user(5).unwrap().iam_id, "a");
}

#[test]
fn selections_keep_iam_id_order_whatever_the_order_of_arrival() {
    let mut directory = Directory::default();
    let mut expected = Vec::new();
    // Each id sorts between the previous one and "n", then before every earlier one: both
    // halve a gap until there is none left and every rank is laid out again.
    let mut arrivals = vec!["n".to_string(), "m".to_string()];
    arrivals.extend((1..40).map(|length| format!("m{}", "0".repeat(length))));
    arrivals.extend((0..40).rev().map(|n| format!("k{n:02}")));

    for id in &arrivals {
        directory.upsert(&record(id, "active", Some(1), json!({"department": "Ops"})));
        expected.push(id.clone());
    }

    expected.sort();
    assert_eq!(
        ids(directory.select(&one(Attribute::Department, "ops"))),
        expected
    );
    assert_eq!(ids(directory.active().collect()), expected);
    let records = arrivals
        .iter()
        .map(|id| record(id, "active", Some(1), json!({"department": "Ops"})));
    assert_eq!(
        directory.index_snapshot(),
        Directory::from_records(records).index_snapshot()
    );
}

#[test]
fn the_index_stays_exact_through_a_long_run_of_changes() {
    let departments = ["Risk", "Ops", "Legal", "risk"];
    let statuses = ["active", "active", "disabled"];
    let mut seed: u64 = 7;
    let mut next = move |bound: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % bound
    };
    let mut directory = Directory::default();
    let mut expected: BTreeMap<String, IdentityRecord> = BTreeMap::new();

    for _ in 0..2000 {
        let id = format!("p{}", next(60));
        if next(5) == 0 {
            directory.remove(&id);
            expected.remove(&id);
            continue;
        }
        let profile = json!({"department": departments[next(4) as usize],
            "groups": [format!("g{}", next(3)), format!("g{}", next(3))]});
        let account = (next(6) > 0).then(|| next(10) as i64 + 1);
        let changed = record(&id, statuses[next(3) as usize], account, profile);
        directory.upsert(&changed);
        expected.insert(id, changed);
    }

    let rebuilt = Directory::from_records(expected.values().cloned());
    assert_eq!(directory.index_snapshot(), rebuilt.index_snapshot());
    assert_eq!(directory.len(), expected.len());
    let risk: Vec<&str> = expected
        .values()
        .filter(|r| r.status == "active" && r.clickup_user_id.is_some())
        .filter(|r| {
            r.attributes["profile"]["department"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("risk")
        })
        .map(|r| r.iam_id.as_str())
        .collect();
    assert_eq!(
        ids(directory.select(&one(Attribute::Department, "RISK"))),
        risk
    );
}

#[tokio::test]
async fn load_reads_every_identity_on_record() {
    let (store, _guard) = crate::store::temp_store().await;
    for person in people() {
        store.save_identity(&person).await.unwrap();
    }
    store.set_status("u3", "disabled").await.unwrap();

    let directory = load(&store).await.unwrap();

    assert_eq!(directory.len(), 3);
    assert_eq!(directory.by_clickup_user(2).unwrap().iam_id, "u2");
    assert_eq!(
        ids(directory.select(&one(Attribute::Location, "Boston"))),
        ["u1"]
    );
}
