//! The access timeline through the real receivers and broker: after a joiner, a mover and a
//! leaver, the leaver's timeline says how each interval began and ended, `audit export`
//! lists them, and an object's answer counts shares of the folder and space above it; a list
//! ClickUp does not know is answered from its own grants with a note (CLI and API), while
//! ClickUp out of reach stays a 502 for the API.

use std::time::Duration;

use chrono::Utc;
use clickup_iam_router::{
    clickup::ClickUpClient,
    operator::{audit, ExportFormat, Format, Subject},
    store::Store,
};
use serde_json::{json, Value};

use crate::{
    admin_edges::{call, iam, spawn},
    helpers::{fixture_json, spawn_app, TestApp},
};
use clickup_iam_router::sandbox::iam::TokenSpec;

const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
const CARLOS: &str = "1a2b3c4d5e6f47808192a3b4c5d6e7f8";

async fn send(app: &TestApp, event: &Value) -> String {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    app.wait_processed(event).await.outcome
}

/// The test's store as the CLI opens it: read-only.
async fn read_only(app: &TestApp) -> Store {
    Store::open_read_only(&app.settings.store).await.unwrap()
}

async fn timeline_json(store: &Store, clickup: Option<&ClickUpClient>, subject: Subject) -> Value {
    let mut out = Vec::new();
    audit::timeline(
        store,
        clickup,
        &subject,
        Some(Utc::now()),
        Format::Json,
        &mut out,
    )
    .await
    .unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// (person, via) of an object's answer.
fn holders(answer: &Value) -> Vec<(String, Value)> {
    answer["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["iam_id"].as_str().unwrap().to_owned(), a["via"].clone()))
        .collect()
}

#[tokio::test]
async fn a_leavers_timeline_says_how_each_interval_began_and_ended_and_the_export_lists_them() {
    let app = spawn_app().await;
    let started = Utc::now() - chrono::Duration::seconds(1);
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    send(&app, &fixture_json("iam/03-mover-dept-title-role.json")).await;

    // While Jane holds a read share of space 100, a list in a folder of it is hers too.
    let store = read_only(&app).await;
    let clickup = ClickUpClient::new(&app.settings.clickup).unwrap();
    let list = "list:901100000210".parse().unwrap();
    let folder = "folder:901100000200".parse().unwrap();
    let with_hierarchy = timeline_json(&store, Some(&clickup), Subject::Object(list)).await;
    let of_folder = timeline_json(&store, Some(&clickup), Subject::Object(folder)).await;
    let list = "list:901100000210".parse().unwrap();
    let without = timeline_json(&store, None, Subject::Object(list)).await;
    let inherited = json!({"type": "inherited", "from": "space:901100000100"});
    assert_eq!(
        holders(&with_hierarchy),
        vec![(JANE.to_owned(), inherited.clone())]
    );
    assert_eq!(
        with_hierarchy["hierarchy"]["ancestors"],
        json!(["folder:901100000200", "space:901100000100"])
    );
    assert_eq!(holders(&of_folder), vec![(JANE.to_owned(), inherited)]);
    assert!(holders(&without).is_empty());
    assert_eq!(
        without["hierarchy"],
        json!({"type": "unknown", "reason": "no_clickup"})
    );
    // A list ClickUp does not know (deleted): its own grants, and a note, not an error.
    let gone = "list:123".parse().unwrap();
    let gone = timeline_json(&store, Some(&clickup), Subject::Object(gone)).await;
    assert_eq!(
        gone["hierarchy"],
        json!({"type": "unknown", "reason": "not_in_clickup"})
    );
    assert!(
        gone["note"].as_str().unwrap().contains("does not know"),
        "{gone}"
    );

    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{JANE}"));
    leaver["data"]["user"] =
        json!({"id": JANE, "email": "jane.doe@example.com", "profile": {"status": "terminated"}});
    assert_eq!(send(&app, &leaver).await, "removed_member");

    let mut out = Vec::new();
    let person = Subject::Person("Jane.Doe@example.com".into());
    audit::timeline(&store, None, &person, None, Format::Json, &mut out)
        .await
        .unwrap();
    let timeline: Value = serde_json::from_slice(&out).unwrap();
    let intervals: Vec<(String, String, String, String, bool)> = timeline["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["granted_by"]["type"], "rule", "{i}");
            (
                i["object"].as_str().unwrap().to_owned(),
                i["level"].as_str().unwrap().to_owned(),
                i["granted_by"]["name"].as_str().unwrap().to_owned(),
                i["ended"]["cause"].as_str().unwrap().to_owned(),
                i["ended"]["level_changed"].as_bool().unwrap(),
            )
        })
        .collect();
    let mut sorted = intervals.clone();
    sorted.sort();
    let row = |o: &str, l: &str, r: &str, c: &str, changed| {
        (
            o.to_owned(),
            l.to_owned(),
            r.to_owned(),
            c.to_owned(),
            changed,
        )
    };
    assert_eq!(
        sorted,
        vec![
            row("All staff", "member", "all-staff", "leaver", false),
            row("Approvers", "member", "handover-approvers", "leaver", false),
            row(
                "Contributors",
                "member",
                "handover-contributors",
                "mover",
                false
            ),
            row(
                "list:901100000310",
                "create",
                "handover-approvers",
                "leaver",
                false
            ),
            row(
                "list:901100000310",
                "edit",
                "handover-contributors",
                "mover",
                true
            ),
            row("space:901100000100", "read", "all-staff", "leaver", false),
            row(
                "workspace:9012345678",
                "member",
                "all-staff",
                "leaver",
                false
            ),
        ]
    );
    assert_eq!(timeline["status"], "terminated");

    let mut text = Vec::new();
    audit::timeline(&store, None, &person, None, Format::Text, &mut text)
        .await
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("jane.doe@example.com (user:9f2c"),
        "{text}"
    );
    assert!(text.contains("mover (level changed)\n"), "{text}");
    assert!(text.contains("mover [no rule grants it]"), "{text}");
    assert!(text.contains("leaver [terminated]"), "{text}");

    let mut csv_out = Vec::new();
    let rows = audit::export(
        &store,
        started,
        Utc::now() + chrono::Duration::seconds(1),
        ExportFormat::Csv,
        false,
        &mut csv_out,
    )
    .await
    .unwrap();
    assert_eq!(rows, 7);
    let mut reader = csv::Reader::from_reader(csv_out.as_slice());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut ends: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                &r[column("object")],
                &r[column("ended_by")],
                &r[column("end_reason")],
            )
        })
        .collect();
    ends.sort();
    assert_eq!(ends[2], ("Contributors", "mover", "no rule grants it"));
    assert_eq!(ends[4], ("list:901100000310", "mover", "level changed"));
    assert_eq!(ends.iter().filter(|e| e.1 == "leaver").count(), 5);
    assert!(records
        .iter()
        .all(|r| &r[column("email")] == "jane.doe@example.com"));
    assert!(records.iter().all(|r| &r[column("granted_by")] == "rule"));

    let mut raw = Vec::new();
    let audit_rows = audit::export(
        &store,
        started,
        Utc::now(),
        ExportFormat::Json,
        true,
        &mut raw,
    )
    .await
    .unwrap();
    let raw: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(raw.as_array().unwrap().len(), audit_rows);
    assert!(raw
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["action"] == "grant.close"));
    app.stop().await;
}

