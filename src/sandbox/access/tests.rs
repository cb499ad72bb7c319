//! Tests of the grant table and level scale, and of what leaves with a user or a group:
//! removing a member or guest drops their shares and memberships, deleting a group its
//! entries.

use reqwest::Method;
use serde_json::json;

use super::{
    super::{
        testing::{acl, acl_path, call, entry, seed_hierarchy, share, start_default, TEAM},
        Role,
    },
    *,
};

#[test]
fn levels_map_between_the_v2_words_and_the_v3_numbers() {
    let cases = [
        (Level::Read, "read", 1),
        (Level::Comment, "comment", 3),
        (Level::Edit, "edit", 4),
        (Level::Create, "create", 5),
    ];

    for (level, word, number) in cases {
        assert_eq!(level.v2_name(), word);
        assert_eq!(level.v3_number(), number);
        assert_eq!(Level::from_v2(word), Some(level), "{word}");
        assert_eq!(Level::from_v3(number), Some(level), "{number}");
    }
    for word in ["Read", "full", "", "4"] {
        assert_eq!(Level::from_v2(word), None, "{word}");
    }
    for number in [0, 2, 6, 40] {
        assert_eq!(Level::from_v3(number), None, "{number}");
    }
}

#[test]
fn object_kinds_parse_only_the_four_modelled_types() {
    let cases = [
        ("space", Some(ObjectKind::Space)),
        ("folder", Some(ObjectKind::Folder)),
        ("list", Some(ObjectKind::List)),
        ("task", Some(ObjectKind::Task)),
        ("view", None),
        ("Space", None),
    ];

    for (raw, kind) in cases {
        assert_eq!(ObjectKind::parse(raw), kind, "{raw}");
        if let Some(kind) = kind {
            assert_eq!(kind.as_str(), raw);
        }
    }
}

#[test]
fn a_principal_keeps_one_grant_per_object_and_the_last_writer_wins() {
    let mut access = Access::default();
    let bob = Principal::User(7);
    let team = Principal::Group("g-1".to_owned());

    access.grant(ObjectKind::List, "10", bob.clone(), Level::Read, Via::Guest);
    access.grant(ObjectKind::List, "10", bob.clone(), Level::Edit, Via::Acl);
    access.grant(
        ObjectKind::List,
        "10",
        team.clone(),
        Level::Comment,
        Via::Acl,
    );
    access.grant(
        ObjectKind::Task,
        "86a",
        bob.clone(),
        Level::Create,
        Via::Guest,
    );

    let on_list: Vec<(Principal, Level)> = access
        .grants_on(ObjectKind::List, "10")
        .map(|grant| (grant.principal.clone(), grant.level))
        .collect();
    assert_eq!(
        on_list,
        [(bob.clone(), Level::Edit), (team.clone(), Level::Comment)]
    );
    let shares: Vec<SandboxShare> = access.grants_of(&bob).map(Grant::to_share).collect();
    assert_eq!(shares[0].via, "acl");
    assert_eq!(
        (shares[1].object_type.as_str(), shares[1].level.as_str()),
        ("task", "create")
    );

    access.revoke(ObjectKind::List, "10", &bob);
    access.forget(&team);
    let left: Vec<&str> = access.grants.iter().map(|g| g.object_id.as_str()).collect();
    assert_eq!(left, ["86a"]);
}

#[test]
fn privacy_is_set_and_cleared_per_object() {
    let mut access = Access::default();

    access.set_private(ObjectKind::Space, "1", true);
    access.set_private(ObjectKind::Space, "1", true);
    access.set_private(ObjectKind::Folder, "1", true);
    access.set_private(ObjectKind::Folder, "1", false);

    assert!(access.is_private(ObjectKind::Space, "1"));
    assert!(!access.is_private(ObjectKind::Folder, "1"));
    assert_eq!(access.private.len(), 1);
}

#[tokio::test]
async fn removing_a_user_drops_their_shares_and_group_memberships() {
    let cases = [("member", "user"), ("guest", "guest")];

    for (role, endpoint) in cases {
        let sandbox = start_default().await;
        let state = sandbox.state();
        let [_, (_, folder), (_, list), _] = seed_hierarchy(&sandbox);
        let keep = state.add_member("keep@example.com", "Keep", Role::Member);
        let leaver = match role {
            "member" => state.add_member("leaver@example.com", "Leaver", Role::Member),
            _ => state.add_guest("leaver@example.com", "Leaver"),
        };
        let group = state.add_group("Ops", &[keep, leaver]);
        let body = json!({ "entries": [
            entry("user", &leaver.to_string(), json!(4)),
            entry("user", &keep.to_string(), json!(1)),
            entry("group", &group, json!(3))
        ]});
        call(
            &sandbox,
            Method::PATCH,
            &acl_path("folder", &folder),
            Some(body),
        )
        .await;
        if role == "guest" {
            let path = format!("/v2/list/{list}/guest/{leaver}");
            call(
                &sandbox,
                Method::POST,
                &path,
                Some(json!({ "permission_level": "read" })),
            )
            .await;
        }
        assert!(!state.shares_of_user(leaver).is_empty(), "{role}");

        let path = format!("/v2/team/{TEAM}/{endpoint}/{leaver}");
        let removed = call(&sandbox, Method::DELETE, &path, None).await;

        assert_eq!(removed.status, 200, "{role}: {:?}", removed.body);
        assert_eq!(state.shares_of_user(leaver), [], "{role}");
        assert_eq!(state.group_members(&group), Some(vec![keep]), "{role}");
        let mut expected = vec![
            acl("group", &group, "comment"),
            acl("user", &keep.to_string(), "read"),
        ];
        expected.sort();
        assert_eq!(state.object_acl("folder", &folder), expected, "{role}");
        assert_eq!(state.object_acl("list", &list), [], "{role}");
        let again = state.add_member("leaver@example.com", "Leaver", Role::Member);
        assert_eq!(
            (again, state.shares_of_user(again)),
            (leaver, vec![]),
            "{role}"
        );
        sandbox.stop().await;
    }
}

#[tokio::test]
async fn deleting_a_group_drops_its_entries() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let [(_, space), _, _, _] = seed_hierarchy(&sandbox);
    let group = state.add_group("Ops", &[]);
    let body = json!({ "entries": [entry("group", &group, json!(5))] });
    call(
        &sandbox,
        Method::PATCH,
        &acl_path("space", &space),
        Some(body),
    )
    .await;
    assert_eq!(
        state.shares_of_group(&group),
        [share("space", &space, "create", "acl")]
    );

    let deleted = call(
        &sandbox,
        Method::DELETE,
        &format!("/v2/group/{group}"),
        None,
    )
    .await;

    assert_eq!(deleted.status, 200);
    assert_eq!(state.object_acl("space", &space), []);
    assert_eq!(state.shares_of_group(&group), []);
    sandbox.stop().await;
}
