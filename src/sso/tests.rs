//! The report's cases, one table row each.

use super::*;

fn member(id: u64, email: &str, role: u8) -> Member {
    Member {
        id,
        username: None,
        email: Some(email.into()),
        role: Some(role),
    }
}

fn identity(iam_id: &str, email: &str, status: &str, linked: Option<i64>) -> IdentityRecord {
    IdentityRecord {
        iam_id: iam_id.into(),
        email: Some(email.into()),
        status: status.into(),
        attributes: serde_json::json!({}),
        clickup_user_id: linked,
        event_time: 0,
        enabled_at: None,
    }
}

/// What each list of the report holds, by user id or IAM id.
fn summary(report: &SsoReport) -> (Vec<u64>, Vec<u64>, Vec<String>, Vec<String>) {
    (
        report.bypass.iter().map(|b| b.account.user_id).collect(),
        report
            .privileged
            .iter()
            .map(|p| p.account.user_id)
            .collect(),
        report
            .inactive_with_access
            .iter()
            .map(|i| i.iam_id.clone())
            .collect(),
        report
            .email_mismatches
            .iter()
            .map(|m| m.iam_id.clone())
            .collect(),
    )
}

#[test]
fn each_case_lands_in_its_list() {
    type Case = (
        &'static str,
        Vec<Member>,
        Vec<IdentityRecord>,
        Vec<(&'static str, i64)>,
        (Vec<u64>, Vec<u64>, Vec<&'static str>, Vec<&'static str>),
    );
    let cases: Vec<Case> = vec![
        (
            "linked and active: nothing to say",
            vec![member(10, "ann@example.com", 3)],
            vec![identity("ann", "ann@example.com", "active", Some(10))],
            vec![],
            (vec![], vec![], vec![], vec![]),
        ),
        (
            "an account with no identity bypasses SSO",
            vec![member(11, "mark@example.com", 3)],
            vec![],
            vec![],
            (vec![11], vec![], vec![], vec![]),
        ),
        (
            "an unlinked identity matches by email, trimmed and case-insensitive",
            vec![member(12, " Bo@Example.com", 4)],
            vec![identity("bo", "bo@example.com ", "active", None)],
            vec![],
            (vec![], vec![], vec![], vec![]),
        ),
        (
            "the owner and the router's account are set apart",
            vec![
                member(1, "owner@example.com", 1),
                member(2, "svc@example.com", 2),
            ],
            vec![],
            vec![],
            (vec![], vec![1, 2], vec![], vec![]),
        ),
        (
            "a disabled identity with its account bypasses and keeps access",
            vec![member(13, "jo@example.com", 3)],
            vec![identity("jo", "jo@example.com", "disabled", Some(13))],
            vec![],
            (vec![13], vec![], vec!["jo"], vec![]),
        ),
        (
            "a terminated identity with open grants but no account keeps access on record",
            vec![],
            vec![identity("al", "al@example.com", "terminated", None)],
            vec![("al", 2)],
            (vec![], vec![], vec!["al"], vec![]),
        ),
        (
            "a terminated identity with nothing left is fine",
            vec![],
            vec![identity("ex", "ex@example.com", "terminated", None)],
            vec![],
            (vec![], vec![], vec![], vec![]),
        ),
        (
            "a link to an account with another email is a mismatch",
            vec![member(14, "jane.doe@example.com", 3)],
            vec![identity(
                "jane",
                "jane.smith@example.com",
                "active",
                Some(14),
            )],
            vec![],
            (vec![], vec![], vec![], vec!["jane"]),
        ),
    ];
    for (name, accounts, identities, grants, expected) in cases {
        let grants: HashMap<String, i64> =
            grants.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();

        let report = compare(&accounts, Some(2), &identities, &grants);

        let expected = (
            expected.0,
            expected.1,
            expected.2.into_iter().map(str::to_owned).collect(),
            expected.3.into_iter().map(str::to_owned).collect(),
        );
        assert_eq!(summary(&report), expected, "{name}");
    }
}

#[test]
fn privileged_accounts_say_what_they_are() {
    let report = compare(
        &[member(1, "svc@example.com", 1)],
        Some(1),
        &[],
        &HashMap::new(),
    );
    assert_eq!(
        report.privileged[0].what,
        ["router account", "workspace owner"]
    );
}
