//! Identities from IAM users: full and partial profiles, merging, and refusals.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::{Identity, IdentityError, PersonRef};

fn user(event: &str) -> Value {
    let event: Value = serde_json::from_str(event).unwrap_or_else(|error| panic!("{error}"));
    event["data"]["user"].clone()
}

fn identity(user: &Value) -> Identity {
    Identity::from_iam_user(user).unwrap_or_else(|error| panic!("{error}"))
}

fn date(text: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{e}")))
}

fn at(text: &str) -> Option<DateTime<Utc>> {
    Some(
        DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_utc(),
    )
}

#[test]
fn a_full_joiner_profile_gives_every_attribute() {
    let jane = identity(&user(crate::rules::tests::JOINER));

    assert_eq!(jane.id, "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50");
    assert_eq!(jane.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(jane.username.as_deref(), Some("jdoe"));
    assert_eq!(jane.status, "active");
    assert_eq!(jane.employment_type.as_deref(), Some("employee"));
    assert_eq!(jane.department.as_deref(), Some("Sales"));
    assert_eq!(jane.title.as_deref(), Some("Account Executive"));
    assert_eq!(jane.cost_center.as_deref(), Some("CC-4100"));
    assert_eq!(jane.groups, ["clickup-sales"]);
    assert_eq!(jane.roles, ["Sales-Base"]);
    assert_eq!(
        jane.manager.as_ref().and_then(|m| m.email.as_deref()),
        Some("priya.shah@example.com")
    );
    assert_eq!(jane.start_date, date("2026-03-02"));
    assert_eq!(jane.end_date, None);
    assert!(
        jane.present.contains("end_date"),
        "an explicit null is carried"
    );
    assert!(!jane.present.contains("end_at"));
}

#[test]
fn a_contractor_profile_gives_sponsor_end_and_custom_attributes() {
    let carlos = identity(&user(crate::rules::tests::CONTRACTOR));

    assert_eq!(
        carlos.display_name.as_deref(),
        Some("Carlos Rivera"),
        "user-level name first"
    );
    assert_eq!(carlos.company.as_deref(), Some("Northwind Consulting"));
    assert!(carlos.is_external());
    assert_eq!(
        carlos.sponsor.as_ref().and_then(|s| s.id.as_deref()),
        Some("0badc0de11224488aabbccddeeff0011")
    );
    assert_eq!(carlos.end_date, date("2026-12-31"));
    assert_eq!(carlos.end_at, at("2026-12-31T23:59:59Z"));
    assert_eq!(carlos.ends_at(), at("2026-12-31T23:59:59Z"));
    assert_eq!(carlos.groups, Vec::<String>::new());
    assert_eq!(
        carlos.custom.get("acmeSponsorApproved"),
        Some(&json!("true"))
    );
}

#[test]
fn a_mover_profile_overlays_only_what_it_carries() {
    let stored = identity(&user(crate::rules::tests::JOINER));
    let partial = identity(&user(crate::rules::tests::MOVER));
    assert_eq!(
        partial
            .present
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "cost_center",
            "department",
            "display_name",
            "email",
            "roles",
            "title",
            "username",
        ]
    );

    let moved = stored.merged_with(&partial);

    assert_eq!(moved.title.as_deref(), Some("Customer Success Manager"));
    assert_eq!(moved.department.as_deref(), Some("Customer Success"));
    assert_eq!(moved.roles, ["CS-Team"]);
    assert_eq!(
        moved.groups,
        ["clickup-sales"],
        "groups were not in the event"
    );
    assert_eq!(moved.employment_type.as_deref(), Some("employee"));
    assert_eq!(moved.manager, stored.manager);
}

#[test]
fn merging_keeps_a_stored_status_and_applies_explicit_nulls_and_custom_keys() {
    let disabled = identity(&json!({
        "id": "u-1",
        "profile": { "status": "disabled", "end_date": "2026-12-31", "custom": { "a": "1", "b": "2" } }
    }));
    let update = identity(&json!({
        "id": "u-1",
        "profile": { "title": "Lead", "end_date": null, "custom": { "a": null, "c": 3 } }
    }));

    let merged = disabled.merged_with(&update);

    assert_eq!(
        merged.status, "disabled",
        "a partial event without status keeps it"
    );
    assert_eq!(merged.title.as_deref(), Some("Lead"));
    assert_eq!(merged.end_date, None, "an explicit null clears");
    assert_eq!(
        serde_json::Value::Object(merged.custom),
        json!({ "b": "2", "c": 3 })
    );
}

#[test]
fn an_identity_built_by_hand_overlays_the_fields_that_have_values() {
    let stored = identity(&user(crate::rules::tests::JOINER));
    let newer = Identity {
        id: stored.id.clone(),
        title: Some("Director".into()),
        manager: Some(PersonRef {
            email: Some("tom.becker@example.com".into()),
            ..PersonRef::default()
        }),
        ..Identity::default()
    };

    let merged = stored.merged_with(&newer);

    assert_eq!(merged.title.as_deref(), Some("Director"));
    assert_eq!(merged.department.as_deref(), Some("Sales"));
    assert_eq!(
        merged.manager.and_then(|m| m.email).as_deref(),
        Some("tom.becker@example.com")
    );
}

#[test]
fn odd_users_are_read_leniently_or_refused_by_field() {
    let minimal = identity(&json!({ "id": "u-2", "email": "x@example.com" }));
    assert_eq!(minimal.status, "active");
    assert_eq!(minimal.present.iter().collect::<Vec<_>>(), ["email"]);

    let unnamed_group =
        identity(&json!({ "id": "u-3", "profile": { "groups": [{ "id": "cn=g" }, "plain"] } }));
    assert_eq!(unnamed_group.groups, ["cn=g", "plain"]);

    let from_profile =
        identity(&json!({ "id": "u-4", "email": null, "profile": { "email": "p@example.com" } }));
    assert_eq!(from_profile.email.as_deref(), Some("p@example.com"));

    let refusals = [
        (json!("nope"), IdentityError::NotAnObject),
        (json!({ "id": " " }), IdentityError::MissingId),
        (
            json!({ "id": "u", "profile": { "title": 7 } }),
            IdentityError::WrongType {
                field: "title",
                expected: "a string",
            },
        ),
        (
            json!({ "id": "u", "profile": { "groups": "g" } }),
            IdentityError::WrongType {
                field: "groups",
                expected: "an array",
            },
        ),
        (
            json!({ "id": "u", "profile": { "end_date": "31/12/2026" } }),
            IdentityError::InvalidDate { field: "end_date" },
        ),
        (
            json!({ "id": "u", "profile": { "end_at": "tomorrow" } }),
            IdentityError::InvalidTimestamp { field: "end_at" },
        ),
    ];
    for (user, expected) in refusals {
        assert_eq!(
            Identity::from_iam_user(&user),
            Err(expected.clone()),
            "{user}"
        );
        assert!(
            !expected.to_string().contains("31/12"),
            "errors never echo values"
        );
    }
}
