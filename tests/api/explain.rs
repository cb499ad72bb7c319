//! `rules explain` on the binary, for every IAM fixture: the plan, the rule responsible for
//! each action and the phrases an operator reads, without a store (no file is created) and
//! against a store seeded with people (no table and no byte of it changes).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clickup_iam_router::store::Store;

use crate::{
    explain_kit::{
        check_every_fixture, contents, expect, explain_file, file_bytes, mark_joins, tables,
        Expect, FIXTURES, RULES,
    },
    helpers::{fixture_json, spawn_app_with, Options},
};

const PARTIAL: &str = "Note: this event is a partial snapshot";
const GIVE_RECORD: &str = "give --database-url to plan against the router's record";
const NO_GRANTS: &str = "No open grants to close: no record given";
const INACTIVE: &str = "rule `inactive` (built-in): the IAM ended the person";

/// The contractor's share lasts until the end of 2026; after it, the built-in `ended` rule.
fn contractor() -> Expect {
    let end: DateTime<Utc> = "2026-12-31T23:59:59Z".parse().unwrap();
    match Utc::now() < end {
        true => expect(
            "02-joiner-contractor-end-date.json",
            &["data-platform-contractor"],
            &[
                "plan against an empty record (a joiner's view):",
                "1. invite as guest",
                "2. share list:901100000510 at edit until 2026-12-31T23:59:59Z",
            ],
            &[PARTIAL],
        ),
        false => expect(
            "02-joiner-contractor-end-date.json",
            &[],
            &["- `ended` (built-in)"],
            &[PARTIAL],
        ),
    }
}

fn without_record() -> Vec<Expect> {
    let partial = &[
        PARTIAL,
        GIVE_RECORD,
        "plan against this event's attributes alone:",
    ];
    let nothing = &[
        PARTIAL,
        GIVE_RECORD,
        "No ClickUp access is desired: no rule matched.",
    ];
    vec![
        expect(
            "01-joiner-employee.json",
            &["all-staff", "handover-contributors"],
            &[
                "lane: provision (routing key iam.user.created)",
                "plan against an empty record (a joiner's view):",
                "1. invite as member",
                "5. share list:901100000310 at edit",
            ],
            &[PARTIAL],
        ),
        contractor(),
        expect("03-mover-dept-title-role.json", &["handover-approvers"], partial, &[]),
        expect(
            "04-leaver-terminated.json",
            &["inactive"],
            &[
                "lane: deprovision (routing key iam.user.terminated)",
                INACTIVE,
                "triggered by: type iam.user.terminated (status=terminated), data.lifecycle = \"leaver\"",
                "never held by the brake",
                "looked up in ClickUp by email mark.lee@example.com",
                NO_GRANTS,
            ],
            &[PARTIAL],
        ),
        expect(
            "05-disable.json",
            &["inactive"],
            &[INACTIVE, "triggered by: type iam.user.disabled (status=disabled)", NO_GRANTS],
            &[PARTIAL],
        ),
        expect("06-reenable.json", &[], nothing, &[]),
        expect("07-manager-change.json", &[], nothing, &[]),
        expect("08-group-membership-added.json", &[], nothing, &[]),
        expect("09-group-membership-removed.json", &[], nothing, &[]),
        expect(
            "10-from-ssf-risc-account-disabled.json",
            &["inactive"],
            &[
                INACTIVE,
                "triggered by: type iam.user.disabled (status=disabled)",
                "data.reason.code = \"hijacking\"",
                "never held by the brake",
                NO_GRANTS,
            ],
            &[],
        ),
        expect(
            "11-from-scim-patch-active-false.json",
            &["inactive"],
            &[INACTIVE, "a removal through SCIM passes the brake", NO_GRANTS],
            &[],
        ),
        expect(
            "12-batch-membership.cloudevents-batch.json",
            &[],
            &[
                "batch of 2 event(s) (application/cloudevents-batch+json)",
                "=== event 1 of 2",
                "(com.example.iam.membership.added.v1)",
                "=== event 2 of 2",
                "(com.example.iam.membership.removed.v1)",
                "plan against the record as this file's earlier events leave it:",
                PARTIAL,
            ],
            &[],
        ),
        expect(
            "13-request-decided-approved.json",
            &[],
            &[
                "lane: approvals (routing key iam.request.decided)",
                "Not an identity event: it changes no identity rules plan.",
                "Without --database-url, whether the router opened request 361da2b03d4c44a5990b1745b5c6a78d is not known.",
            ],
            &["plan against"],
        ),
    ]
}

