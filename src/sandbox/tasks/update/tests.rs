//! Tests of task updates: status moves checked against the List's own statuses, the
//! `{add, rem}` assignee diff, the flat array that is answered 200 and ignored, the other
//! fields with `null` clearing, the body checks, and which differences become changes.

use reqwest::Method;
use serde_json::{json, Value};

use super::{
    super::{
        super::{
            events::Change,
            hierarchy::Task,
            testing::{call, start_default},
        },
        tests::{create, ids, seed, update},
    },
    changes_between,
};

#[tokio::test]
async fn statuses_are_checked_against_the_lists_own_set() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let statuses = [
        ("requested", "open"),
        ("approved", "custom"),
        ("granted", "closed"),
    ];
    sandbox
        .state()
        .set_list_statuses(&seeded.list, &statuses)
        .expect("statuses");
    let first = create(&sandbox, &seeded.list, json!({ "name": "Grant VPN" })).await;
    let task = first.body["id"].as_str().expect("task id").to_owned();
    assert_eq!(first.body["status"]["status"], "requested");
    // (update body, answer, status afterwards, type, orderindex, closed)
    let cases = [
        (
            json!({ "status": "APPROVED" }),
            200,
            "approved",
            "custom",
            1,
            false,
        ),
        (
            json!({ "status": "granted" }),
            200,
            "granted",
            "closed",
            2,
            true,
        ),
        (
            json!({ "status": "complete" }),
            400,
            "granted",
            "closed",
            2,
            true,
        ),
        (
            json!({ "status": "to do" }),
            400,
            "granted",
            "closed",
            2,
            true,
        ),
        (
            json!({ "status": " requested " }),
            200,
            "requested",
            "open",
            0,
            false,
        ),
        (json!({ "status": 2 }), 400, "requested", "open", 0, false),
    ];

    for (body, answer, status, kind, orderindex, closed) in cases {
        let reply = update(&sandbox, &task, body.clone()).await;
        assert_eq!(reply.status, answer, "{body}: {:?}", reply.body);
        let read = call(&sandbox, Method::GET, &format!("/v2/task/{task}"), None).await;
        assert_eq!(read.body["status"]["status"], status, "{body}");
        assert_eq!(read.body["status"]["type"], kind, "{body}");
        assert_eq!(read.body["status"]["orderindex"], orderindex, "{body}");
        assert_eq!(read.body["date_closed"].is_string(), closed, "{body}");
        assert_eq!(read.body["date_done"], read.body["date_closed"], "{body}");
    }
    let list = call(
        &sandbox,
        Method::GET,
        &format!("/v2/list/{}", seeded.list),
        None,
    )
    .await;
    let names: Vec<&Value> = list.body["statuses"]
        .as_array()
        .expect("statuses")
        .iter()
        .map(|status| &status["status"])
        .collect();
    assert_eq!(
        names,
        [&json!("requested"), &json!("approved"), &json!("granted")]
    );
    assert_eq!(list.body["override_statuses"], true);
    let invalid = sandbox
        .state()
        .set_list_statuses(&seeded.list, &[("a", "begun")]);
    assert!(invalid.is_err());
    assert!(sandbox.state().set_list_statuses("404", &statuses).is_err());
    sandbox.stop().await;
}

