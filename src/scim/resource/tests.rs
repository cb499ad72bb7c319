use chrono::TimeZone;
use serde_json::{json, Value};

use super::*;
use crate::scim::error::ScimType;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

#[test]
fn input_becomes_the_canonical_stored_form() {
    let cases = [
        (
            json!({"schemas": [CORE], "USERNAME": "ann", "Active": "False", "id": "x", "meta": {}}),
            json!({"schemas": [CORE], "userName": "ann", "active": false}),
        ),
        (
            json!({"userName": "ann", "NAME": {"GivenName": "Ann", "familyname": null}}),
            json!({"schemas": [CORE], "userName": "ann", "name": {"givenName": "Ann"}}),
        ),
        (
            json!({"userName": "ann", "emails": [{"Value": "a@x", "Primary": "true", "type": "work"}, {"value": "a@x", "primary": true, "type": "work"}]}),
            json!({"schemas": [CORE], "userName": "ann", "emails": [{"value": "a@x", "primary": true, "type": "work"}]}),
        ),
        (
            json!({"userName": "ann", "emails": {"value": "a@x"}, "phoneNumbers": []}),
            json!({"schemas": [CORE], "userName": "ann", "emails": [{"value": "a@x"}]}),
        ),
        (
            json!({"userName": "ann", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "Sales", "manager": "m1"}}),
            json!({"schemas": [CORE, ENTERPRISE], "userName": "ann", ENTERPRISE: {"department": "Sales", "manager": {"value": "m1"}}}),
        ),
        (
            json!({"userName": "ann", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": "CC1"}),
            json!({"schemas": [CORE, ENTERPRISE], "userName": "ann", ENTERPRISE: {"costCenter": "CC1"}}),
        ),
        (
            json!({"userName": "ann", "urn:ietf:params:scim:schemas:core:2.0:User:title": "Boss"}),
            json!({"schemas": [CORE], "userName": "ann", "title": "Boss"}),
        ),
        (
            json!({"userName": "ann", ENTERPRISE: {"schemas": [ENTERPRISE], "manager": {"value": "m1", "displayName": "Mo"}}}),
            json!({"schemas": [CORE, ENTERPRISE], "userName": "ann", ENTERPRISE: {"manager": {"value": "m1"}}}),
        ),
        (
            json!({"userName": "ann", ENTERPRISE: {}, "password": "hunter2", "groups": [{"value": "g"}]}),
            json!({"schemas": [CORE], "userName": "ann"}),
        ),
        (
            json!({"userName": "ann", "externalId": "E1", "x509Certificates": [{"value": "TUlJ"}]}),
            json!({"schemas": [CORE], "userName": "ann", "externalId": "E1", "x509Certificates": [{"value": "TUlJ"}]}),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            normalise(ResourceType::User, &input),
            Ok(expected),
            "{input}"
        );
    }
}

#[test]
fn group_members_are_one_per_id() {
    let input = json!({
        "displayName": "Sales",
        "members": [{"value": "u1"}, {"value": "u2"}, {"value": "u1", "display": "Ann"}]
    });

    let group = normalise(ResourceType::Group, &input).unwrap();

    assert_eq!(
        group,
        json!({"schemas": [GROUP], "displayName": "Sales",
               "members": [{"value": "u1", "display": "Ann"}, {"value": "u2"}]})
    );
}

#[test]
fn bad_input_is_refused_naming_the_attribute_not_the_value() {
    let cases = [
        (json!([1]), ScimType::InvalidSyntax, "object"),
        (
            json!({"title": "x"}),
            ScimType::InvalidValue,
            "userName is required",
        ),
        (
            json!({"userName": "  "}),
            ScimType::InvalidValue,
            "userName is required",
        ),
        (
            json!({"userName": "a", "nothing": 1}),
            ScimType::InvalidSyntax,
            "nothing",
        ),
        (
            json!({"userName": "a", "name.givenName": "x"}),
            ScimType::InvalidSyntax,
            "name.givenName",
        ),
        (
            json!({"userName": "a", "urn:example:x:attr": 1}),
            ScimType::InvalidSyntax,
            "urn:example:x:attr",
        ),
        (
            json!({"userName": "a", ENTERPRISE: {"shoeSize": 4}}),
            ScimType::InvalidSyntax,
            "shoeSize",
        ),
        (
            json!({"userName": "a", ENTERPRISE: "Sales"}),
            ScimType::InvalidValue,
            ENTERPRISE,
        ),
        (
            json!({"userName": "a", "name": {"nick": "x"}}),
            ScimType::InvalidSyntax,
            "name.nick",
        ),
        (
            json!({"userName": "a", "active": "yes-secret"}),
            ScimType::InvalidValue,
            "active",
        ),
        (
            json!({"userName": "a", "title": 5}),
            ScimType::InvalidValue,
            "title",
        ),
        (
            json!({"userName": "a", "name": "secret"}),
            ScimType::InvalidValue,
            "name",
        ),
        (
            json!({"userName": "a", "emails": [{"primary": "maybe"}]}),
            ScimType::InvalidValue,
            "emails.primary",
        ),
        (
            json!({"userName": "secret@x", "emails": [{"value": 5}]}),
            ScimType::InvalidValue,
            "emails.value",
        ),
        (
            json!({"userName": "a", "password": 5}),
            ScimType::InvalidValue,
            "password",
        ),
    ];
    for (input, scim_type, named) in cases {
        let error = normalise(ResourceType::User, &input).unwrap_err();
        assert_eq!(error.scim_type, Some(scim_type), "{input}");
        assert!(error.detail.contains(named), "{input}: {}", error.detail);
        assert!(!error.detail.contains("secret"), "{}", error.detail);
    }

    let nameless = json!({"displayName": "G", "members": [{"display": "Ann"}]});
    let error = normalise(ResourceType::Group, &nameless).unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
}

fn full_user() -> Value {
    let stored = json!({
        "schemas": [CORE, ENTERPRISE],
        "userName": "ann",
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [{"value": "a@x", "type": "work"}],
        "groups": [{"value": "g1", "display": "Sales"}],
        ENTERPRISE: {"department": "Sales", "employeeNumber": "7"}
    });
    let at = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let meta = Meta {
        created: at,
        last_modified: at,
        version: 3,
    };
    render(ResourceType::User, "u1", &stored, &meta, "http://h/scim/v2")
}

#[test]
fn rendering_adds_id_meta_and_group_links() {
    let user = full_user();

    assert_eq!(user["id"], "u1");
    assert_eq!(
        user["meta"],
        json!({"resourceType": "User", "created": "2026-01-02T03:04:05.000Z",
               "lastModified": "2026-01-02T03:04:05.000Z",
               "location": "http://h/scim/v2/Users/u1", "version": "W/\"3\""})
    );
    assert_eq!(
        user["groups"],
        json!([{"value": "g1", "display": "Sales", "$ref": "http://h/scim/v2/Groups/g1", "type": "direct"}])
    );
}

#[test]
fn projections_keep_what_was_asked_and_what_is_always_returned() {
    let cases: &[(&[&str], &[&str], Value)] = &[
        (
            &["userName"],
            &[],
            json!({"schemas": [CORE, ENTERPRISE], "id": "u1", "userName": "ann"}),
        ),
        (
            &["USERNAME,name.givenName"],
            &[],
            json!({"schemas": [CORE, ENTERPRISE], "id": "u1", "userName": "ann", "name": {"givenName": "Ann"}}),
        ),
        (
            &["emails.value"],
            &[],
            json!({"schemas": [CORE, ENTERPRISE], "id": "u1", "emails": [{"value": "a@x"}]}),
        ),
        (
            &[ENTERPRISE],
            &[],
            json!({"schemas": [CORE, ENTERPRISE], "id": "u1", ENTERPRISE: {"department": "Sales", "employeeNumber": "7"}}),
        ),
        (
            &["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
            &[],
            json!({"schemas": [CORE, ENTERPRISE], "id": "u1", ENTERPRISE: {"department": "Sales"}}),
        ),
        (
            &["meta.version", "nothing", "id"],
            &[],
            json!({"schemas": [CORE, ENTERPRISE], "id": "u1", "meta": {"version": "W/\"3\""}}),
        ),
        (
            &["urn:ietf:params:scim:schemas:core:2.0:User:name"],
            &[],
            json!({"schemas": [CORE, ENTERPRISE], "id": "u1", "name": {"givenName": "Ann", "familyName": "Lee"}}),
        ),
    ];
    let user = full_user();
    for (attributes, excluded, expected) in cases {
        let projection = Projection::new(
            attributes.iter().map(|s| s.to_string()).collect(),
            excluded.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap();
        assert_eq!(
            &projection.apply(ResourceType::User, &user),
            expected,
            "{attributes:?}"
        );
    }
}

#[test]
fn exclusions_drop_what_was_named_but_never_the_id() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["emails", "meta", "id"], &["emails", "meta"]),
        (&["name.givenName"], &[]),
        (&[ENTERPRISE], &[ENTERPRISE]),
        (&["groups"], &["groups"]),
    ];
    let user = full_user();
    for (excluded, gone) in cases {
        let projection =
            Projection::new(Vec::new(), excluded.iter().map(|s| s.to_string()).collect()).unwrap();

        let out = projection.apply(ResourceType::User, &user);

        assert_eq!(out["id"], "u1");
        assert_eq!(out["userName"], "ann");
        for key in *gone {
            assert!(out.get(*key).is_none(), "{key} kept: {out}");
        }
    }
    let no_given = Projection::new(Vec::new(), vec!["name.givenName".into()]).unwrap();
    assert_eq!(
        no_given.apply(ResourceType::User, &user)["name"],
        json!({"familyName": "Lee"})
    );
    assert!(Projection::new(vec!["a".into()], vec!["b".into()]).is_err());
}

