//! The client against the stand-in on loopback: the approval round trip, outcomes without
//! a decision, paging, and secrets kept out of `Debug`; shared helpers for the other tests.

use std::time::Duration;

use super::*;
use crate::sandbox::iam::{
    testing::{self, *},
    IamSandbox, IamSandboxConfig,
};

pub(super) async fn client_for(sandbox: &IamSandbox) -> IamClient {
    IamClient::new(&settings(sandbox)).expect("client")
}

pub(super) async fn open(client: &IamClient) -> String {
    client
        .open_request(
            PRD_DN,
            RECIPIENT_DN,
            &[
                ("reason", "Needs CS space".to_owned()),
                ("clickupTaskId", "86b1x2y3z".to_owned()),
            ],
        )
        .await
        .expect("request opened")
}

/// Statuses the stand-in answered on `path` (under `/IDMProv/rest/access`, or the token
/// endpoint), in order.
pub(super) fn statuses(sandbox: &IamSandbox, path: &str) -> Vec<u16> {
    sandbox
        .calls()
        .into_iter()
        .filter(|(_, p, _)| p == path || p.strip_prefix("/IDMProv/rest/access") == Some(path))
        .map(|(_, _, status)| status)
        .collect()
}

#[tokio::test]
async fn round_trip_opens_lists_acts_as_the_approver_and_reads_the_outcome() {
    let cases = [
        (
            TaskAction::Approve,
            "Approved in ClickUp task 86b1x2y3z",
            "approved",
        ),
        (
            TaskAction::Deny,
            "Denied in ClickUp: no business need",
            "denied",
        ),
    ];

    for (action, comment, decision) in cases {
        let mut receiver = start_receiver(202).await;
        let sandbox = start(IamSandboxConfig {
            notify: Some(receiver.notify()),
            ..testing::config()
        })
        .await;
        let client = client_for(&sandbox).await;

        let id = open(&client).await;
        let pending = client.request_status(&id).await.expect("status");
        let tasks = client.approval_tasks(&id).await.expect("tasks");
        client
            .act_on_task(&tasks[0].task_id, action, comment, Some(APPROVER_DN))
            .await
            .expect("acted");
        let decided = client.request_status(&id).await.expect("status");
        let left = client.approval_tasks(&id).await.expect("tasks");
        let pushed = receiver.next().await;

        assert_eq!(pending, RequestStatus::Pending);
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].activity, "approval_1");
        assert_eq!(tasks[0].addressee.as_deref(), Some(APPROVER_DN));
        assert_eq!(tasks[0].assigned_to.as_deref(), Some(APPROVER_DN));
        let approver_dn = Some(APPROVER_DN.to_owned());
        let comment = Some(comment.to_owned());
        let expected = match action {
            TaskAction::Approve => RequestStatus::Approved {
                approver_dn,
                comment,
            },
            TaskAction::Deny => RequestStatus::Denied {
                approver_dn,
                comment,
            },
        };
        assert_eq!(decided, expected);
        assert!(left.is_empty());
        let event = verified(&pushed);
        assert_eq!(event["data"]["request"]["decision"], decision);
        assert_eq!(event["data"]["request"]["request_id"], id.as_str());
        assert_eq!(event["data"]["request"]["approver"]["dn"], APPROVER_DN);
        assert_eq!(
            event["data"]["request"]["external_ref"],
            "clickup:task:86b1x2y3z"
        );
        assert_eq!(sandbox.grants(), ["password"], "one token serves them all");
        sandbox.stop().await;
        receiver.stop().await;
    }
}

#[tokio::test]
async fn outcomes_without_a_decision_are_reported_as_such() {
    let sandbox = start(testing::config()).await;
    let failing = "cn=No-Approval,cn=RequestDefs,cn=AppConfig,o=system";
    sandbox.add_prd(failing, "No Approval", &[]);
    let client = client_for(&sandbox).await;

    let failed_id = client
        .open_request(failing, RECIPIENT_DN, &[])
        .await
        .expect("opened");
    let failed = client.request_status(&failed_id).await.expect("status");
    let missing = client
        .request_status("00000000000000000000000000000000")
        .await
        .expect("status");

    assert_eq!(failed, RequestStatus::Failed);
    assert_eq!(missing, RequestStatus::NotFound);
    sandbox.stop().await;
}

