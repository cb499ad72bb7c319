//! Tables for the pure parts: reading how access ended, building intervals, who held an
//! object at a time, object names and times as operators type them.

use chrono::TimeZone;

use super::*;

fn row(id: i64, object: &str, level: &str, since: i64, ended_at: Option<i64>) -> GrantRecord {
    GrantRecord {
        id,
        iam_id: format!("p{id}"),
        kind: if object.starts_with("workspace:") {
            GrantKind::Role
        } else {
            GrantKind::Share
        },
        object: object.into(),
        level: level.into(),
        rule: "finance-analysts".into(),
        event_id: format!("e{id}"),
        since,
        until: None,
        ended_at,
        ended_by: ended_at.map(|_| "event:iam evt-9".into()),
        end_reason: ended_at.map(|_| "no rule grants it".into()),
    }
}

#[test]
fn every_recorded_end_reads_into_the_vocabulary() {
    use EndCause::*;
    let cases = [
        // (ended_by, reason, rule) -> (cause, level changed)
        ("leaver:iam evt-1", "terminated", "staff", Leaver, false),
        ("leaver:iam evt-1", "deleted", "staff", Leaver, false),
        ("leaver:iam evt-1", "disabled", "staff", Disabled, false),
        ("event:iam evt-2", "disabled", "staff", Disabled, false),
        ("event:iam evt-2", "terminated", "staff", Leaver, false),
        ("leaver:x", "leaver", "staff", Leaver, false),
        (
            "expiry:expiry:p:1",
            "contract ended",
            "contractors",
            ContractEnd,
            false,
        ),
        (
            "event:iam evt-3",
            "contract ended",
            "contractors",
            ContractEnd,
            false,
        ),
        ("expiry:expiry:p:1", "expired", "contractors", Expiry, false),
        (
            "expiry:expiry:p:1",
            "expired",
            "request:86abc",
            RequestEnd,
            false,
        ),
        (
            "expiry:expiry:p:1",
            "level changed",
            "request:86abc",
            RequestEnd,
            true,
        ),
        ("expiry:expiry:p:1", "level changed", "staff", Expiry, true),
        (
            "expiry:expiry:p:1",
            "no rule grants it",
            "staff",
            RuleChange,
            false,
        ),
        (
            "event:iam evt-4",
            "no rule grants it",
            "staff",
            Mover,
            false,
        ),
        (
            "event:iam evt-4",
            "no rule grants access",
            "staff",
            Mover,
            false,
        ),
        ("event:iam evt-4", "level changed", "staff", Mover, true),
        ("event:iam evt-4", "role changed", "staff", Mover, true),
        (
            "rules-reload:rules-reload:p:1",
            "no rule grants it",
            "staff",
            RuleChange,
            false,
        ),
        (
            "rules-reload:rules-reload:p:1",
            "level changed",
            "staff",
            RuleChange,
            true,
        ),
        (
            "request:request:p:1",
            "no rule grants it",
            "staff",
            RuleChange,
            false,
        ),
        (
            "brake-release:brake-release:p:1",
            "no rule grants it",
            "staff",
            ManualRelease,
            false,
        ),
        (
            "reconcile:reconcile:p:1",
            "missing in ClickUp",
            "staff",
            Drift,
            false,
        ),
        (
            "reconcile:reconcile:p:1",
            "no rule grants it",
            "staff",
            Drift,
            false,
        ),
        (
            "reconcile:reconcile:p:1",
            "terminated",
            "staff",
            Leaver,
            false,
        ),
        ("", "", "staff", Unknown, false),
        ("manual:by-hand", "whatever", "staff", Unknown, false),
    ];
    for (ended_by, reason, rule, cause, level_changed) in cases {
        assert_eq!(
            classify(ended_by, reason, rule),
            (cause, level_changed),
            "{ended_by} / {reason} / {rule}"
        );
    }
}

