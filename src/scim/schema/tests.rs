use super::*;

#[test]
fn names_resolve_whatever_their_case_and_qualification() {
    let user = ResourceType::User;
    let cases = [
        ("userName", Some((None, "userName"))),
        ("USERNAME", Some((None, "userName"))),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            Some((None, "userName")),
        ),
        ("id", Some((None, "id"))),
        ("meta", Some((None, "meta"))),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            Some((Some(ENTERPRISE_USER.id), "department")),
        ),
        (
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Manager",
            Some((Some(ENTERPRISE_USER.id), "manager")),
        ),
        ("department", None),
        ("nothing", None),
    ];
    for (path, expected) in cases {
        let (schema, rest) = user.split_urn(path).unwrap();
        let got = user
            .resolve(schema, rest)
            .map(|r| (r.extension, r.attribute.name));
        assert_eq!(got, expected, "{path}");
    }
    assert!(user.split_urn("urn:example:other:attr").is_none());
    assert!(ResourceType::Group
        .split_urn("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
        .is_none());
}

#[test]
fn schemas_render_their_attributes() {
    let user = USER.render("http://x/scim/v2");

    let user_name = &user["attributes"][0];

    assert_eq!(user["id"], USER.id);
    assert_eq!(user_name["name"], "userName");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    let emails = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "emails")
        .unwrap();
    assert_eq!(emails["multiValued"], true);
    assert_eq!(emails["subAttributes"][0]["name"], "value");
    assert_eq!(
        user["meta"]["location"],
        format!("http://x/scim/v2/Schemas/{}", USER.id)
    );
}
