//! `demo`, the README's main job, run as its users run it: the release notes' table on
//! RabbitMQ (`.ci/run` runs it on the embedded engine), and a demo whose rules give other
//! access than it expects, which must say so and exit non-zero.

use std::{path::Path, process::Command};

use crate::{
    helpers::{amqp_url, skip_unless_rabbitmq},
    process::output_of,
};

/// Runs `demo` with `rules`, on RabbitMQ when `amqp` is set: (success, stdout, stderr).
async fn demo(rules: &Path, amqp: Option<String>, timeout_secs: &str) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
    command
        .args(["demo", "--timeout-secs", timeout_secs])
        .arg("--rules-dir")
        .arg(rules)
        .env_remove("DATABASE_URL")
        .env_remove("AMQP_PREFIX")
        .env_remove("RULES_DIR");
    match amqp {
        Some(url) => command.env("AMQP_URL", url),
        None => command.env_remove("AMQP_URL"),
    };

    let output = output_of(command).await;
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn shipped_rules() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// The row of the table whose event column starts with `event`.
fn row<'a>(stdout: &'a str, event: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.starts_with(event))
        .unwrap_or_else(|| panic!("no row {event:?} in:\n{stdout}"))
}

#[tokio::test]
async fn the_demo_on_rabbitmq_meets_every_expected_outcome() {
    if skip_unless_rabbitmq("runs the demo on the test's broker (.ci/run runs it embedded)") {
        return;
    }

    let (success, stdout, stderr) = demo(&shipped_rules(), Some(amqp_url()), "60").await;

    assert!(success, "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some("demo: 19 events, 19 actions, 0 failed"),
        "{stdout}"
    );
    assert!(row(&stdout, "IAM leaver (member) ").contains("removed_member"));
    assert!(row(&stdout, "IAM leaver again (same event id) ").contains(" 200 "));
    assert!(row(&stdout, "ClickUp delivery re-serialised ").contains(" 403 "));
    assert!(row(&stdout, "IAM joiner (contractor) ").contains("applied"));
    assert!(row(&stdout, "scheduler: contract end ").contains("revoked, grants closed"));
}

#[tokio::test]
async fn a_demo_whose_rules_give_other_access_names_the_failures_and_exits_non_zero() {
    let rules = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(shipped_rules()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, rules.path().join(path.file_name().unwrap())).unwrap();
    }
    let employees = rules.path().join("employees.yaml");
    let text = std::fs::read_to_string(&employees).unwrap();
    let read_company_space = r#"- { space: "901100000100", level: read }"#;
    assert!(text.contains(read_company_space));
    let text = text.replace(
        read_company_space,
        r#"- { space: "901100000100", level: comment }"#,
    );
    std::fs::write(&employees, text).unwrap();

    let (success, stdout, _) = demo(rules.path(), None, "5").await;

    assert!(!success, "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("demo: 19 events, "), "{stdout}");
    assert!(!last.ends_with(" 0 failed"), "{stdout}");
    assert!(!row(&stdout, "IAM joiner (employee) ").contains("applied (user"));
}