#[test]
fn schemas_name_only_what_is_served() {
    let long = format!("urn:example:{}", "x".repeat(100));
    let refused = [
        (
            ResourceType::User,
            json!([CORE, long]),
            ScimType::InvalidValue,
            &long[..64],
        ),
        (
            ResourceType::User,
            json!([CORE, GROUP]),
            ScimType::InvalidValue,
            GROUP,
        ),
        (
            ResourceType::Group,
            json!([GROUP, ENTERPRISE]),
            ScimType::InvalidValue,
            ENTERPRISE,
        ),
        (
            ResourceType::User,
            json!([ENTERPRISE]),
            ScimType::InvalidSyntax,
            CORE,
        ),
        (ResourceType::User, json!([]), ScimType::InvalidSyntax, CORE),
        (
            ResourceType::User,
            json!(CORE),
            ScimType::InvalidSyntax,
            "list",
        ),
        (
            ResourceType::User,
            json!([CORE, 5]),
            ScimType::InvalidSyntax,
            "list",
        ),
    ];
    for (resource_type, schemas, scim_type, named) in refused {
        let input = json!({"schemas": schemas, "userName": "a", "displayName": "G"});
        let error = normalise(resource_type, &input).unwrap_err();
        assert_eq!(error.scim_type, Some(scim_type), "{input}");
        assert!(error.detail.contains(named), "{input}: {}", error.detail);
        assert!(!error.detail.contains(&long[..66]), "{}", error.detail);
    }

    let served = [
        (ResourceType::User, json!({"userName": "a"})),
        (
            ResourceType::User,
            json!({"SCHEMAS": [CORE.to_uppercase(), ENTERPRISE], "userName": "a"}),
        ),
        (
            ResourceType::Group,
            json!({"schemas": [GROUP], "displayName": "G"}),
        ),
    ];
    for (resource_type, input) in served {
        assert!(normalise(resource_type, &input).is_ok(), "{input}");
    }
}
