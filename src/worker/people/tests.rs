//! Merging IAM events into a person, in and out of order.

use super::*;

fn clean(mut person: Value) -> Value {
    if let Some(map) = person.as_object_mut() {
        map.remove(TIMES);
        map.remove(GROUPS);
    }
    person
}

const UPDATED: &str = "com.example.iam.user.updated.v1";
const CREATED: &str = "com.example.iam.user.created.v1";

#[test]
fn events_merge_field_by_field_whatever_their_order() {
    let joiner = json!({"snapshot": "full", "user": {"id": "u1", "email": "a@example.com",
        "profile": {"title": "Engineer", "department": "R&D", "employment_type": "employee"}}});
    let mover = json!({"snapshot": "partial", "user": {"id": "u1", "profile": {"title": "Lead"}}});
    let expected = json!({"id": "u1", "email": "a@example.com",
        "profile": {"title": "Lead", "department": "R&D", "employment_type": "employee"}});

    let in_order = merge(
        Some(&merge(None, CREATED, &joiner, 100)),
        UPDATED,
        &mover,
        200,
    );
    let mover_first = merge(
        Some(&merge(None, UPDATED, &mover, 200)),
        CREATED,
        &joiner,
        100,
    );

    assert_eq!(clean(in_order), expected);
    assert_eq!(clean(mover_first), expected);
}

#[test]
fn lifecycle_and_snapshots() {
    let stored = merge(
        None,
        CREATED,
        &json!({"snapshot": "full", "user": {"id": "u1", "profile": {"title": "Engineer", "status": "active"}}}),
        100,
    );
    let cases = [
        (
            "terminated later",
            "x.iam.user.terminated.v1",
            json!({"user": {"id": "u1"}}),
            200,
            json!("terminated"),
        ),
        (
            "terminated earlier",
            "x.iam.user.terminated.v1",
            json!({"user": {"id": "u1"}}),
            50,
            json!("active"),
        ),
        (
            "enabled later",
            "x.iam.user.enabled.v1",
            json!({"user": {"id": "u1"}}),
            200,
            json!("active"),
        ),
    ];
    for (name, event_type, data, time, status) in cases {
        let person = merge(Some(&stored), event_type, &data, time);
        assert_eq!(person["profile"]["status"], status, "{name}");
    }

    let newer_full =
        json!({"snapshot": "full", "user": {"id": "u1", "profile": {"status": "active"}}});
    let replaced = clean(merge(Some(&stored), CREATED, &newer_full, 300));
    assert_eq!(
        replaced,
        json!({"id": "u1", "profile": {"status": "active"}}),
        "a newer full snapshot clears what it leaves out"
    );
    let older_full = clean(merge(Some(&stored), CREATED, &newer_full, 50));
    assert_eq!(
        older_full["profile"]["title"], "Engineer",
        "an older one clears nothing"
    );
}

#[test]
fn group_events_keep_the_newest_word_on_each_group() {
    let added = |t| {
        (
            "x.iam.membership.added.v1",
            json!({"group": {"id": "g1", "name": "Ops"}}),
            t,
        )
    };
    let removed = |t| {
        (
            "x.iam.membership.removed.v1",
            json!({"group": {"id": "g1"}}),
            t,
        )
    };
    let cases = [
        ("add then remove", vec![added(1), removed(2)], json!([])),
        (
            "remove then older add",
            vec![removed(2), added(1)],
            json!([]),
        ),
        (
            "remove then newer add",
            vec![removed(1), added(2)],
            json!([{"id": "g1", "name": "Ops"}]),
        ),
        (
            "add twice",
            vec![added(1), added(2)],
            json!([{"id": "g1", "name": "Ops"}]),
        ),
    ];
    for (name, events, groups) in cases {
        let mut person = json!({"id": "u1"});
        for (event_type, data, time) in events {
            person = merge(Some(&person), event_type, &data, time);
        }
        assert_eq!(person["profile"]["groups"], groups, "{name}");
    }
}

#[test]
fn at_one_event_time_a_removal_outranks_any_other_status() {
    let joiner = json!({"user": {"id": "u1", "profile": {"status": "active"}}});
    let leaver = json!({"user": {"id": "u1"}});
    // (first event, second event, time of the second, status after both)
    let cases = [
        (
            (CREATED, &joiner),
            ("x.iam.user.terminated.v1", &leaver),
            100,
            "terminated",
        ),
        (
            ("x.iam.user.terminated.v1", &leaver),
            (CREATED, &joiner),
            100,
            "terminated",
        ),
        (
            ("x.iam.user.disabled.v1", &leaver),
            ("x.iam.user.enabled.v1", &leaver),
            100,
            "disabled",
        ),
        (
            ("x.iam.user.terminated.v1", &leaver),
            (CREATED, &joiner),
            101,
            "active",
        ),
        (
            ("x.iam.user.disabled.v1", &leaver),
            ("x.iam.user.terminated.v1", &leaver),
            100,
            "terminated",
        ),
    ];
    for ((first_type, first), (second_type, second), time, expected) in cases {
        let person = merge(
            Some(&merge(None, first_type, first, 100)),
            second_type,
            second,
            time,
        );

        assert_eq!(
            person["profile"]["status"],
            json!(expected),
            "{first_type} then {second_type} at {time}"
        );
    }
}

#[test]
fn a_rehire_or_re_enable_without_a_status_makes_the_person_active_again() {
    let left = merge(
        Some(&merge(
            None,
            CREATED,
            &json!({"snapshot": "full", "user": {"id": "u1", "profile": {"status": "active"}}}),
            100,
        )),
        "x.iam.user.terminated.v1",
        &json!({"user": {"id": "u1", "profile": {"end_date": "2026-04-30", "end_at": "2026-04-30T22:00:00Z"}}}),
        200,
    );
    let event = |lifecycle: &str, profile: Value| {
        json!({"lifecycle": lifecycle, "snapshot": "partial",
            "user": {"id": "u1", "profile": profile}})
    };
    // (case, type, data, time, status after it, end_date after it, end_at after it)
    let cases = [
        (
            "rehire, no status",
            CREATED,
            event("rehire", json!({"title": "Engineer"})),
            300,
            json!("active"),
            Value::Null,
            Value::Null,
        ),
        (
            "rehire with its own status",
            CREATED,
            event("rehire", json!({"status": "pending"})),
            300,
            json!("pending"),
            Value::Null,
            Value::Null,
        ),
        (
            "rehire with a new end",
            CREATED,
            event("rehire", json!({"end_date": "2027-06-30"})),
            300,
            json!("active"),
            json!("2027-06-30"),
            Value::Null,
        ),
        (
            "rehire older than the leaver",
            CREATED,
            event("rehire", json!({"title": "Engineer"})),
            150,
            json!("terminated"),
            json!("2026-04-30"),
            json!("2026-04-30T22:00:00Z"),
        ),
        (
            "re-enable by lifecycle",
            UPDATED,
            event("enable", json!({})),
            300,
            json!("active"),
            json!("2026-04-30"),
            json!("2026-04-30T22:00:00Z"),
        ),
        (
            "joiner, no status",
            CREATED,
            event("joiner", json!({"title": "Engineer"})),
            300,
            json!("terminated"),
            json!("2026-04-30"),
            json!("2026-04-30T22:00:00Z"),
        ),
    ];

    for (name, event_type, data, time, status, end_date, end_at) in cases {
        let person = merge(Some(&left), event_type, &data, time);

        let profile = &person["profile"];
        assert_eq!(
            [&profile["status"], &profile["end_date"], &profile["end_at"]],
            [&status, &end_date, &end_at],
            "{name}"
        );
    }
}
