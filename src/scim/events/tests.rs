use std::path::Path;

use chrono::TimeZone;
use serde_json::{json, Value};

use super::*;
use crate::rules::{Identity, RuleSet};

fn source() -> Source<'static> {
    Source {
        client: "okta",
        request_id: "req-1",
        now: Utc.with_ymd_and_hms(2026, 12, 5, 9, 0, 0).unwrap(),
    }
}

fn schema() -> IamSchema {
    IamSchema::compile().unwrap()
}

/// Jane Doe of the IAM fixture 01, as a SCIM client would send her.
fn jane() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", profile::ENTERPRISE],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "E10231",
        "userName": "jdoe",
        "name": { "givenName": "Jane", "familyName": "Doe" },
        "displayName": "Jane Doe",
        "title": "Account Executive",
        "userType": "Employee",
        "active": true,
        "emails": [
            { "value": "jane.home@example.org", "type": "home" },
            { "value": "jane.doe@example.com", "type": "work", "primary": true }
        ],
        "phoneNumbers": [{ "value": "+1 555 0100", "type": "work" }],
        "addresses": [{ "locality": "Boston", "type": "work" }],
        "groups": [{ "value": "g-1", "display": "clickup-sales" }],
        "roles": [{ "value": "Sales-Base", "display": "Sales base role" }],
        "locale": "en-US",
        "timezone": "America/New_York",
        profile::ENTERPRISE: {
            "employeeNumber": "E10231", "costCenter": "CC-4100", "organization": "Acme Corp",
            "department": "Sales", "manager": { "value": "0badc0de11224488aabbccddeeff0011" }
        }
    })
}

fn with(mut user: Value, pointer: &str, value: Value) -> Value {
    *user.pointer_mut(pointer).unwrap() = value;
    user
}

fn data(envelope: &Envelope) -> Value {
    serde_json::from_str(envelope.data.get()).unwrap()
}

/// (type, routing key, lifecycle, subject) of each event.
fn summary(envelopes: &[Envelope]) -> Vec<(String, String, String, String)> {
    envelopes
        .iter()
        .map(|e| {
            (
                e.event_type.clone(),
                e.routingkey.clone(),
                data(e)["lifecycle"].as_str().unwrap().to_string(),
                e.subject.clone().unwrap(),
            )
        })
        .collect()
}

/// A table row: name, change, and the (type, second, third) fields of each event expected.
type Case<'a> = (&'a str, Change<'a>, Vec<(&'a str, &'a str, &'a str)>);

const JANE: &str = "user:2819c223-7f76-453a-919d-413861904646";

