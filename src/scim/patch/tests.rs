use serde_json::{json, Value};

use super::*;
use crate::scim::error::ScimType;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn user() -> Value {
    json!({
        "schemas": [CORE, ENTERPRISE],
        "userName": "ann",
        "active": true,
        "name": {"givenName": "Ann"},
        "emails": [{"value": "a@work", "type": "work", "primary": true}],
        ENTERPRISE: {"department": "Sales", "costCenter": "C1"}
    })
}

fn group() -> Value {
    json!({
        "schemas": [GROUP],
        "displayName": "Sales",
        "members": [{"value": "u1"}, {"value": "u2", "display": "Bo"}]
    })
}

fn patched(resource_type: ResourceType, start: Value, ops: Value) -> Result<Value, ScimError> {
    let body = json!({"schemas": [PATCH_OP], "Operations": ops});
    let operations = operations(&body)?;
    let mut resource = start;
    apply(resource_type, &mut resource, &operations)?;
    Ok(resource)
}

/// The user after `ops`, with `change` applied to the starting user as the expectation.
fn expect_user(ops: Value, change: impl FnOnce(&mut Value)) -> (Value, Result<Value, ScimError>) {
    let mut expected = user();
    change(&mut expected);
    (expected, patched(ResourceType::User, user(), ops))
}

#[test]
fn user_patches_as_real_clients_send_them() {
    let cases = vec![
        expect_user(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            |u| u["active"] = json!(false),
        ),
        expect_user(
            json!([{"op": "replace", "value": {"active": false}}]),
            |u| u["active"] = json!(false),
        ),
        expect_user(
            json!([{"op": "Add", "value": {"name.familyName": "Lee", format!("{ENTERPRISE}:department"): "Ops", "NICKNAME": "A", "schemas": [CORE]}}]),
            |u| {
                u["name"]["familyName"] = json!("Lee");
                u[ENTERPRISE]["department"] = json!("Ops");
                u["nickName"] = json!("A");
            },
        ),
        expect_user(
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@work"}]),
            |u| u["emails"][0]["value"] = json!("new@work"),
        ),
        expect_user(
            json!([{"op": "Add", "path": "emails[type eq \"home\"].value", "value": "a@home"}]),
            |u| u["emails"] = json!([{"value": "a@work", "type": "work", "primary": true}, {"type": "home", "value": "a@home"}]),
        ),
        expect_user(
            json!([{"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555"}]),
            |u| u["phoneNumbers"] = json!([{"type": "mobile", "value": "555"}]),
        ),
        expect_user(
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
            |u| {
                u.as_object_mut().unwrap().remove("emails");
            },
        ),
        expect_user(
            json!([{"op": "add", "path": "emails", "value": [{"value": "b@x", "primary": "True"}]}]),
            |u| u["emails"] = json!([{"value": "a@work", "type": "work", "primary": false}, {"value": "b@x", "primary": true}]),
        ),
        expect_user(
            json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "m1"}]),
            |u| u[ENTERPRISE]["manager"] = json!({"value": "m1"}),
        ),
        expect_user(
            json!([{"op": "add", "path": ENTERPRISE, "value": {"department": "X", "employeeNumber": "9"}}]),
            |u| {
                u[ENTERPRISE] =
                    json!({"department": "X", "costCenter": "C1", "employeeNumber": "9"})
            },
        ),
        expect_user(
            json!([{"op": "replace", "path": ENTERPRISE, "value": {"schemas": [ENTERPRISE], "division": "D"}}]),
            |u| u[ENTERPRISE]["division"] = json!("D"),
        ),
        expect_user(json!([{"op": "remove", "path": ENTERPRISE}]), |u| {
            u.as_object_mut().unwrap().remove(ENTERPRISE);
            u["schemas"] = json!([CORE]);
        }),
        expect_user(json!([{"op": "remove", "path": "name.givenName"}]), |u| {
            u.as_object_mut().unwrap().remove("name");
        }),
        expect_user(
            json!([{"op": "replace", "path": "name", "value": {"familyName": "Lee"}}]),
            |u| u["name"] = json!({"givenName": "Ann", "familyName": "Lee"}),
        ),
        expect_user(
            json!([{"op": "replace", "path": "emails", "value": [{"value": "c@x"}]}]),
            |u| u["emails"] = json!([{"value": "c@x"}]),
        ),
        expect_user(
            json!([{"op": "remove", "path": "emails[value eq \"nobody\"]"}]),
            |_| {},
        ),
        expect_user(json!([{"op": "remove", "path": "nickName"}]), |_| {}),
        expect_user(
            json!([{"op": "add", "path": "userName", "value": "bob"}]),
            |u| u["userName"] = json!("bob"),
        ),
        expect_user(
            json!([{"op": "Replace", "path": format!("{CORE}:displayName"), "value": "Ann L"}]),
            |u| u["displayName"] = json!("Ann L"),
        ),
        expect_user(
            json!([{"op": "add", "path": "title", "value": "Boss"}, {"op": "remove", "path": "TITLE"}]),
            |_| {},
        ),
        expect_user(
            json!([{"op": "remove", "path": format!("{ENTERPRISE}:department")}]),
            |u| u[ENTERPRISE] = json!({"costCenter": "C1"}),
        ),
        expect_user(
            json!([{"op": "add", "path": "emails[type eq \"work\"].primary", "value": "false"}]),
            |u| u["emails"][0]["primary"] = json!(false),
        ),
        expect_user(
            json!([{"Op": "replace", "Path": "title", "Value": "Boss"}]),
            |u| u["title"] = json!("Boss"),
        ),
        expect_user(
            json!([{"op": "replace", "path": "title", "value": null}]),
            |_| {},
        ),
        expect_user(
            json!([{"op": "replace", "path": "password", "value": "hunter2"}]),
            |_| {},
        ),
        expect_user(
            json!([{"op": "add", "path": "emails[type eq \"work\"]", "value": {"display": "Work"}}]),
            |u| u["emails"][0]["display"] = json!("Work"),
        ),
    ];
    let count = cases.len();
    for (index, (expected, got)) in cases.into_iter().enumerate() {
        assert_eq!(got, Ok(expected), "case {index}");
    }
    assert_eq!(count, 26);
}