#[test]
fn intervals_say_how_each_began_and_ended_and_a_level_change_is_two_adjacent_ones() {
    let mut edit = row(1, "list:310", "edit", 1_000, Some(5_000));
    edit.end_reason = Some("level changed".into());
    let create = row(2, "list:310", "create", 5_000, None);
    let mut requested = row(3, "folder:610", "read", 2_000, Some(9_000));
    requested.rule = "request:86req".into();
    requested.ended_by = Some("expiry:expiry:p3:9000".into());
    requested.end_reason = Some("expired".into());
    let approvals = vec![
        Approval {
            task_id: "86req".into(),
            step: 0,
            decided_by: "clickup:9001007".into(),
            via: "clickup-status".into(),
            at: 1_500,
        },
        Approval {
            task_id: "86other".into(),
            step: 0,
            decided_by: "clickup:1".into(),
            via: "clickup-status".into(),
            at: 1_500,
        },
    ];
    let names = Names::from([("clickup:9001007".into(), "morgan@example.com".into())]);

    let built = intervals(&[create, requested, edit], &approvals, &names);

    let summary: Vec<(i64, Option<i64>, String, Option<String>)> = built
        .iter()
        .map(|i| {
            (
                i.from.timestamp_millis(),
                i.to.map(|t| t.timestamp_millis()),
                i.granted_by.describe(),
                i.ended.as_ref().map(Ended::describe),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                1_000,
                Some(5_000),
                "rule finance-analysts".into(),
                Some("mover (level changed)".into())
            ),
            (
                2_000,
                Some(9_000),
                "request 86req approved by morgan@example.com".into(),
                Some("request_end".into())
            ),
            (5_000, None, "rule finance-analysts".into(), None),
        ]
    );
    assert_eq!(built[0].to, Some(built[2].from), "adjacent");
    let raw = built[1].ended.as_ref().unwrap();
    assert_eq!(
        (raw.ended_by.as_str(), raw.reason.as_str()),
        ("expiry:expiry:p3:9000", "expired")
    );
}

#[test]
fn who_held_an_object_at_a_time_counts_ancestors_and_admins() {
    let noon = 12_000;
    let grants = [
        row(1, "space:700", "read", 1_000, None), // before, still open
        row(2, "space:700", "edit", 1_000, Some(11_000)), // closed before noon
        row(3, "space:700", "read", 13_000, None), // opened after noon
        row(4, "space:700", "edit", 2_000, Some(12_000)), // closed at noon: not held
        row(5, "space:700", "edit", 12_000, None), // opened at noon: held
        row(6, "folder:710", "read", 1_000, None), // a child: not access to the space
        row(7, "workspace:1", "admin", 1_000, None), // an admin sees everything
        row(8, "workspace:1", "member", 1_000, None), // a member's role does not
        row(9, "list:711", "edit", 1_000, None),  // another object
    ];
    let built = intervals(&grants, &[], &Names::new());
    let at = millis(noon);
    let ancestors = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();

    // (object asked about, its ancestors, who held it at noon and how)
    type Case = (&'static str, Vec<String>, Vec<(&'static str, Via)>);
    let cases: [Case; 3] = [
        (
            "space:700",
            ancestors(&[]),
            vec![
                ("p1", Via::Direct),
                ("p5", Via::Direct),
                ("p7", Via::WorkspaceAdmin),
            ],
        ),
        (
            "list:711",
            ancestors(&["folder:710", "space:700"]),
            vec![
                (
                    "p1",
                    Via::Inherited {
                        from: "space:700".into(),
                    },
                ),
                (
                    "p5",
                    Via::Inherited {
                        from: "space:700".into(),
                    },
                ),
                (
                    "p6",
                    Via::Inherited {
                        from: "folder:710".into(),
                    },
                ),
                ("p7", Via::WorkspaceAdmin),
                ("p9", Via::Direct),
            ],
        ),
        (
            "workspace:1",
            ancestors(&[]),
            vec![("p7", Via::Direct), ("p8", Via::Direct)],
        ),
    ];
    for (object, above, expected) in cases {
        let found: Vec<(String, Via)> = access_at(&built, object, &above, at)
            .into_iter()
            .map(|a| (a.interval.iam_id, a.via))
            .collect();
        let expected: Vec<(String, Via)> = expected
            .into_iter()
            .map(|(p, v)| (p.to_owned(), v))
            .collect();
        assert_eq!(found, expected, "{object}");
    }
}

