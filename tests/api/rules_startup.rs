//! A rule file with an error stops `worker` and `run` before anything starts: a non-zero exit,
//! stderr naming `<file>:<line>:` and the reason, no port bound and no store created. (`serve`
//! takes no rules: a rule file's error never stops the receivers.)

use std::{net::TcpListener, path::Path, process::Command};

use crate::{helpers::bus_env, process::output_of};

/// A broken rule file: its name, its text, the line the error is on and words of the reason.
struct Broken {
    file: &'static str,
    text: &'static str,
    line: u32,
    reason: &'static str,
}

const BROKEN: [Broken; 2] = [
    Broken {
        file: "syntax.yaml",
        text: "mappings:\n  - name: badly-indented\n    when: person.status == \"active\"\n   role: member\n",
        line: 4,
        reason: "did not find expected '-' indicator",
    },
    Broken {
        file: "cel.yaml",
        text: "mappings:\n  - name: unfinished\n    when: person.department ==\n    role: member\n",
        line: 3,
        reason: "mapping `unfinished`: `when` does not compile",
    },
];

/// The router's `subcommand` with its rules in `rules`, its store in `database` and its only
/// listening address `taken` (already bound by the test).
fn router(subcommand: &str, rules: &Path, database: &Path, taken: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
    command
        .arg(subcommand)
        .env("RULES_DIR", rules)
        .env("DATABASE_URL", format!("sqlite://{}", database.display()))
        .env("CLICKUP_API_URL", "http://127.0.0.1:9/api")
        .env("CLICKUP_TOKEN", "pk_startup_test")
        .env("CLICKUP_TEAM_ID", "9012345678")
        .env("RUST_LOG", "off")
        .env("RUST_BACKTRACE", "0")
        .env_remove("HTTP_ADDR")
        .env_remove("METRICS_LISTEN");
    bus_env(
        &mut command,
        &format!("cir-startup-{}", uuid::Uuid::new_v4().simple()),
    );
    match subcommand {
        "worker" => command.args(["--metrics-listen", taken]),
        _ => command.env("HTTP_ADDR", taken),
    };
    command
}

#[tokio::test]
async fn a_rule_file_with_an_error_stops_worker_and_run_before_anything_starts() {
    for broken in BROKEN {
        for subcommand in ["worker", "run"] {
            let rules = tempfile::tempdir().unwrap();
            std::fs::write(rules.path().join(broken.file), broken.text).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let database = dir.path().join("never.db");
            // Held by the test: a router that bound its port before reading the rules would
            // fail on the bind instead.
            let held = TcpListener::bind("127.0.0.1:0").unwrap();
            let taken = held.local_addr().unwrap().to_string();

            let output = output_of(router(subcommand, rules.path(), &database, &taken)).await;

            let case = format!("{subcommand} with {}", broken.file);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{case}: it started: {stderr}");
            let at = format!(
                "{}:{}:",
                rules.path().join(broken.file).display(),
                broken.line
            );
            assert!(stderr.contains(&at), "{case}: {at} not named in: {stderr}");
            assert!(
                stderr.contains(broken.reason),
                "{case}: no reason in: {stderr}"
            );
            assert!(
                !stderr.contains("binding"),
                "{case}: a port came first: {stderr}"
            );
            assert!(!database.exists(), "{case}: the store was created");
            assert_eq!(
                std::fs::read_dir(dir.path()).unwrap().count(),
                0,
                "{case}: files were created"
            );
            drop(held);
        }
    }
}
