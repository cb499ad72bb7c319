//! The shipped `docker-compose.yml` against the binary and the README: every variable it sets
//! for a router process is one that process's command reads and one the README's
//! Configuration table lists; the services issue #9 names exist, with health checks, and the
//! secrets come from the environment. (`.ci/run` also has docker-compose parse the file.)

use std::collections::BTreeSet;

use clap::CommandFactory;
use serde_yaml_ng::Value;

const COMPOSE: &str = include_str!("../../docker-compose.yml");
const README: &str = include_str!("../../README.md");

/// The compose file with its `<<` merges applied (a merged mapping may bring merges of its own).
fn compose() -> Value {
    let mut value: Value = serde_yaml_ng::from_str(COMPOSE).expect("docker-compose.yml is YAML");
    for _ in 0..4 {
        value.apply_merge().expect("merges of mappings");
    }
    value
}

/// The environment variables `subcommand` reads, its global flags' included.
fn read_by(subcommand: &str) -> BTreeSet<String> {
    let cli = crate::cli::Cli::command();
    let command = cli
        .find_subcommand(subcommand)
        .unwrap_or_else(|| panic!("no subcommand {subcommand}"));
    command
        .get_arguments()
        .chain(cli.get_arguments())
        .filter_map(|argument| argument.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

/// The variables of the README's Configuration table (the first cell of each row).
fn documented() -> BTreeSet<String> {
    let table = README
        .split("## Configuration")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Configuration section");
    table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Sequence(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
        other => serde_yaml_ng::to_string(other).unwrap_or_default(),
    }
}

#[test]
fn every_variable_compose_sets_for_the_router_is_read_by_its_command_and_documented() {
    let compose = compose();
    let documented = documented();
    let routers = [
        ("serve", "serve"),
        ("worker-1", "worker"),
        ("worker-2", "worker"),
    ];

    for (service, subcommand) in routers {
        let service = &compose["services"][service];
        assert_eq!(text(&service["command"]), subcommand);
        let read = read_by(subcommand);
        let environment = service["environment"]
            .as_mapping()
            .expect("an environment mapping");
        assert!(environment.len() >= 6, "{subcommand}: {environment:?}");
        for name in environment.keys().map(text) {
            assert!(read.contains(&name), "`{subcommand}` does not read {name}");
            assert!(
                documented.contains(&name),
                "{name} is not in the README's table"
            );
        }
    }
}

#[test]
fn the_services_of_issue_9_exist_with_health_checks_and_secrets_from_the_environment() {
    let compose = compose();
    let services = &compose["services"];
    let expected = [
        ("rabbitmq", "rabbitmq-diagnostics"),
        ("postgres", "pg_isready"),
        ("serve", "/readyz"),
        ("worker-1", "/healthz"),
        ("worker-2", "/healthz"),
    ];

    for (name, probe) in expected {
        let check = text(&services[name]["healthcheck"]["test"]);
        assert!(check.contains(probe), "{name}: {check}");
    }
    assert_eq!(
        text(&services["rabbitmq"]["image"]),
        "rabbitmq:3.13-management"
    );
    assert!(text(&services["postgres"]["image"]).starts_with("postgres:1"));
    for name in ["serve", "worker-1", "worker-2"] {
        let service = &services[name];
        for dependency in ["rabbitmq", "postgres"] {
            let condition = text(&service["depends_on"][dependency]["condition"]);
            assert_eq!(condition, "service_healthy", "{name} on {dependency}");
        }
        let environment = &service["environment"];
        assert!(text(&environment["DATABASE_URL"]).starts_with("postgres://"));
        assert!(text(&environment["AMQP_URL"]).starts_with("amqp://"));
        for secret in ["CLICKUP_TOKEN", "CLICKUP_TEAM_ID"] {
            let value = text(&environment[secret]);
            assert!(
                value.starts_with(&format!("${{{secret}:?")),
                "{name}: {secret}"
            );
        }
    }
}