#[tokio::test]
async fn updates_change_assignees_only_through_the_add_rem_diff() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let task = sandbox.state().add_task(&seeded.list, "Grant VPN");
    let (alice, carol, group) = (seeded.alice, seeded.carol, seeded.group.clone());
    // (body, assignees afterwards, group assignees afterwards, ignored flat arrays so far)
    let cases = [
        (
            json!({ "assignees": { "add": [alice, carol], "rem": [] } }),
            vec![alice, carol],
            vec![],
            0,
        ),
        (
            json!({ "assignees": { "add": [carol], "rem": [alice] } }),
            vec![carol],
            vec![],
            0,
        ),
        (
            json!({ "assignees": { "add": [], "rem": [9_999_999] } }),
            vec![carol],
            vec![],
            0,
        ),
        (
            json!({ "group_assignees": { "add": [group] } }),
            vec![carol],
            vec![group.clone()],
            0,
        ),
        (
            json!({ "assignees": [alice] }),
            vec![carol],
            vec![group.clone()],
            1,
        ),
        (
            json!({ "group_assignees": [] }),
            vec![carol],
            vec![group.clone()],
            2,
        ),
        (
            json!({ "assignees": [], "name": "Renamed" }),
            vec![carol],
            vec![group.clone()],
            3,
        ),
        (
            json!({ "group_assignees": { "rem": [group] } }),
            vec![carol],
            vec![],
            3,
        ),
    ];

    for (body, assignees, groups, ignored) in cases {
        let reply = update(&sandbox, &task, body.clone()).await;

        assert_eq!(reply.status, 200, "{body}: {:?}", reply.body);
        let shown: Vec<Value> = assignees.iter().map(|id| json!(id)).collect();
        assert_eq!(ids(&reply.body["assignees"]), shown, "{body}");
        let stored = sandbox.state().task(&task).expect("task");
        assert_eq!(stored.assignees, assignees, "{body}");
        assert_eq!(stored.group_assignees, groups, "{body}");
        assert_eq!(sandbox.state().ignored_assignee_arrays(), ignored, "{body}");
    }
    assert_eq!(
        sandbox.state().task(&task).map(|t| t.name),
        Some("Renamed".to_owned())
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn update_sets_fields_clears_with_null_and_refuses_bad_bodies() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let task = sandbox.state().add_task(&seeded.list, "Grant VPN");
    let good = [
        (
            json!({ "name": " Grant SSH ", "priority": 1 }),
            "priority",
            json!("urgent"),
        ),
        (
            json!({ "description": "For the on-call rota" }),
            "description",
            json!("For the on-call rota"),
        ),
        (
            json!({ "due_date": 1_736_294_400_000_u64 }),
            "due_date",
            json!("1736294400000"),
        ),
        (
            json!({ "priority": null, "due_date": null }),
            "priority",
            Value::Null,
        ),
        (json!({ "description": " " }), "description", json!("")),
    ];
    for (body, key, expected) in good {
        let reply = update(&sandbox, &task, body.clone()).await;
        assert_eq!(reply.status, 200, "{body}: {:?}", reply.body);
        let shown = match key {
            "priority" => reply.body["priority"]["priority"].clone(),
            _ => reply.body[key].clone(),
        };
        assert_eq!(shown, expected, "{body}");
    }
    let before = sandbox.state().task(&task).expect("task");
    assert_eq!((before.name.as_str(), before.due_date), ("Grant SSH", None));

    let bad = [
        (
            task.as_str(),
            json!({ "assignees": { "add": [seeded.alice] } }),
            400,
            "INPUT_001",
        ),
        (
            task.as_str(),
            json!({ "assignees": "alice" }),
            400,
            "INPUT_002",
        ),
        (
            task.as_str(),
            json!({ "assignees": { "add": [404], "rem": [] } }),
            400,
            "ASSIGNEE_001",
        ),
        (
            task.as_str(),
            json!({ "group_assignees": { "add": ["nope"] } }),
            400,
            "ASSIGNEE_002",
        ),
        (task.as_str(), json!({ "priority": 0 }), 400, "INPUT_004"),
        (task.as_str(), json!({ "name": "" }), 400, "INPUT_004"),
        ("86abc9999", json!({ "name": "Ghost" }), 401, "ITEM_013"),
    ];
    for (task_id, body, status, ecode) in bad {
        let reply = update(&sandbox, task_id, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    assert_eq!(
        sandbox.state().task(&task),
        Some(before),
        "refused updates change nothing"
    );
    assert_eq!(sandbox.state().ignored_assignee_arrays(), 0);
    sandbox.stop().await;
}

#[test]
fn only_fields_that_really_changed_become_changes_in_history_order() {
    let mut hierarchy = crate::sandbox::hierarchy::Hierarchy::default();
    let id = hierarchy.add_task("901100000001", "Grant VPN", 1, 0);
    let mut base = hierarchy.task(&id).expect("task").clone();
    base.assignees = vec![7, 8];
    let was = json!({ "status": "to do" });
    type Edit = fn(&mut Task);
    let cases: [(&str, Edit, Vec<Change>); 5] = [
        ("nothing", |_| {}, vec![]),
        (
            "name and status",
            |t| {
                t.status = "complete".to_owned();
                t.name = "Grant VPN to Carol".to_owned();
            },
            vec![
                Change::Name {
                    before: "Grant VPN".to_owned(),
                },
                Change::Status {
                    before: json!({ "status": "to do" }),
                },
            ],
        ),
        (
            "priority, due date and description",
            |t| {
                t.due_date = Some(5);
                t.priority = Some(1);
                t.description = "Needs VPN".to_owned();
            },
            vec![
                Change::Content {
                    before: String::new(),
                },
                Change::Priority { before: None },
                Change::DueDate { before: None },
            ],
        ),
        (
            "assignees swapped",
            |t| t.assignees = vec![8, 9],
            vec![
                Change::AssigneesAdded(vec![9]),
                Change::AssigneesRemoved(vec![7]),
            ],
        ),
        ("assignees reordered", |t| t.assignees = vec![8, 7], vec![]),
    ];

    for (label, edit, expected) in cases {
        let mut after = base.clone();
        edit(&mut after);

        assert_eq!(
            changes_between(&base, &after, was.clone()),
            expected,
            "{label}"
        );
    }
}