#[test]
fn refused_user_patches_say_why() {
    let cases = [
        (json!([{"op": "remove"}]), ScimType::NoTarget),
        (
            json!([{"op": "add", "path": "groups", "value": [{"value": "g1"}]}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op": "replace", "path": "meta.version", "value": "x"}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op": "replace", "value": {"groups": []}}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op": "remove", "path": "userName"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": "nothing", "value": 1}]),
            ScimType::InvalidPath,
        ),
        (
            json!([{"op": "add", "value": {"nothing": 1}}]),
            ScimType::InvalidPath,
        ),
        (
            json!([{"op": "replace", "path": "emails[type co \"zz\"].value", "value": "x"}]),
            ScimType::NoTarget,
        ),
        (
            json!([{"op": "frob", "path": "title", "value": "x"}]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{"op": "add", "path": "title"}]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{"op": "add", "value": "x"}]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{"op": "add", "path": 5, "value": "x"}]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{"op": "add", "path": "active", "value": "maybe"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": "emails.value", "value": "x"}]),
            ScimType::InvalidPath,
        ),
        (
            json!([{"op": "add", "path": ENTERPRISE, "value": "x"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": ENTERPRISE, "value": {"shoeSize": 4}}]),
            ScimType::InvalidPath,
        ),
        (json!([]), ScimType::InvalidSyntax),
        (json!("add"), ScimType::InvalidSyntax),
    ];
    for (ops, scim_type) in cases {
        let error = patched(ResourceType::User, user(), ops.clone()).unwrap_err();
        assert_eq!(error.scim_type, Some(scim_type), "{ops}: {}", error.detail);
    }

    let wrong_schema =
        json!({"schemas": [CORE], "Operations": [{"op": "add", "path": "title", "value": "x"}]});
    assert_eq!(
        operations(&wrong_schema).unwrap_err().scim_type,
        Some(ScimType::InvalidSyntax)
    );
    let without_schemas = json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]});
    assert_eq!(operations(&without_schemas).unwrap().len(), 1);
}

#[test]
fn group_member_patches() {
    let cases = [
        (
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}]),
            json!([{"value": "u2", "display": "Bo"}]),
        ),
        (
            json!([{"op": "remove", "path": "members[value eq \"u2\"]"}]),
            json!([{"value": "u1"}]),
        ),
        (
            json!([{"op": "Add", "path": "members", "value": [{"value": "u3"}]}]),
            json!([{"value": "u1"}, {"value": "u2", "display": "Bo"}, {"value": "u3"}]),
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"value": "u1", "display": "Al"}]}]),
            json!([{"value": "u1", "display": "Al"}, {"value": "u2", "display": "Bo"}]),
        ),
        (
            json!([{"op": "replace", "path": "members", "value": [{"value": "u9"}]}]),
            json!([{"value": "u9"}]),
        ),
        (json!([{"op": "remove", "path": "members"}]), Value::Null),
        (
            json!([{"op": "remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
            Value::Null,
        ),
    ];
    for (ops, members) in cases {
        let group = patched(ResourceType::Group, group(), ops.clone()).unwrap();
        assert_eq!(
            group.get("members").cloned().unwrap_or(Value::Null),
            members,
            "{ops}"
        );
    }

    let renamed = patched(
        ResourceType::Group,
        group(),
        json!([{"op": "replace", "value": {"displayName": "Ops"}}]),
    )
    .unwrap();
    assert_eq!(renamed["displayName"], "Ops");

    let refused = [
        (
            json!([{"op": "replace", "path": "members[value eq \"u1\"].value", "value": "u7"}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op": "remove", "path": "displayName"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"display": "nobody"}]}]),
            ScimType::InvalidValue,
        ),
    ];
    for (ops, scim_type) in refused {
        let error = patched(ResourceType::Group, group(), ops.clone()).unwrap_err();
        assert_eq!(error.scim_type, Some(scim_type), "{ops}");
    }
}