#[tokio::test]
async fn lists_are_paged_until_the_request_is_found() {
    let sandbox = start(testing::config()).await;
    let client = client_for(&sandbox).await.with_page_size(2);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(open(&client).await);
    }

    // The history is newest first: the oldest request is on the third page.
    let oldest = client.request_status(&ids[0]).await.expect("status");
    let newest = client.request_status(&ids[4]).await.expect("status");
    // Tasks are oldest first: the newest request's task is on the third page.
    let tasks = client.approval_tasks(&ids[4]).await.expect("tasks");
    let missing = client
        .request_status("ffffffffffffffffffffffffffffffff")
        .await
        .expect("status");

    assert_eq!(oldest, RequestStatus::Pending);
    assert_eq!(newest, RequestStatus::Pending);
    assert_eq!(tasks.len(), 1);
    let expected_task = &sandbox.requests()[4].tasks[0].task_id;
    assert_eq!(&tasks[0].task_id, expected_task);
    assert_eq!(missing, RequestStatus::NotFound);
    // 3 pages for the oldest, 1 for the newest, 3 for the missing one.
    assert_eq!(statuses(&sandbox, "/requests/historylist").len(), 7);
    assert_eq!(statuses(&sandbox, "/tasks/list").len(), 3);
    sandbox.stop().await;
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let sandbox = start(testing::config()).await;
    let settings = settings(&sandbox);
    let client = client_for(&sandbox).await;
    client.approval_tasks("x").await.expect("a token is cached");

    let printed = format!("{settings:?} {client:?}");

    assert!(!printed.contains(CLIENT_SECRET), "{printed}");
    assert!(!printed.contains(SERVICE_PASSWORD), "{printed}");
    assert!(printed.contains(CLIENT_ID), "{printed}");
    sandbox.stop().await;
}

#[test]
fn a_base_url_must_be_http_without_a_query() {
    let with = |url: &str| IamApiSettings {
        base_url: url.parse().expect("url"),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        username: SERVICE_USER.to_owned(),
        password: Secret::new(SERVICE_PASSWORD),
        timeout: Duration::from_secs(1),
    };
    let cases = [
        ("http://127.0.0.1:8543", true),
        ("https://127.0.0.1:8543/", true),
        ("ftp://127.0.0.1/", false),
        ("http://127.0.0.1:8543/?x=1", false),
    ];

    for (url, accepted) in cases {
        assert_eq!(IamClient::new(&with(url)).is_ok(), accepted, "{url}");
    }
}

#[test]
fn next_page_index_moves_forward() {
    let cases = [
        (1, 2, Some(3), 3),
        (1, 2, None, 3),
        (3, 2, Some(3), 5),
        (3, 2, Some(1), 5),
        (1, 50, Some(60), 60),
    ];

    for (current, read, reported, next) in cases {
        assert_eq!(
            advance(current, read, reported),
            next,
            "{current} {reported:?}"
        );
    }
}

#[test]
fn the_stand_in_state_pairs_read_as_the_client_expects() {
    use crate::sandbox::iam::IamRequestState;
    let cases = [
        (IamRequestState::Pending, wire::Outcome::Pending),
        (IamRequestState::Approved, wire::Outcome::Approved),
        (IamRequestState::Denied, wire::Outcome::Denied),
        (IamRequestState::Failed, wire::Outcome::Failed),
    ];

    for (state, outcome) in cases {
        let (request_state, process_state) = state.pair();
        assert_eq!(
            wire::outcome(Some(request_state), Some(process_state)),
            outcome,
            "{state:?}"
        );
    }
}
