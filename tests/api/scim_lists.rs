//! SCIM lists: filters, pages, `.search` and projections, over real stored resources.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::Options,
    scim_kit::{spawn_scim, Scim, ENTERPRISE},
};

/// The userNames (or displayNames) of a list answer, in order.
fn names(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.get("userName")
                .or_else(|| r.get("displayName"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn query(filter: &str) -> String {
    format!(
        "/Users?filter={}",
        url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
    )
}

#[tokio::test]
async fn filters_select_users_as_rfc_7644_says() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    scim.user(json!({"userName": "Ann.Lee@acme.com", "active": true, "title": "Lead",
                     "name": {"familyName": "Lee"},
                     "emails": [{"value": "ann@acme.com", "type": "work"}, {"value": "ann@home.org", "type": "home"}],
                     ENTERPRISE: {"department": "Sales"}}))
        .await;
    let bob = scim
        .user(json!({"userName": "bob@acme.com", "active": "False",
                     "emails": [{"value": "bob@home.org", "type": "home"}],
                     ENTERPRISE: {"department": "Ops"}}))
        .await;
    scim.user(
        json!({"userName": "cy@other.com", "title": "Intern", "name": {"familyName": "Young"}}),
    )
    .await;
    let created = bob["meta"]["created"].as_str().unwrap();

    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            r#"userName eq "ann.lee@acme.com""#.into(),
            vec!["Ann.Lee@acme.com"],
        ),
        (r#"USERNAME Eq "BOB@ACME.COM""#.into(), vec!["bob@acme.com"]),
        (
            r#"userName ew "@acme.com""#.into(),
            vec!["Ann.Lee@acme.com", "bob@acme.com"],
        ),
        (
            r#"emails[type eq "work" and value co "@acme"]"#.into(),
            vec!["Ann.Lee@acme.com"],
        ),
        (
            r#"emails co "home.org""#.into(),
            vec!["Ann.Lee@acme.com", "bob@acme.com"],
        ),
        (
            format!(r#"{ENTERPRISE}:department eq "sales""#),
            vec!["Ann.Lee@acme.com"],
        ),
        ("active eq false".into(), vec!["bob@acme.com"]),
        ("active pr".into(), vec!["Ann.Lee@acme.com", "bob@acme.com"]),
        (
            r#"not (title pr) and active eq false"#.into(),
            vec!["bob@acme.com"],
        ),
        (
            r#"title eq "Lead" or name.familyName sw "Y""#.into(),
            vec!["Ann.Lee@acme.com", "cy@other.com"],
        ),
        (
            format!(r#"meta.created ge "{created}""#),
            vec!["bob@acme.com", "cy@other.com"],
        ),
        (r#"userName eq "nobody""#.into(), vec![]),
    ];
    for (filter, expected) in cases {
        let list = scim.get(&query(&filter)).await;
        assert_eq!(list.status, 200, "{filter}: {}", list.body);
        assert_eq!(names(&list.body), expected, "{filter}");
        assert_eq!(list.body["totalResults"], expected.len(), "{filter}");
    }

    for bad in [
        r#"userName eq"#,
        r#"shoeSize eq 4"#,
        "active gt true",
        r#"name eq "x""#,
    ] {
        scim.get(&query(bad))
            .await
            .assert_error(400, Some("invalidFilter"));
    }
    app.stop().await;
}

#[tokio::test]
async fn pages_follow_start_index_and_count() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    for name in ["u1", "u2", "u3", "u4", "u5"] {
        scim.user(json!({"userName": name})).await;
    }

    let cases: &[(&str, usize, usize, &[&str])] = &[
        ("", 1, 5, &["u1", "u2", "u3", "u4", "u5"]),
        ("?startIndex=2&count=2", 2, 2, &["u2", "u3"]),
        ("?startIndex=4&count=10", 4, 2, &["u4", "u5"]),
        ("?startIndex=0&count=1", 1, 1, &["u1"]),
        ("?startIndex=9", 9, 0, &[]),
        ("?count=0", 1, 0, &[]),
        ("?count=-4", 1, 0, &[]),
        ("?count=100000", 1, 5, &["u1", "u2", "u3", "u4", "u5"]),
    ];
    for (params, start, per_page, expected) in cases {
        let list = scim.get(&format!("/Users{params}")).await.body;
        assert_eq!(list["totalResults"], 5, "{params}");
        assert_eq!(list["startIndex"], *start, "{params}");
        assert_eq!(list["itemsPerPage"], *per_page, "{params}");
        assert_eq!(names(&list), *expected, "{params}");
    }
    scim.get("/Users?count=ten")
        .await
        .assert_error(400, Some("invalidValue"));
    app.stop().await;
}

#[tokio::test]
async fn search_and_projections_answer_what_was_asked() {
    let app = spawn_scim(Options::default()).await;
    let scim = Scim::new(&app);
    let ann = scim
        .user(
            json!({"userName": "ann@acme.com", "displayName": "Ann", "title": "Lead",
                     "name": {"givenName": "Ann", "familyName": "Lee"}}),
        )
        .await;
    scim.user(json!({"userName": "bob@acme.com"})).await;
    scim.group(json!({"displayName": "Sales", "members": [{"value": ann["id"]}]}))
        .await;
    let id = ann["id"].as_str().unwrap();

    let only = scim
        .get(&format!("/Users/{id}?attributes=name.givenName,TITLE"))
        .await
        .body;
    assert_eq!(
        only,
        json!({"schemas": ann["schemas"], "id": id, "title": "Lead", "name": {"givenName": "Ann"}})
    );
    let without = scim
        .get(&format!("/Users/{id}?excludedAttributes=meta,name,groups"))
        .await
        .body;
    assert!(without.get("meta").is_none() && without.get("name").is_none());
    assert_eq!(without["userName"], "ann@acme.com");

    let searched = scim
        .post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "userName sw \"ann\"", "attributes": ["userName"], "count": 5}),
        )
        .await
        .body;
    assert_eq!(searched["totalResults"], 1);
    assert_eq!(
        searched["Resources"][0],
        json!({"schemas": ann["schemas"], "id": id, "userName": "ann@acme.com"})
    );

    let everything = scim
        .post(
            "/.search",
            &json!({"filter": "displayName pr", "excludedAttributes": ["members"]}),
        )
        .await
        .body;
    assert_eq!(names(&everything), ["ann@acme.com", "Sales"]);
    assert!(everything["Resources"][1].get("members").is_none());

    let mixed = scim
        .post("/.search", &json!({"filter": "userName pr"}))
        .await
        .body;
    assert_eq!(names(&mixed), ["ann@acme.com", "bob@acme.com"]);
    scim.call(Method::GET, "/.search", &Value::Null)
        .await
        .assert_error(405, None);
    scim.post("/.search", &json!({"filter": "shoeSize pr"}))
        .await
        .assert_error(400, Some("invalidFilter"));
    scim.get(&format!(
        "/Users/{id}?attributes=title&excludedAttributes=name"
    ))
    .await
    .assert_error(400, Some("invalidSyntax"));
    app.stop().await;
}
