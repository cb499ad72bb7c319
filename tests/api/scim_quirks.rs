//! What real SCIM clients send (Entra ID, Okta, OpenText Identity Manager's driver) is taken
//! as they mean it: one row per shape, each on a fresh User or Group.

use serde_json::{json, Value};

use crate::{
    helpers::Options,
    scim_kit::{published, spawn_scim, Scim, ENTERPRISE},
};

/// A PATCH as a client sends it, and what the resource holds afterwards (JSON pointer, value).
struct Quirk {
    client: &'static str,
    operations: Value,
    expect: Vec<(&'static str, Value)>,
}

#[tokio::test]
async fn client_patch_shapes_on_users() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    let manager = scim.user(json!({"userName": "boss@acme.com"})).await;
    let manager_id = manager["id"].as_str().unwrap().to_owned();
    let department = format!("{ENTERPRISE}:department");
    let manager_path = format!("{ENTERPRISE}:manager");

    let quirks = [
        Quirk {
            client: "Entra: op in title case, a boolean as a string",
            operations: json!([{"op": "Replace", "path": "active", "value": "False"}]),
            expect: vec![("/active", json!(false))],
        },
        Quirk {
            client: "Okta: replace without a path",
            operations: json!([{"op": "replace", "value": {"active": false}}]),
            expect: vec![("/active", json!(false))],
        },
        Quirk {
            client: "Entra: add without a path, dotted and URN keys",
            operations: json!([{"op": "Add", "value": {"name.givenName": "Ann", department.as_str(): "Ops", "displayName": "Ann L"}}]),
            expect: vec![
                ("/name/givenName", json!("Ann")),
                (
                    "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department",
                    json!("Ops"),
                ),
                ("/displayName", json!("Ann L")),
            ],
        },
        Quirk {
            client: "Entra: a work email by value filter",
            operations: json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@acme.com"}]),
            expect: vec![(
                "/emails/0",
                json!({"value": "new@acme.com", "type": "work", "primary": true}),
            )],
        },
        Quirk {
            client: "Entra: a mobile number nobody had yet",
            operations: json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}]),
            expect: vec![(
                "/phoneNumbers",
                json!([{"type": "mobile", "value": "+1 555 0100"}]),
            )],
        },
        Quirk {
            client: "Entra: the manager as a plain id",
            operations: json!([{"op": "Add", "path": manager_path.as_str(), "value": manager_id.as_str()}]),
            expect: vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                json!({"value": manager_id.as_str()}),
            )],
        },
        Quirk {
            client: "Identity Manager: several operations, names in another case",
            operations: json!([
                {"op": "add", "path": "TITLE", "value": "Lead"},
                {"op": "replace", "path": "Name.FamilyName", "value": "Lee"},
                {"op": "remove", "path": "emails[type eq \"work\"]"}
            ]),
            expect: vec![
                ("/title", json!("Lead")),
                ("/name/familyName", json!("Lee")),
                ("/emails", Value::Null),
            ],
        },
    ];

    for (index, quirk) in quirks.iter().enumerate() {
        let user = scim
            .user(
                json!({"userName": format!("user{index}@acme.com"), "active": true,
                         "emails": [{"value": format!("old{index}@acme.com"), "type": "work", "primary": true}]}),
            )
            .await;
        let path = format!("/Users/{}", user["id"].as_str().unwrap());

        let answer = scim.patch(&path, quirk.operations.clone()).await;

        assert_eq!(answer.status, 200, "{}: {}", quirk.client, answer.body);
        let stored = scim.get(&path).await.body;
        for (pointer, value) in &quirk.expect {
            let got = stored.pointer(pointer).cloned().unwrap_or(Value::Null);
            assert_eq!(&got, value, "{}: {pointer}", quirk.client);
        }
    }

    let disables = published(&app)
        .await
        .iter()
        .filter(|key| *key == "iam.user.disabled")
        .count();
    assert_eq!(disables, 2, "\"active\": \"False\" and false both disable");
    app.stop().await;
}

#[tokio::test]
async fn client_member_shapes_on_groups() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cy"] {
        let user = scim
            .user(json!({"userName": format!("{name}@acme.com")}))
            .await;
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    let (ann, bob, cy) = (&ids[0], &ids[1], &ids[2]);

    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "Entra: remove members by a value list",
            json!([{"op": "Remove", "path": "members", "value": [{"value": ann}]}]),
            json!([{"value": bob, "type": "User"}]),
        ),
        (
            "Okta: remove a member by value filter",
            json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]),
            json!([{"value": ann, "type": "User"}]),
        ),
        (
            "Entra: add members, one already there",
            json!([{"op": "Add", "path": "members", "value": [{"value": bob}, {"value": cy}]}]),
            json!([{"value": ann, "type": "User"}, {"value": bob, "type": "User"},
                   {"value": cy, "type": "User"}]),
        ),
        (
            "Okta: replace the member list and the name without a path",
            json!([{"op": "replace", "value": {"displayName": "Renamed", "members": [{"value": cy, "display": "Cy"}]}}]),
            json!([{"value": cy, "display": "Cy", "type": "User"}]),
        ),
    ];
    for (index, (client, operations, members)) in cases.into_iter().enumerate() {
        let group = scim
            .group(json!({"displayName": format!("g{index}"), "members": [{"value": ann}, {"value": bob}]}))
            .await;

        let answer = scim
            .patch(
                &format!("/Groups/{}", group["id"].as_str().unwrap()),
                operations,
            )
            .await;

        assert_eq!(answer.status, 200, "{client}: {}", answer.body);
        assert_eq!(answer.body["members"], members, "{client}");
    }
    app.stop().await;
}
