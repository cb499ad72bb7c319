use serde_json::{json, Value};

use super::*;
use crate::scim::{error::ScimType, schema::ResourceType};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "ext-1",
        "userName": "Bjensen@example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        ENTERPRISE: {
            "department": "Tour Operations",
            "employeeNumber": "701984",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        },
        "groups": [{"value": "g1", "display": "Sales"}],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"3\""
        }
    })
}

fn group() -> Value {
    json!({
        "id": "g1",
        "displayName": "Sales",
        "members": [{"value": "u1", "type": "User"}, {"value": "u2", "display": "Ann"}]
    })
}

fn verdict(resource_type: ResourceType, resource: &Value, text: &str) -> Result<bool, ScimError> {
    let filter = Filter::parse(text)?;
    filter.check(Scope::Resource(resource_type))?;
    Ok(filter.matches(Scope::Resource(resource_type), resource))
}

#[test]
fn user_filters_match_as_rfc_7644_says() {
    let cases: &[(&str, bool)] = &[
        (r#"userName eq "bjensen@example.com""#, true),
        (r#"USERNAME EQ "BJENSEN@EXAMPLE.COM""#, true),
        (r#"userName eq "other""#, false),
        (r#"userName ne "other""#, true),
        (r#"userName ne "BJENSEN@example.com""#, false),
        (r#"userName co "jensen""#, true),
        (r#"userName sw "bj""#, true),
        (r#"userName ew ".COM""#, true),
        (r#"userName sw "x""#, false),
        (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
        (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
        (r#"externalId eq "EXT-1""#, false),
        (r#"externalId eq "ext-1""#, true),
        (r#"name.familyName co "ens""#, true),
        (r#"name.FAMILYNAME eq "jensen""#, true),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara""#,
            true,
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "B""#,
            true,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations""#,
            true,
        ),
        (
            r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:employeeNumber eq "701984""#,
            true,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
            true,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
            true,
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"]"#,
            true,
        ),
        (
            r#"emails[type eq "home" and value co "@example.com"]"#,
            false,
        ),
        (r#"emails[TYPE EQ "Work"]"#, true),
        (r#"emails[not (type eq "work")]"#, true),
        (r#"emails[type eq "other"]"#, false),
        (r#"emails co "jensen.org""#, true),
        (r#"emails.type eq "home""#, true),
        (r#"emails.primary eq true"#, true),
        (r#"emails pr"#, true),
        (r#"nickName pr"#, false),
        (r#"title pr"#, true),
        (r#"active eq true"#, true),
        (r#"active eq "True""#, true),
        (r#"active eq false"#, false),
        (r#"active ne false"#, true),
        (r#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true),
        (r#"meta.lastModified gt "2011-05-13T06:42:34+02:00""#, false),
        (r#"meta.lastModified ge "2011-05-13T06:42:34+02:00""#, true),
        (r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, true),
        (r#"meta.created lt "2011-01-01T00:00:00Z""#, true),
        (r#"meta.created le "2010-01-23T04:56:21Z""#, false),
        (r#"meta.lastModified sw "2011-05""#, true),
        (r#"meta.resourceType eq "User""#, true),
        (r#"title pr and userType eq "Employee""#, true),
        (r#"title pr and userType eq "Intern""#, false),
        (r#"title pr or userType eq "Intern""#, true),
        (r#"not (userName eq "x")"#, true),
        (r#"not(userName eq "bjensen@example.com")"#, false),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            true,
        ),
        (r#"userName eq "x" and title pr or active eq true"#, true),
        (r#"userName eq "x" and (title pr or active eq true)"#, false),
        (r#"userName eq "x" or title pr and nickName pr"#, false),
        (r#"userName eq "x" OR title pr AND NOT (nickName pr)"#, true),
        (r#"groups.value eq "g1""#, true),
        (r#"groups.display eq "sales""#, true),
        (r#"groups[display eq "Sales"]"#, true),
        (r#"nickName eq null"#, true),
        (r#"title eq null"#, false),
        (r#"title ne null"#, true),
        (r#"displayName gt "A""#, true),
        (r#"displayName lt "A""#, false),
        (r#"displayName le "babs jensen""#, true),
        (
            r#"userName eq "bjensen@example.com" and not (emails[type eq "work" and primary eq false])"#,
            true,
        ),
        ("userName\teq\t\"bjensen@example.com\"", true),
        (r#"title eq "Tour \"Guide\"""#, false),
        (r#"title eq "Tour\u0020Guide""#, true),
    ];
    let resource = user();
    for (text, expected) in cases {
        assert_eq!(
            verdict(ResourceType::User, &resource, text),
            Ok(*expected),
            "{text}"
        );
    }
    assert_eq!(cases.len(), 67);
}

#[test]
fn group_filters_match_members() {
    let cases: &[(&str, bool)] = &[
        (r#"displayName eq "sales""#, true),
        (r#"members[value eq "u1"]"#, true),
        (r#"members[value eq "U1"]"#, false),
        (r#"members.value eq "u2""#, true),
        (r#"members eq "u2""#, true),
        (r#"members[type eq "user" and value eq "u1"]"#, true),
        (r#"members[display eq "ann" and value eq "u1"]"#, false),
        (r#"members pr"#, true),
        (r#"externalId pr"#, false),
    ];
    let resource = group();
    for (text, expected) in cases {
        assert_eq!(
            verdict(ResourceType::Group, &resource, text),
            Ok(*expected),
            "{text}"
        );
    }
}

#[test]
fn bad_filters_are_invalid_filter() {
    let nested = format!("{}title pr{}", "(".repeat(40), ")".repeat(40));
    let long = format!("title eq \"{}\"", "a".repeat(MAX_LENGTH));
    let cases: &[&str] = &[
        "",
        "userName eq",
        r#"userName foo "x""#,
        r#"userName eq "x"#,
        r#"(userName eq "x""#,
        r#"userName eq "x")"#,
        r#"userName eq "x" and"#,
        r#"userName eq "x" userName eq "y""#,
        r#"nothing eq "x""#,
        r#"name eq "x""#,
        r#"name.nothing eq "x""#,
        "active gt true",
        r#"active co "t""#,
        r#"active eq "yes""#,
        "userName eq 5",
        "userName eq nul",
        "userName gt null",
        r#"meta.created gt "yesterday""#,
        r#"userName[value eq "x"]"#,
        r#"emails[nothing eq "x"]"#,
        r#"emails[value.x eq "x"]"#,
        r#"emails[type eq "work""#,
        r#"password eq "x""#,
        r#"urn:example:other:attr eq "x""#,
        r#"x509Certificates.value gt "a""#,
        r#"1userName eq "x""#,
        r#"name.familyName.x eq "x""#,
        r#"userName eq "\x""#,
        "[",
        "not",
        &nested,
        &long,
    ];
    for text in cases {
        let error = verdict(ResourceType::User, &user(), text).unwrap_err();
        assert_eq!(error.status, 400, "{text}");
        assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{text}");
    }
    assert_eq!(cases.len(), 32);
}

#[test]
fn errors_never_echo_the_values_compared() {
    let texts = [
        r#"userName eq "secret.person@example.com" and"#,
        r#"userName zz "secret.person@example.com""#,
        r#"nothing eq "secret.person@example.com""#,
    ];
    for text in texts {
        let error = verdict(ResourceType::User, &user(), text).unwrap_err();
        assert!(!error.detail.contains("secret"), "{}", error.detail);
    }
}

#[test]
fn the_tree_keeps_precedence_and_value_paths() {
    let path = |name: &str| AttrPath {
        urn: None,
        name: name.into(),
        sub: None,
    };
    let filter = Filter::parse(r#"a pr or b pr and emails[type eq "work"]"#).unwrap();

    assert_eq!(
        filter,
        Filter::Or(
            Box::new(Filter::Present(path("a"))),
            Box::new(Filter::And(
                Box::new(Filter::Present(path("b"))),
                Box::new(Filter::ValuePath {
                    path: path("emails"),
                    filter: Box::new(Filter::Compare {
                        path: path("type"),
                        op: Op::Eq,
                        value: Literal::String("work".into()),
                    }),
                }),
            )),
        )
    );
}