#[tokio::test]
async fn a_contract_end_is_recorded_as_such_on_every_grant_it_closes() {
    let app = spawn_app().await;
    let mut contractor = fixture_json("iam/02-joiner-contractor-end-date.json");
    let end = Utc::now() + chrono::Duration::seconds(2);
    contractor["data"]["user"]["profile"]["end_at"] = json!(end.to_rfc3339());
    contractor["data"]["user"]["profile"]["end_date"] = Value::Null;

    send(&app, &contractor).await;
    for _ in 0..300 {
        if app.store.open_grants(CARLOS).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let store = read_only(&app).await;
    let mut out = Vec::new();
    let person = Subject::Person(CARLOS.into());
    audit::timeline(&store, None, &person, None, Format::Json, &mut out)
        .await
        .unwrap();
    let timeline: Value = serde_json::from_slice(&out).unwrap();
    let ends: Vec<(&str, &str, &str)> = timeline["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["ended"]["cause"].as_str().unwrap_or("open"),
                i["ended"]["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        ends,
        vec![
            ("role", "contract_end", "contract ended"),
            ("share", "contract_end", "contract ended"),
        ],
        "the share used to read 'expired', as if only it had ended"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_list_clickup_does_not_know_is_answered_from_its_own_grants_with_a_note() {
    let app = spawn().await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();
    // A list that was deleted in ClickUp (the sandbox answers 404 ITEM_015 for it), with a
    // grant on it that the record still holds.
    sqlx::query(
        "INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since, ended_at, ended_by, end_reason)
         VALUES ('gone-list-holder', 'share', 'list:123', 'edit', 'finance', 'e-1', 1000, 2000, 'rule', 'rule removed')",
    )
    .execute(app.store.pool())
    .await
    .unwrap();

    let (status, body, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/timeline?object=list:123",
        Some(&auditor),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["hierarchy"],
        json!({"type": "unknown", "reason": "not_in_clickup"})
    );
    let note = body["note"].as_str().unwrap();
    assert!(note.contains("ClickUp does not know this object"), "{note}");
    let holders: Vec<(&str, &str)> = body["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["iam_id"].as_str().unwrap(),
                a["via"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(holders, vec![("gone-list-holder", "direct")]);
    app.stop().await;
}

#[tokio::test]
async fn clickup_out_of_reach_is_still_a_502_for_the_object_timeline() {
    let app = spawn().await;
    // Nothing listens on port 9 of loopback: every ClickUp call fails to connect.
    let app = app
        .restart(Duration::ZERO, |settings| {
            settings.clickup.clickup_api_url = "http://127.0.0.1:9".into();
        })
        .await;
    let auditor = iam(&app).issue_token(&TokenSpec::new("audrey")).unwrap();

    let (status, body, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/timeline?object=list:123",
        Some(&auditor),
    )
    .await;
    assert_eq!(
        (status, &body),
        (
            502,
            &json!({
                "error": "clickup_unavailable",
                "message": "ClickUp could not be read: ClickUp could not be reached",
            })
        )
    );
    app.stop().await;
}
