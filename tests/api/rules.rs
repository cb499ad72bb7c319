//! Rules in operation: `rules check` on the binary, the reminder before a contract ends, and
//! the mass-removal brake on a rules reload (`rules explain`: `explain`; a rule file's error
//! at start: `rules_startup`).

use std::{path::Path, process::Command, time::Duration};

use chrono::{SecondsFormat, Utc};
use clickup_iam_router::{operator, sandbox::Role};
use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app_with, Options, TestApp};

pub fn router(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "off")
        .output()
        .unwrap()
}

#[test]
fn rules_check_names_the_file_line_and_reason_of_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "mappings:\n  - name: broken\n    when: person.department ==\n    role: member\n";
    std::fs::write(dir.path().join("bad.yaml"), bad).unwrap();

    let good = router(&["rules", "check", "rules"]);
    let broken = router(&["rules", "check", dir.path().to_str().unwrap()]);
    // Without a folder, the one the worker would load (RULES_DIR).
    let from_env = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"))
        .args(["rules", "check"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "off")
        .env("RULES_DIR", dir.path())
        .output()
        .unwrap();

    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(String::from_utf8_lossy(&good.stdout).contains("all-staff"));
    assert!(!broken.status.success());
    let error = String::from_utf8_lossy(&broken.stderr);
    assert!(error.contains("bad.yaml:3:"), "{error}");
    assert!(error.contains("broken"), "{error}");
    assert!(!from_env.status.success());
    let error = String::from_utf8_lossy(&from_env.stderr);
    assert!(error.contains("bad.yaml:3:"), "{error}");
}

/// A report whose reader went away (`| head`) ends on SIGPIPE as Unix tools do: no panic, no
/// backtrace. The pipe's read end is closed before the command starts.
#[test]
fn a_report_whose_reader_went_away_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;

    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);

    let output = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"))
        .args(["rules", "check", "rules"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "off")
        .env("RUST_BACKTRACE", "1")
        .stdout(writer)
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}",
        output.status
    );
}

#[tokio::test]
async fn the_sponsor_gets_a_reminder_task_before_a_contract_ends() {
    let app = spawn_app_with(Options::default()).await;
    let state = app.sandbox.state();
    let priya = state.add_member("priya.shah@example.com", "Priya Shah", Role::Member);
    let mut contractor = fixture_json("iam/02-joiner-contractor-end-date.json");
    let ends = Utc::now() + chrono::Duration::days(3);
    contractor["data"]["user"]["profile"]["end_at"] =
        json!(ends.to_rfc3339_opts(SecondsFormat::Secs, true));

    app.post_iam(&serde_json::to_vec(&contractor).unwrap())
        .await;
    app.wait_processed(&contractor).await;
    let reminder = wait_for_reminder(&app).await;

    let task = state.task(&reminder).expect("the reminder task exists");
    assert_eq!(task.list_id, "901100000900");
    assert!(
        task.name.starts_with("Access of Carlos Rivera"),
        "{}",
        task.name
    );
    assert_eq!(task.assignees, vec![priya]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE action = 'reminder.sent'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(sent, 1, "one reminder per contract end, not one per tick");
    app.stop().await;
}

async fn wait_for_reminder(app: &TestApp) -> String {
    for _ in 0..100 {
        let object: Option<String> =
            sqlx::query_scalar("SELECT object FROM audit WHERE action = 'reminder.sent'")
                .fetch_optional(app.store.pool())
                .await
                .unwrap();
        if let Some(object) = object {
            return object.trim_start_matches("task:").to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no reminder was sent");
}

/// The shipped rules, with the `all-staff` mapping taken out of a copy.
fn rules_without_all_staff(into: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for name in ["employees.yaml", "externals.yaml"] {
        let text = std::fs::read_to_string(shipped.join(name)).unwrap();
        let text = match text.split_once("  - name: all-staff") {
            Some((head, rest)) => format!("{head}{}", &rest[rest.find("  - name:").unwrap()..]),
            None => text,
        };
        std::fs::write(into.join(name), text).unwrap();
    }
}

fn employee(n: usize) -> Value {
    let mut event = fixture_json("iam/01-joiner-employee.json");
    let id = format!("{n:032x}");
    event["id"] = json!(format!("brake-joiner-{n}"));
    event["subject"] = json!(format!("user:{id}"));
    event["data"]["user"]["id"] = json!(id);
    event["data"]["user"]["email"] = json!(format!("person{n}@example.com"));
    event["data"]["user"]["profile"]["email"] = json!(format!("person{n}@example.com"));
    event
}

#[tokio::test]
async fn a_rules_reload_that_would_remove_fifty_people_is_held_until_released() {
    let rules = tempfile::tempdir().unwrap();
    rules_without_all_staff(rules.path());
    let app = spawn_app_with(Options::default()).await;
    let people: Vec<Value> = (0..50).map(employee).collect();
    for person in &people {
        app.post_iam(&serde_json::to_vec(person).unwrap()).await;
    }
    for person in &people {
        assert_eq!(app.wait_processed(person).await.outcome, "applied");
    }
    let state = app.sandbox.state();
    assert_eq!(state.group_members("All staff").unwrap().len(), 50);

    let app = app
        .restart(Duration::ZERO, |s| {
            s.rules.rules_dir = rules.path().to_path_buf()
        })
        .await;

    // Re-planning fifty people takes a while on a loaded machine: wait up to 60 s.
    let mut held = 0;
    for _ in 0..600 {
        held = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT iam_id) FROM held_removals WHERE released_at IS NULL",
        )
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        if held == 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(held, 50, "the reload is held for every affected person");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("clickup_iam_router_brake_held_people 50"),
        "{metrics}"
    );
    assert_eq!(
        state.group_members("All staff").unwrap().len(),
        50,
        "nothing removed while held"
    );

    // Released with other rules than the worker's (the shipped ones), nothing is released:
    // those rules would plan no removal and clear the holds.
    let mut shipped = app.settings.clone();
    shipped.rules.rules_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    let refused = operator::release_brake(shipped, "test-operator")
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("RULES_DIR"), "{refused}");
    assert!(refused.contains("nothing was released"), "{refused}");
    let still_held: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT iam_id) FROM held_removals WHERE released_at IS NULL",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(still_held, 50);

    // The same rules copied to another folder are the workers' rules.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(rules.path()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }
    let mut settings = app.settings.clone();
    settings.rules.rules_dir = copy.path().to_path_buf();
    operator::release_brake(settings, "test-operator")
        .await
        .unwrap();

    assert_eq!(state.group_members("All staff").unwrap(), Vec::<u64>::new());
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM held_removals WHERE released_at IS NULL")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(left, 0);
    let someone = state.find_by_email("person7@example.com").unwrap();
    let shares = state.shares_of_user(someone.id);
    assert_eq!(
        shares.len(),
        1,
        "only the handover list is left: {shares:?}"
    );
    app.stop().await;
}
