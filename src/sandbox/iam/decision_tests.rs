//! Tests of decisions: `decide` and task acts push signed events that the router's own
//! signature verifier and event schema accept; a deny or the last approval decides; the
//! stand-in refuses non-loopback listeners and receivers and keeps secrets out of `Debug`.

use std::net::SocketAddr;

use reqwest::Method;
use serde_json::json;

use super::{
    ensure_loopback,
    testing::{self, *},
    IamNotify, IamRequestState, IamSandbox, IamSandboxConfig, IamTaskState,
};

#[tokio::test]
async fn decide_pushes_a_signed_schema_valid_decision_once_the_request_is_decided() {
    let mut receiver = start_receiver(202).await;
    let sandbox = start(IamSandboxConfig {
        notify: Some(receiver.notify()),
        ..config()
    })
    .await;
    sandbox.add_prd(PRD_DN, PRD_NAME, &[APPROVER_DN, SECOND_APPROVER_DN]);
    let token = login(&sandbox).await;
    call(
        &sandbox,
        Some(&token),
        Method::POST,
        "/requests/permissions/v2",
        Some(&request_body(
            PRD_DN,
            json!([{ "dn": RECIPIENT_DN, "type": "user" }]),
        )),
    )
    .await;
    let id = sandbox.requests()[0].id.clone();

    let first = sandbox
        .decide(&id, APPROVER_DN, true, "fine by me")
        .await
        .expect("first approval");
    let nothing_pushed = receiver.try_next().is_none();
    let again = sandbox.decide(&id, APPROVER_DN, true, "twice").await;
    let last = sandbox
        .decide(
            &id,
            SECOND_APPROVER_DN,
            true,
            "Approved in ClickUp task 86b1x2y3z",
        )
        .await
        .expect("last approval");
    let event = verified(&receiver.next().await);

    assert_eq!(first, None);
    assert!(nothing_pushed);
    assert!(again.is_err(), "a finished task cannot be decided again");
    assert_eq!(last, Some(202));
    assert_eq!(event["type"], "com.example.iam.request.decided.v1");
    assert_eq!(event["subject"], format!("user:{RECIPIENT_ID}"));
    let request = &event["data"]["request"];
    assert_eq!(event["data"]["user"]["dn"], RECIPIENT_DN);
    assert_eq!(request["request_id"], id.as_str());
    assert_eq!(request["decision"], "approved");
    assert_eq!(request["activity"], "approval_2");
    assert_eq!(request["approver"]["dn"], SECOND_APPROVER_DN);
    assert_eq!(request["comment"], "Approved in ClickUp task 86b1x2y3z");
    assert_eq!(request["external_ref"], "clickup:task:86b1x2y3z");
    assert_eq!(request["item"]["id"], PRD_DN);
    let view = &sandbox.requests()[0];
    assert_eq!(view.state, IamRequestState::Approved);
    assert_eq!(view.approver.as_deref(), Some(SECOND_APPROVER_DN));
    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn a_deny_decides_at_once_and_cancels_the_other_tasks() {
    let mut receiver = start_receiver(204).await;
    let sandbox = start(IamSandboxConfig {
        notify: Some(receiver.notify()),
        ..config()
    })
    .await;
    sandbox.add_prd(PRD_DN, PRD_NAME, &[APPROVER_DN, SECOND_APPROVER_DN]);
    let token = login(&sandbox).await;
    call(
        &sandbox,
        Some(&token),
        Method::POST,
        "/requests/permissions/v2",
        Some(&request_body(PRD_DN, json!(null))),
    )
    .await;
    let id = sandbox.requests()[0].id.clone();

    let status = sandbox
        .decide(&id, SECOND_APPROVER_DN, false, "")
        .await
        .expect("deny");
    let event = verified(&receiver.next().await);

    assert_eq!(status, Some(204));
    assert_eq!(event["data"]["request"]["decision"], "denied");
    assert!(event["data"]["request"].get("comment").is_none());
    assert_eq!(
        event["data"]["user"]["dn"], SERVICE_DN,
        "no recipients: the caller"
    );
    let states: Vec<IamTaskState> = sandbox.requests()[0]
        .tasks
        .iter()
        .map(|t| t.state)
        .collect();
    assert_eq!(states, [IamTaskState::Cancelled, IamTaskState::Denied]);
    assert_eq!(sandbox.requests()[0].state, IamRequestState::Denied);
    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn a_prd_without_approvers_fails_in_the_engine() {
    let sandbox = start(config()).await;
    sandbox.add_prd(PRD_DN, PRD_NAME, &[]);
    let token = login(&sandbox).await;
    call(
        &sandbox,
        Some(&token),
        Method::POST,
        "/requests/permissions/v2",
        Some(&request_body(PRD_DN, json!(null))),
    )
    .await;

    let (_, history) = call(
        &sandbox,
        Some(&token),
        Method::GET,
        "/requests/historylist?nextIndex=1&size=5&q=*",
        None,
    )
    .await;

    assert_eq!(history["requests"][0]["requestState"], 4);
    assert_eq!(history["requests"][0]["processState"], 2);
    assert_eq!(sandbox.requests()[0].state, IamRequestState::Failed);
    assert!(sandbox.requests()[0].tasks.is_empty());
    sandbox.stop().await;
}

#[tokio::test]
async fn only_loopback_listeners_and_receivers_are_accepted() {
    let cases = [
        ("127.0.0.1:8080", true),
        ("[::1]:8080", true),
        ("0.0.0.0:8080", false),
        ("192.168.1.20:8080", false),
    ];
    for (address, allowed) in cases {
        let address: SocketAddr = address.parse().expect("test address");
        assert_eq!(ensure_loopback(address).is_ok(), allowed, "{address}");
    }

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let elsewhere = IamSandboxConfig {
        notify: Some(IamNotify {
            url: "https://bridge.example.com/iam/events".into(),
            secret: NOTIFY_SECRET.into(),
        }),
        ..config()
    };
    assert!(IamSandbox::start(listener, elsewhere).await.is_err());
}

#[test]
fn config_debug_never_shows_secrets() {
    let config = IamSandboxConfig {
        notify: Some(IamNotify {
            url: "http://127.0.0.1:9/webhooks/iam".into(),
            secret: NOTIFY_SECRET.into(),
        }),
        ..testing::config()
    };

    let printed = format!("{config:?}");

    for secret in [CLIENT_SECRET, SERVICE_PASSWORD, NOTIFY_SECRET] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains(SERVICE_DN), "{printed}");
}
