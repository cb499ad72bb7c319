//! Tables for the cursor, the entitlement check and the row mapping.

use super::*;

fn record(id: &str, at: i64, event_type: &str) -> AuditLogRecord {
    AuditLogRecord {
        id: id.into(),
        event_type: event_type.into(),
        at,
        status: Some("success".into()),
        actor_id: Some("501".into()),
        target_id: Some("777".into()),
        target_email: Some("someone@example.com".into()),
        role: None,
        group_id: None,
        group_name: None,
        object: None,
        level: None,
    }
}

fn grant(kind: GrantKind, object: &str, level: &str) -> Grant {
    Grant {
        id: 1,
        iam_id: "aa01".into(),
        kind,
        object: object.into(),
        level: level.into(),
        custom_role_id: None,
        rule: "r".into(),
        event_id: "e".into(),
        since: 0,
        until: None,
    }
}

#[test]
fn passing_a_millisecond_keeps_later_records_new_and_drops_the_rest_of_it() {
    let mut cursor = Cursor::starting_at(0);
    assert!(cursor.admit(&record("a", 10, "INVITE_TO_WORKSPACE")));
    cursor.pass_millisecond();

    let cases = [
        ("b", 10, false),
        ("a", 10, false),
        ("c", 11, true),
        ("d", 9, false),
    ];
    for (id, at, new) in cases {
        assert_eq!(
            cursor.is_new(&record(id, at, "JOIN_WORKSPACE")),
            new,
            "{id}@{at}"
        );
    }
    assert_eq!((cursor.at, cursor.seen.len()), (11, 0));
}

#[test]
fn the_cursor_records_each_record_once_across_pages_and_restarts() {
    let mut cursor = Cursor::starting_at(100);
    let steps = [
        (record("a", 99, "JOIN_WORKSPACE"), false),
        (record("b", 100, "JOIN_WORKSPACE"), true),
        (record("b", 100, "JOIN_WORKSPACE"), false),
        (record("c", 100, "JOIN_WORKSPACE"), true),
        (record("d", 150, "JOIN_WORKSPACE"), true),
        (record("c", 100, "JOIN_WORKSPACE"), false),
        (record("e", 150, "JOIN_WORKSPACE"), true),
        (record("d", 150, "JOIN_WORKSPACE"), false),
    ];
    for (n, (record, new)) in steps.iter().enumerate() {
        assert_eq!(cursor.is_new(record), *new, "step {n} (peek)");
        assert_eq!(cursor.admit(record), *new, "step {n}");
    }

    let stored = serde_json::to_string(&cursor).unwrap();
    let mut restored: Cursor = serde_json::from_str(&stored).unwrap();

    assert_eq!(
        restored,
        Cursor {
            at: 150,
            seen: vec!["d".into(), "e".into()]
        }
    );
    assert!(!restored.admit(&record("e", 150, "JOIN_WORKSPACE")));
    assert!(restored.admit(&record("f", 150, "JOIN_WORKSPACE")));
}

#[test]
fn changes_are_flagged_unless_the_iam_entitles_them() {
    let member = [grant(GrantKind::Role, "workspace:1", "member")];
    let finance = [
        grant(GrantKind::Role, "workspace:1", "member"),
        grant(GrantKind::Group, "finance", "member"),
        grant(GrantKind::Share, "list:9", "comment"),
    ];
    let active = |grants| Concerned {
        iam_id: "aa01",
        status: "active",
        grants,
    };
    let left = Concerned {
        iam_id: "aa01",
        status: "terminated",
        grants: &[],
    };
    let with = |mut r: AuditLogRecord, f: &dyn Fn(&mut AuditLogRecord)| {
        f(&mut r);
        r
    };
    let invite = record("1", 1, "INVITE_TO_WORKSPACE");
    let as_admin = with(record("2", 1, "CHANGE_USER_ROLE"), &|r| r.role = Some(2));
    let as_member = with(record("3", 1, "CHANGE_USER_ROLE"), &|r| r.role = Some(3));
    let to_finance = with(record("4", 1, "TEAM_MEMBER_ADDED"), &|r| {
        r.group_id = Some("g-1".into());
        r.group_name = Some("finance".into());
    });
    let edit_list = with(record("5", 1, "SHARE_CHANGED"), &|r| {
        r.object = Some("list:9".into());
        r.level = Some("edit".into());
    });
    let read_list = with(edit_list.clone(), &|r| r.level = Some("read".into()));
    let unshare = with(edit_list.clone(), &|r| r.level = None);
    let removal = record("6", 1, "REMOVE_FROM_WORKSPACE");

    let cases: [(&AuditLogRecord, Option<&Concerned>, Option<&str>); 11] = [
        (&invite, None, Some("no IAM identity")),
        (&invite, Some(&left), Some("is terminated")),
        (&invite, Some(&active(&[])), Some("no workspace membership")),
        (&invite, Some(&active(&member)), None),
        (
            &as_admin,
            Some(&active(&member)),
            Some("the member role, not admin"),
        ),
        (&as_member, Some(&active(&member)), None),
        (
            &to_finance,
            Some(&active(&member)),
            Some("no membership of this user group"),
        ),
        (&to_finance, Some(&active(&finance)), None),
        (
            &edit_list,
            Some(&active(&finance)),
            Some("lower level than edit"),
        ),
        (&read_list, Some(&active(&finance)), None),
        (&unshare, None, None),
    ];
    for (n, (record, person, expected)) in cases.into_iter().enumerate() {
        let got = unentitled(record, person);
        match expected {
            None => assert_eq!(got, None, "case {n}"),
            Some(part) => assert!(
                got.as_deref().is_some_and(|g| g.contains(part)),
                "case {n}: {got:?} lacks {part:?}"
            ),
        }
    }
    assert_eq!(unentitled(&removal, None), None);
}

#[test]
fn a_record_becomes_a_row_of_ids_without_emails() {
    let mut by_hand = record("42", 1_700_000_000_000, "INVITE_TO_WORKSPACE");
    by_hand.role = Some(3);
    let context = Context {
        team_id: 9012345678,
        iam_id: Some("aa01"),
        by_router: false,
        correlation_id: "clickup-audit:42".into(),
        flagged: Some("the IAM entitles no workspace membership".into()),
    };

    let row = entry(&by_hand, &context);

    assert_eq!(row.actor, "clickup-user:501");
    assert_eq!(row.action, "clickup.audit_log");
    assert_eq!(row.subject.as_deref(), Some("user:aa01"));
    assert_eq!(
        row.object.as_deref(),
        Some("clickup:team:9012345678:user:777")
    );
    assert_eq!(row.outcome, "flagged");
    assert_eq!(row.event_id, "clickup-audit:42");
    assert_eq!(row.detail["event_type"], "INVITE_TO_WORKSPACE");
    assert_eq!(row.detail["role"], "member");
    assert_eq!(row.detail["clickup_user_id"], "777");
    assert!(row.detail["reason"].is_string());
    assert!(!row.detail.to_string().contains('@'), "{}", row.detail);

    let by_router = Context {
        by_router: true,
        flagged: None,
        iam_id: None,
        ..context
    };
    let mut share = record("43", 1, "SHARE_CHANGED");
    share.object = Some("list:9".into());
    let row = entry(&share, &by_router);

    assert_eq!(row.outcome, "recorded");
    assert_eq!(row.subject, None);
    assert_eq!(row.object.as_deref(), Some("list:9"));
    assert_eq!(row.detail["by_router"], true);
}