#[test]
fn objects_are_named_with_their_kind() {
    let cases = [
        ("list:901100000310", Ok("list:901100000310")),
        ("space:901100000700", Ok("space:901100000700")),
        ("workspace:9012345678", Ok("workspace:9012345678")),
        ("group:All staff", Ok("All staff")),
        (
            "901100000310",
            Err(ObjectKeyError::BareId("901100000310".into())),
        ),
        ("list:abc", Err(ObjectKeyError::Unknown("list:abc".into()))),
        (
            "task:86abc",
            Err(ObjectKeyError::Unknown("task:86abc".into())),
        ),
        ("group:", Err(ObjectKeyError::Unknown("group:".into()))),
        ("Finance", Err(ObjectKeyError::Unknown("Finance".into()))),
        ("list:18446744073709551615", Ok("list:18446744073709551615")),
        (
            "list:18446744073709551616",
            Err(ObjectKeyError::IdTooLarge("18446744073709551616".into())),
        ),
        (
            "list:99999999999999999999999999",
            Err(ObjectKeyError::IdTooLarge(
                "99999999999999999999999999".into(),
            )),
        ),
        (
            "folder:99999999999999999999",
            Err(ObjectKeyError::IdTooLarge("99999999999999999999".into())),
        ),
        (
            "workspace:99999999999999999999",
            Err(ObjectKeyError::IdTooLarge("99999999999999999999".into())),
        ),
        ("group:99999999999999999999", Ok("99999999999999999999")),
    ];
    for (text, expected) in cases {
        let parsed = text.parse::<ObjectKey>().map(|key| key.grant_object());
        assert_eq!(parsed, expected.map(str::to_owned), "{text}");
    }
}

#[test]
fn audit_objects_that_name_a_clickup_object_need_an_id_clickup_can_hold() {
    // object, accepted
    let cases = [
        ("list:901100000310", true),
        ("space:18446744073709551615", true),
        ("workspace:9012345678", true),
        ("task:86abc", true),
        ("clickup:user:9001007", true),
        ("clickup:team:9012345678:user:9001007", true),
        ("All staff", true),
        ("list:18446744073709551616", false),
        ("list:abc", false),
        ("folder:", false),
        ("workspace:x", false),
    ];
    for (object, accepted) in cases {
        assert_eq!(check_audit_object(object).is_ok(), accepted, "{object}");
    }
}

#[test]
fn times_are_rfc3339_or_a_date_time_read_as_utc_and_nothing_else() {
    let utc = |h, m, s| Utc.with_ymd_and_hms(2026, 12, 3, h, m, s).unwrap();
    let cases = [
        ("2026-12-03T12:00:00Z", Some(utc(12, 0, 0))),
        ("2026-12-03T13:00:00+01:00", Some(utc(12, 0, 0))),
        (
            "2026-12-03T12:00:00.250Z",
            Some(utc(12, 0, 0) + chrono::Duration::milliseconds(250)),
        ),
        ("2026-12-03T12:00:00", Some(utc(12, 0, 0))),
        ("2026-12-03 12:00:30", Some(utc(12, 0, 30))),
        ("2026-12-03 12:00", Some(utc(12, 0, 0))),
        ("2026-12-03T12:00", Some(utc(12, 0, 0))),
        ("2026-12-03", None),
        ("yesterday at noon", None),
        ("12:00", None),
        ("2026-12-03 12:00 CET", None),
        ("", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_time(text).ok(), expected, "{text}");
    }
    let refused = parse_time("2026-12-03").unwrap_err().to_string();
    assert!(
        refused.contains("RFC 3339") && refused.contains("UTC"),
        "{refused}"
    );
}