#[test]
fn user_changes_become_lifecycle_events() {
    let jane = jane();
    let off = with(jane.clone(), "/active", json!(false));
    let moved = with(jane.clone(), "/title", json!("Customer Success Manager"));
    let renamed = with(jane.clone(), "/displayName", json!("Jane Q. Doe"));
    let nickname = with(jane.clone(), "/userName", json!("jdoe"));
    let cases: Vec<Case> = vec![
        (
            "created",
            Change::UserCreated { new: &jane },
            vec![("user.created", "iam.user.created", "joiner")],
        ),
        (
            "deactivated",
            Change::UserReplaced {
                old: &jane,
                new: &off,
            },
            vec![("user.disabled", "iam.user.disabled", "disable")],
        ),
        (
            "reactivated",
            Change::UserReplaced {
                old: &off,
                new: &jane,
            },
            vec![("user.enabled", "iam.user.enabled", "enable")],
        ),
        (
            "title changed",
            Change::UserReplaced {
                old: &jane,
                new: &moved,
            },
            vec![("user.updated", "iam.user.updated", "mover")],
        ),
        (
            "display name changed",
            Change::UserReplaced {
                old: &jane,
                new: &renamed,
            },
            vec![("user.updated", "iam.user.updated", "update")],
        ),
        (
            "nothing rules read changed",
            Change::UserReplaced {
                old: &jane,
                new: &nickname,
            },
            vec![],
        ),
        (
            "deleted",
            Change::UserDeleted { old: &jane },
            vec![("user.terminated", "iam.user.terminated", "leaver")],
        ),
    ];

    for (name, change, expected) in cases {
        let got = summary(&envelopes(&schema(), &change, &source()).unwrap());
        let expected: Vec<_> = expected
            .iter()
            .map(|(kind, key, lifecycle)| {
                (
                    format!("com.example.iam.{kind}.v1"),
                    key.to_string(),
                    lifecycle.to_string(),
                    JANE.to_string(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn events_carry_the_scim_source_and_ids_derived_from_the_request() {
    let old = jane();
    let new = with(with(jane(), "/title", json!("CSM")), "/active", json!(true));
    let sealed = envelopes(
        &schema(),
        &Change::UserReplaced {
            old: &old,
            new: &new,
        },
        &source(),
    )
    .unwrap();

    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0].id, "req-1:0");
    assert_eq!(sealed[0].source, "urn:scim:client:okta");
    assert_eq!(sealed[0].correlationid, "scim:req-1");
    assert_eq!(sealed[0].dedup_key(), "urn:scim:client:okta req-1:0");
    let data = data(&sealed[0]);
    assert_eq!(data["categories"], json!(["title"]));
    assert_eq!(
        data["changes"],
        json!([{ "attribute": "title", "op": "set" }])
    );
}

#[test]
fn a_scim_user_is_the_same_identity_as_the_iam_fixture_person() {
    let fixture: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/iam/01-joiner-employee.json"
    ))
    .unwrap();
    let from_iam = Identity::from_iam_user(&fixture["data"]["user"]).unwrap();
    let sealed = envelopes(&schema(), &Change::UserCreated { new: &jane() }, &source()).unwrap();
    let from_scim = Identity::from_iam_user(&data(&sealed[0])["user"]).unwrap();

    // Only the canonical id differs: the SCIM server assigns its own.
    let cases = [
        ("email", from_iam.email.clone(), from_scim.email.clone()),
        (
            "username",
            from_iam.username.clone(),
            from_scim.username.clone(),
        ),
        (
            "display_name",
            from_iam.display_name.clone(),
            from_scim.display_name.clone(),
        ),
        (
            "department",
            from_iam.department.clone(),
            from_scim.department.clone(),
        ),
        ("title", from_iam.title.clone(), from_scim.title.clone()),
        (
            "location",
            from_iam.location.clone(),
            from_scim.location.clone(),
        ),
        (
            "employment_type",
            from_iam.employment_type.clone(),
            from_scim.employment_type.clone(),
        ),
        (
            "cost_center",
            from_iam.cost_center.clone(),
            from_scim.cost_center.clone(),
        ),
        (
            "organization",
            from_iam.organization.clone(),
            from_scim.organization.clone(),
        ),
        (
            "status",
            Some(from_iam.status.clone()),
            Some(from_scim.status.clone()),
        ),
        (
            "groups",
            Some(from_iam.groups.join(",")),
            Some(from_scim.groups.join(",")),
        ),
        (
            "roles",
            Some(from_iam.roles.join(",")),
            Some(from_scim.roles.join(",")),
        ),
    ];
    for (field, iam, scim) in cases {
        assert_eq!(scim, iam, "{field}");
    }

    let rules = RuleSet::load_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("rules")
            .as_path(),
    )
    .unwrap();
    let now = source().now;
    let desired = |identity: &Identity| {
        let desired = rules.desired(identity, now).unwrap();
        (desired.role, desired.groups, desired.shares)
    };
    assert_eq!(desired(&from_scim), desired(&from_iam));
    assert!(
        desired(&from_scim).0.is_some(),
        "the shipped rules give Jane an account"
    );
}

#[test]
fn group_membership_changes_become_one_event_per_member() {
    let group = |name: &str, members: &[&str]| {
        let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
        json!({ "id": "g-1", "displayName": name, "members": members })
    };
    let mut nested = group("Sales", &["u-1"]);
    nested["members"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "value": "g-2", "type": "Group" }));
    let before = group("Sales", &["u-1", "u-2"]);
    let after = group("Sales", &["u-2", "u-3"]);
    let renamed = group("Sales EMEA", &["u-2", "u-3"]);
    let empty = group("Sales", &[]);
    let emptied = group("X", &[]);

    let cases: Vec<Case> = vec![
        (
            "created, nested group skipped",
            Change::GroupCreated { new: &nested },
            vec![("membership.added", "u-1", "Sales")],
        ),
        (
            "one in, one out",
            Change::GroupReplaced {
                old: &before,
                new: &after,
            },
            vec![
                ("membership.removed", "u-1", "Sales"),
                ("membership.added", "u-3", "Sales"),
            ],
        ),
        (
            "renamed, members stay",
            Change::GroupReplaced {
                old: &after,
                new: &renamed,
            },
            vec![
                ("membership.added", "u-2", "Sales EMEA"),
                ("membership.added", "u-3", "Sales EMEA"),
            ],
        ),
        (
            "renamed and emptied",
            Change::GroupReplaced {
                old: &after,
                new: &emptied,
            },
            vec![
                ("membership.removed", "u-2", "X"),
                ("membership.removed", "u-3", "X"),
            ],
        ),
        (
            "nothing changed",
            Change::GroupReplaced {
                old: &empty,
                new: &empty,
            },
            vec![],
        ),
        (
            "deleted",
            Change::GroupDeleted { old: &before },
            vec![
                ("membership.removed", "u-1", "Sales"),
                ("membership.removed", "u-2", "Sales"),
            ],
        ),
    ];

    for (name, change, expected) in cases {
        let sealed = envelopes(&schema(), &change, &source()).unwrap();
        let got: Vec<(String, String, String)> = sealed
            .iter()
            .map(|e| {
                let data = data(e);
                (
                    e.event_type.clone(),
                    e.subject.clone().unwrap(),
                    data["group"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(kind, user, group)| {
                (
                    format!("com.example.iam.{kind}.v1"),
                    format!("user:{user}"),
                    group.to_string(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{name}");
        let ids: Vec<&str> = sealed.iter().map(|e| e.id.as_str()).collect();
        let numbered: Vec<String> = (0..sealed.len()).map(|i| format!("req-1:{i}")).collect();
        assert_eq!(ids, numbered, "{name}: ids");
    }
}

#[test]
fn resources_that_cannot_be_identities_are_blamed_on_their_attribute() {
    let cases = [
        (
            "not an e-mail address",
            with(jane(), "/emails/1/value", json!("not-an-address")),
            "emails",
        ),
        ("no id", with(jane(), "/id", json!("")), "id"),
    ];
    for (name, user, attribute) in cases {
        let error = envelopes(&schema(), &Change::UserCreated { new: &user }, &source())
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        match error {
            EventError::Invalid {
                attribute: got,
                detail,
            } => {
                assert_eq!(got, attribute, "{name}");
                assert!(
                    !detail.contains("not-an-address"),
                    "{name}: the value is echoed"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn user_types_map_to_employment_types() {
    let cases = [
        ("Employee", "employee"),
        ("CONTRACTOR", "contractor"),
        (" vendor ", "vendor"),
        ("Agency", "unknown"),
    ];
    for (user_type, expected) in cases {
        let user = user_of(&with(jane(), "/userType", json!(user_type))).unwrap();
        assert_eq!(
            user.json["profile"]["employment_type"],
            json!(expected),
            "{user_type}"
        );
    }
}

#[test]
fn a_manager_given_as_a_plain_string_is_read() {
    let user = with(
        jane(),
        &format!("/{}/manager", profile::ENTERPRISE.replace('/', "~1")),
        json!("m-7"),
    );
    let read = user_of(&user).unwrap();
    assert_eq!(read.json["profile"]["manager"]["id"], json!("m-7"));
}
