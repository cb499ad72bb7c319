//! The command line's shape, and what the audit and SSO commands accept and refuse.

use clap::{CommandFactory, Parser};

use super::*;
use crate::{operator::Format, timeline::ObjectKey};

#[test]
fn the_command_line_is_well_formed() {
    Cli::command().debug_assert();
}

/// Each `(arguments, accepted, a word the refusal must contain)` is read, or refused naming it.
fn assert_read_or_refused(cases: &[(&[&str], bool, &str)]) {
    for &(args, accepted, reason) in cases {
        let parsed =
            Cli::try_parse_from(std::iter::once("clickup-iam-router").chain(args.iter().copied()));
        match (parsed, accepted) {
            (Ok(_), true) => {}
            (Err(error), false) => {
                let text = error.to_string();
                assert!(text.contains(reason), "{args:?}: {text}");
            }
            (Ok(cli), false) => panic!("{args:?} accepted: {:?}", cli.command),
            (Err(error), true) => panic!("{args:?} refused: {error}"),
        }
    }
}

#[test]
fn audit_and_sso_arguments_are_read_or_refused_with_a_reason() {
    // (arguments, accepted, a word the refusal must contain)
    let cases: [(&[&str], bool, &str); 12] = [
        (
            &["audit", "timeline", "--person", "jane.doe@example.com"],
            true,
            "",
        ),
        (
            &[
                "audit",
                "timeline",
                "--object",
                "space:901100000700",
                "--at",
                "2026-12-03 12:00",
            ],
            true,
            "",
        ),
        (
            &[
                "audit",
                "timeline",
                "--object",
                "list:1",
                "--at",
                "2026-12-03T12:00:00+01:00",
            ],
            true,
            "",
        ),
        (&["audit", "timeline"], false, "--person"),
        (
            &["audit", "timeline", "--person", "a", "--object", "list:1"],
            false,
            "cannot be used with",
        ),
        (
            &["audit", "timeline", "--object", "901100000700"],
            false,
            "space:901100000700",
        ),
        (
            &[
                "audit",
                "timeline",
                "--object",
                "list:1",
                "--at",
                "2026-12-03",
            ],
            false,
            "RFC 3339",
        ),
        (
            &[
                "audit",
                "export",
                "--from",
                "2026-12-01 00:00",
                "--to",
                "2026-12-02 00:00",
            ],
            true,
            "",
        ),
        (
            &[
                "audit",
                "export",
                "--from",
                "2026-12-01 00:00",
                "--to",
                "2026-12-02 00:00",
                "--format",
                "xml",
            ],
            false,
            "csv",
        ),
        (
            &[
                "audit",
                "search",
                "--action",
                "grant.close",
                "--limit",
                "50",
                "--after",
                "10",
            ],
            true,
            "",
        ),
        (&["audit", "search", "--limit", "5000"], false, "1..=1000"),
        (&["sso", "report", "--format", "json"], true, ""),
    ];
    assert_read_or_refused(&cases);
}

#[test]
fn bounded_receiver_and_worker_settings_are_refused_outside_their_range() {
    // (arguments, accepted, a word the refusal must contain)
    let cases: [(&[&str], bool, &str); 12] = [
        (&["serve", "--confirm-timeout-ms", "2500"], true, ""),
        (
            &["serve", "--confirm-timeout-ms", "2501"],
            false,
            "1..=2500",
        ),
        (&["serve", "--confirm-timeout-ms", "0"], false, "1..=2500"),
        (&["worker", "--worker-prefetch", "1"], true, ""),
        (&["worker", "--worker-prefetch", "0"], false, "1.."),
        (
            &["serve", "--iam-timestamp-tolerance-secs", "3600"],
            true,
            "",
        ),
        (
            &["serve", "--iam-timestamp-tolerance-secs", "0"],
            false,
            "1..=3600",
        ),
        (
            &["serve", "--iam-timestamp-tolerance-secs", "-5"],
            false,
            "",
        ),
        (&["serve", "--iam-future-skew-secs", "0"], true, ""),
        (
            &["serve", "--iam-future-skew-secs", "301"],
            false,
            "0..=300",
        ),
        (&["serve", "--iam-future-skew-secs", "-1"], false, ""),
        (&["run", "--confirm-timeout-ms", "3000"], false, "1..=2500"),
    ];
    assert_read_or_refused(&cases);
}

#[test]
fn times_and_objects_reach_the_command_as_read() {
    let cli = Cli::try_parse_from([
        "clickup-iam-router",
        "audit",
        "timeline",
        "--object",
        "group:All staff",
        "--at",
        "2026-12-03T13:00:00+01:00",
    ])
    .unwrap();
    let Command::Audit(AuditCommand::Timeline(args)) = cli.command else {
        panic!("not a timeline");
    };
    assert_eq!(args.object, Some(ObjectKey::Group("All staff".into())));
    assert_eq!(
        args.at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-12-03T12:00:00+00:00")
    );
    assert_eq!(args.format, Format::Text);
}