fn with_record() -> Vec<Expect> {
    let kept = &[
        "plan against the router's record:",
        "No changes.",
        "Matched, no action needed (what they give is on record):",
        "- `all-staff` (",
    ];
    vec![
        expect(
            "01-joiner-employee.json",
            &[],
            &[
                "plan against the router's record:",
                "No changes.",
                "- `all-staff` (",
                "- `handover-contributors` (",
            ],
            &[PARTIAL],
        ),
        contractor(),
        expect(
            "03-mover-dept-title-role.json",
            &["handover-approvers"],
            &[
                "plan against the router's record:",
                "1. add to group \"Approvers\"",
                "2. change list:901100000310 from edit to create",
                "3. remove from group \"Contributors\"",
                "   granted by rule `handover-contributors` (",
                "which no longer matches: \"Sales-Base\" in person.roles",
                "   read now: person.roles = [\"CS-Team\"]",
            ],
            &[PARTIAL, "invite", "no rule asks for"],
        ),
        expect(
            "04-leaver-terminated.json",
            &["inactive"],
            &[
                "plan against the router's record:",
                INACTIVE,
                "triggered by: type iam.user.terminated (status=terminated)",
                "on record for user:c0ffee00c0ffee00c0ffee00c0ffee00",
                "2. close 5 open grant(s), ended by this leaver:",
                "- user:c0ffee00c0ffee00c0ffee00c0ffee00: role member (granted by rule `all-staff`)",
                "share list:901100000310 at edit (granted by rule `handover-contributors`)",
            ],
            &["no record given"],
        ),
        expect(
            "05-disable.json",
            &["inactive"],
            &[
                INACTIVE,
                "on record for user:9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50",
                "2. close 5 open grant(s), ended by this leaver:",
                "- user:9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50: group \"Contributors\" (granted by rule `handover-contributors`)",
            ],
            &["no record given"],
        ),
        expect("06-reenable.json", &[], kept, &[PARTIAL]),
        expect("07-manager-change.json", &[], kept, &[PARTIAL]),
        expect("08-group-membership-added.json", &[], kept, &[PARTIAL]),
        expect("09-group-membership-removed.json", &[], kept, &[PARTIAL]),
        expect(
            "10-from-ssf-risc-account-disabled.json",
            &["inactive"],
            &[
                "plan against the router's record, which has no user:f3a9c1d2-0000-4000-8000-00000000abcd:",
                "found by the email jane.doe@example.com: ClickUp user",
                "on record for user:9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50",
                "2. close 5 open grant(s), ended by this leaver:",
            ],
            &[],
        ),
        expect(
            "11-from-scim-patch-active-false.json",
            &["inactive"],
            &[
                "found by the email jane.doe@example.com: ClickUp user",
                "2. close 5 open grant(s), ended by this leaver:",
                "a removal through SCIM passes the brake",
            ],
            &[],
        ),
        expect(
            "12-batch-membership.cloudevents-batch.json",
            &[],
            &[
                "=== event 1 of 2",
                "plan against the router's record:",
                "=== event 2 of 2",
                "plan against the router's record as this file's earlier events would change it:",
                "No changes.",
            ],
            &[PARTIAL],
        ),
        expect(
            "13-request-decided-approved.json",
            &[],
            &[
                "Not an identity event: it changes no identity rules plan.",
                "The router opened no request 361da2b03d4c44a5990b1745b5c6a78d in the IAM: the lane records the event as ignored.",
            ],
            &["plan against"],
        ),
    ]
}

