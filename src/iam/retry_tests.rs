//! The client's token handling and failure paths against the stand-in: renewal after the
//! token's lifetime, the fallback from a refused refresh, the single retry after a 401,
//! Fault and `success: false` mapping, and which transient failures are retried.

use std::time::Duration;

use super::{
    tests::{client_for, statuses},
    *,
};
use crate::sandbox::iam::{
    testing::{self, *},
    IamSandboxConfig,
};

const TOKEN_PATH: &str = "/osp/a/idm/auth/oauth2/token";

#[tokio::test]
async fn tokens_are_renewed_with_the_refresh_token_after_their_lifetime() {
    let sandbox = start(IamSandboxConfig {
        token_ttl: Duration::from_secs(1),
        ..testing::config()
    })
    .await;
    let client = client_for(&sandbox).await;

    client.approval_tasks("x").await.expect("first call");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    client.approval_tasks("x").await.expect("second call");

    assert_eq!(sandbox.grants(), ["password", "refresh_token"]);
    assert_eq!(
        statuses(&sandbox, "/tasks/list"),
        [200, 200],
        "no 401 on the way"
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_the_password_grant() {
    let sandbox = start(IamSandboxConfig {
        token_ttl: Duration::from_secs(1),
        ..testing::config()
    })
    .await;
    let client = client_for(&sandbox).await;

    client.approval_tasks("x").await.expect("first call");
    sandbox.revoke_tokens();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    client.approval_tasks("x").await.expect("second call");

    assert_eq!(sandbox.grants(), ["password", "password"]);
    assert_eq!(statuses(&sandbox, TOKEN_PATH), [200, 400, 200]);
    sandbox.stop().await;
}

#[tokio::test]
async fn a_401_renews_the_token_and_retries_once() {
    let sandbox = start(testing::config()).await;
    let client = client_for(&sandbox).await;
    client.approval_tasks("x").await.expect("warm-up");

    sandbox.fail_next(1, 401);
    let once = client.approval_tasks("x").await;
    sandbox.fail_next(2, 401);
    let twice = client.approval_tasks("x").await;

    assert!(once.is_ok(), "{once:?}");
    let error = twice.expect_err("a second 401 is final");
    assert_eq!(error.status(), Some(401));
    assert!(!error.is_transient());
    assert_eq!(statuses(&sandbox, "/tasks/list"), [200, 401, 200, 401, 401]);
    assert_eq!(
        sandbox.grants(),
        ["password", "refresh_token", "refresh_token"]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn refusals_map_to_errors_and_are_not_retried() {
    let sandbox = start(testing::config()).await;
    let client = client_for(&sandbox).await;

    let unindexed = client
        .open_request("cn=Fresh-PRD,cn=RequestDefs,o=system", RECIPIENT_DN, &[])
        .await;
    let unknown_task = client
        .act_on_task(
            "0123456789abcdef0123456789abcdef",
            TaskAction::Approve,
            "",
            None,
        )
        .await;
    sandbox.fail_next(1, 489);
    let injected = client.approval_tasks("x").await;

    match unindexed {
        Err(IamError::Unsuccessful { path, .. }) => {
            assert_eq!(path, "/requests/permissions/v2")
        }
        other => panic!("expected success:false, got {other:?}"),
    }
    match unknown_task {
        Err(IamError::Fault {
            status, subcode, ..
        }) => assert_eq!((status, subcode.as_str()), (489, "NotFound")),
        other => panic!("expected a Fault, got {other:?}"),
    }
    match injected {
        Err(ref error @ IamError::Fault { status: 489, .. }) => {
            assert!(!error.is_transient());
            assert!(error.to_string().contains("InternalExceptionOccured"));
        }
        other => panic!("expected a Fault, got {other:?}"),
    }
    assert_eq!(statuses(&sandbox, "/requests/permissions/v2"), [200]);
    assert_eq!(statuses(&sandbox, "/tasks"), [489]);
    assert_eq!(statuses(&sandbox, "/tasks/list"), [489]);
    sandbox.stop().await;
}

#[tokio::test]
async fn transient_failures_are_retried_as_far_as_the_call_allows() {
    let sandbox = start(testing::config()).await;
    let client = client_for(&sandbox).await;

    sandbox.fail_next(2, 503);
    let read = client.approval_tasks("x").await;
    sandbox.fail_next(1, 503);
    let write = client.open_request(PRD_DN, RECIPIENT_DN, &[]).await;
    sandbox.fail_next(1, 500);
    let ambiguous = client.open_request(PRD_DN, RECIPIENT_DN, &[]).await;
    sandbox.fail_next(4, 503);
    let exhausted = client.approval_tasks("x").await;

    assert!(read.is_ok(), "{read:?}");
    assert!(write.is_ok(), "{write:?}");
    let ambiguous = ambiguous.expect_err("a 500 on a write may have acted");
    assert!(ambiguous.is_transient());
    let exhausted = exhausted.expect_err("four 503s");
    assert_eq!(exhausted.status(), Some(503));
    assert!(exhausted.is_transient());
    assert_eq!(
        statuses(&sandbox, "/tasks/list"),
        [503, 503, 200, 503, 503, 503, 503]
    );
    assert_eq!(
        statuses(&sandbox, "/requests/permissions/v2"),
        [503, 200, 500]
    );
    assert_eq!(
        sandbox.requests().len(),
        1,
        "the retried write started once"
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_permanent_token_errors() {
    let sandbox = start(testing::config()).await;
    let mut wrong_password = settings(&sandbox);
    wrong_password.password = Secret::new("nope");
    let mut wrong_client = settings(&sandbox);
    wrong_client.client_secret = Secret::new("nope");
    let cases = [
        (wrong_password, 400, "invalid_grant"),
        (wrong_client, 401, "invalid_client"),
    ];

    for (settings, status, reason) in cases {
        let client = IamClient::new(&settings).expect("client");

        let error = client.approval_tasks("x").await.expect_err("refused");

        assert_eq!(
            error,
            IamError::Token {
                status: Some(status),
                reason: reason.to_owned()
            }
        );
        assert!(!error.is_transient());
    }
    assert_eq!(statuses(&sandbox, TOKEN_PATH), [400, 401], "no retries");
    sandbox.stop().await;
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let sandbox = start(testing::config()).await;
    let mut settings = settings(&sandbox);
    settings.base_url = format!("http://{address}").parse().expect("url");
    sandbox.stop().await;

    let error = IamClient::new(&settings)
        .expect("client")
        .approval_tasks("x")
        .await
        .expect_err("nothing listens");

    assert!(error.is_transient(), "{error}");
    assert!(
        matches!(error, IamError::Token { status: None, .. }),
        "{error}"
    );
}
