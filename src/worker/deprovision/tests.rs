use std::time::Duration;

use serde_json::json;

use super::{
    scim::{self, is_scim, Job, Mode},
    ROUTER_ACTOR,
};
use crate::{
    ingest::envelope::Envelope,
    rules::BrakeSettings,
    store::{temp_store as store, AuditEntry, NewHold},
    worker::brake::{Brake, Verdict},
};

const OKTA: &str = "urn:scim:client:okta";
const REST_DRIVER: &str = "urn:opentext:idm:ACME-TREE:driverset1:ClickUp-REST";

fn envelope(source: &str) -> Envelope {
    serde_json::from_value(json!({
        "specversion": "1.0",
        "id": "e1",
        "source": source,
        "type": "com.example.iam.user.terminated.v1",
        "time": "2026-07-14T09:00:03Z",
        "datacontenttype": "application/json",
        "correlationid": "c1",
        "routingkey": "iam.user.terminated",
        "data": { "lifecycle": "leaver", "user": { "id": "next" } }
    }))
    .unwrap()
}

/// An account removal of the deprovision lane, as its audit row names it.
fn removal(person: usize, cause: &str) -> AuditEntry {
    AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: "clickup.remove_member".into(),
        subject: Some(format!("user:p{person}")),
        object: Some("clickup:team:1:user:2".into()),
        outcome: "removed_member".into(),
        correlation_id: "c".into(),
        event_id: format!("e{person}"),
        detail: json!({ "cause": cause }),
    }
}

#[test]
fn scim_sources_are_told_from_the_iam_drivers() {
    let cases = [
        (OKTA, true),
        ("urn:scim:client:opentext-idm-scim-driver", true),
        ("URN:SCIM:client:entra", true),
        (REST_DRIVER, false),
        ("urn:scimitar:client:okta", false),
        ("urn:scim", false),
        ("", false),
    ];

    for (source, scim) in cases {
        assert_eq!(is_scim(source), scim, "{source}");
    }
}

#[test]
fn audit_rows_name_the_cause_the_brake_window_reads() {
    let release = Mode::Release {
        by: "ops",
        held_at: 0,
    };
    let cases = [
        (OKTA, Mode::Lane, json!({ "cause": "scim" })),
        (REST_DRIVER, Mode::Lane, json!({ "cause": "leaver" })),
        (
            OKTA,
            release,
            json!({ "cause": "brake-release", "released_by": "ops" }),
        ),
    ];

    for (source, mode, expected) in cases {
        let envelope = envelope(source);
        let job = Job {
            envelope: &envelope,
            mode,
        };
        let mut detail = json!({});

        job.describe(&mut detail);

        assert_eq!(detail, expected, "{source} {mode:?}");
    }
}

#[tokio::test]
async fn only_scim_removals_meet_the_brake_counted_with_the_window_and_held_when_engaged() {
    let brake = Brake {
        settings: BrakeSettings {
            max_people: 3,
            max_percent: 100.0,
            window: Duration::from_secs(600),
        },
    };
    let release = Mode::Release {
        by: "ops",
        held_at: 0,
    };
    // (source, mode, earlier SCIM removals, earlier IAM-driver leavers, brake engaged, held)
    let cases = [
        (OKTA, Mode::Lane, 0, 0, false, false),
        (OKTA, Mode::Lane, 2, 0, false, false),
        (OKTA, Mode::Lane, 3, 0, false, true),
        (OKTA, Mode::Lane, 0, 10, false, false),
        (OKTA, Mode::Lane, 2, 10, false, false),
        (OKTA, Mode::Lane, 0, 0, true, true),
        (REST_DRIVER, Mode::Lane, 3, 0, false, false),
        (REST_DRIVER, Mode::Lane, 0, 10, false, false),
        (REST_DRIVER, Mode::Lane, 5, 5, true, false),
        (OKTA, release, 3, 0, false, false),
        (OKTA, release, 0, 0, true, false),
    ];

    for (source, mode, scim_removals, leavers, engaged, held) in cases {
        let (store, _dir) = store().await;
        crate::worker::brake::tests::managed_population(&store, 0..100, "active").await;
        for person in 0..scim_removals {
            store.append_audit(&removal(person, "scim")).await.unwrap();
        }
        for person in 0..leavers {
            let row = removal(100 + person, "leaver");
            store.append_audit(&row).await.unwrap();
        }
        if engaged {
            let hold = NewHold {
                iam_id: "earlier".into(),
                actions: vec!["remove from group \"All staff\"".into()],
                cause: "event: over the limit".into(),
                envelope: None,
            };
            let row = AuditEntry {
                action: "brake.hold".into(),
                outcome: "held".into(),
                ..removal(999, "event")
            };
            store.hold_removals(&hold, &row).await.unwrap();
        }
        let envelope = envelope(source);
        let job = Job {
            envelope: &envelope,
            mode,
        };

        let verdict = scim::verdict(&brake, &store, &job, "next").await.unwrap();

        let case = (source, mode, scim_removals, leavers, engaged);
        assert_eq!(matches!(verdict, Verdict::Hold { .. }), held, "{case:?}");
    }
}