#[tokio::test]
async fn rules_explain_without_a_store_explains_every_fixture_and_creates_nothing() {
    let before = contents(&[FIXTURES, RULES]);
    let cwd = tempfile::tempdir().unwrap();

    let expected = without_record();
    check_every_fixture(&expected, cwd.path(), None).await;

    let created: Vec<PathBuf> = std::fs::read_dir(cwd.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(created, Vec::<PathBuf>::new(), "explain created files");
    assert!(
        before == contents(&[FIXTURES, RULES]),
        "a fixture or rule file changed"
    );
}

#[tokio::test]
async fn rules_explain_against_a_store_explains_every_fixture_and_changes_nothing() {
    let mut app = spawn_app_with(Options::default()).await;
    for joiner in [fixture_json("iam/01-joiner-employee.json"), mark_joins()] {
        app.post_iam(&serde_json::to_vec(&joiner).unwrap()).await;
        assert_eq!(app.wait_processed(&joiner).await.outcome, "applied");
    }
    // Nothing of the router's own runs while the store is compared, and the comparison reads
    // through a pool of its own, not the stopped router's.
    app.halt().await;
    let database = app.settings.store.database_url.expose().to_string();
    let store = Store::open(&app.settings.store).await.unwrap();
    let tables_before = tables(&store).await;
    let bytes_before = file_bytes(&database);
    for (table, least) in [("identities", 2), ("grants", 10), ("audit", 10)] {
        let rows = tables_before.get(table).map_or(0, Vec::len);
        assert!(rows >= least, "{table}: {rows} row(s) seeded");
    }
    let cwd = tempfile::tempdir().unwrap();

    let expected = with_record();
    check_every_fixture(&expected, cwd.path(), Some(&database)).await;

    let tables_after = tables(&store).await;
    for (table, rows) in &tables_before {
        assert_eq!(rows, &tables_after[table], "table {table} changed");
    }
    assert_eq!(tables_before.len(), tables_after.len(), "a table appeared");
    // Read-only means the file too: a connection that could write would checkpoint the
    // write-ahead log into it on closing.
    assert!(
        bytes_before == file_bytes(&database),
        "the store's files changed"
    );
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
    app.stop().await;
}

/// A batch is explained event by event, each against what the ones before it would leave: a
/// mover after its joiner plans against the joiner's grants, not against nothing.
#[tokio::test]
async fn a_batch_is_explained_in_order_and_refused_as_the_receiver_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let joiner = fixture_json("iam/01-joiner-employee.json");
    let mover = fixture_json("iam/03-mover-dept-title-role.json");
    let batch = dir.path().join("joiner-then-mover.json");
    std::fs::write(&batch, serde_json::to_vec(&[&joiner, &mover]).unwrap()).unwrap();
    let mut unsigned = mover.clone();
    unsigned.as_object_mut().unwrap().remove("subject");
    let refused = dir.path().join("refused.json");
    std::fs::write(&refused, serde_json::to_vec(&[&joiner, &unsigned]).unwrap()).unwrap();

    let explained = explain_file(&batch, dir.path(), None).await;
    let refusal = explain_file(&refused, dir.path(), None).await;

    let text = String::from_utf8(explained.stdout).unwrap();
    assert!(explained.status.success(), "{text}");
    let (first, second) = text.split_once("=== event 2 of 2").expect("two events");
    assert!(first.contains("1. invite as member"), "{text}");
    let says = [
        "plan against the record as this file's earlier events leave it:",
        "3 actions:",
        "1. add to group \"Approvers\"",
        "3. remove from group \"Contributors\"",
        "   granted by rule `handover-contributors` (",
        "   read now: person.roles = [\"CS-Team\"]",
    ];
    for says in says {
        assert!(second.contains(says), "{says:?} missing in:\n{second}");
    }
    assert!(
        !second.contains("invite") && !second.contains(PARTIAL),
        "{second}"
    );
    assert!(!refusal.status.success());
    let stderr = String::from_utf8_lossy(&refusal.stderr);
    assert!(
        stderr.contains("the receiver would refuse this batch") && stderr.contains("/1/subject"),
        "{stderr}"
    );
}
