//! Contract ends, through the real receivers and broker: a contractor's access ends at the
//! end date, also across worker restarts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use clickup_iam_router::{
    sandbox::Role,
    store::{Grant, GrantKind},
};

use crate::{
    helpers::{spawn_app, TestApp},
    lifecycle_kit::{
        contractor_ending_in, end_reasons, open_grants, send, share, wait_until_removed, CARLOS,
        CARLOS_EMAIL,
    },
};

async fn open_grant(app: &TestApp, iam_id: &str, kind: GrantKind) -> Grant {
    let grants = app.store.open_grants(iam_id).await.unwrap();
    grants
        .into_iter()
        .find(|grant| grant.kind == kind)
        .unwrap_or_else(|| panic!("no open {kind:?} grant"))
}

#[tokio::test]
async fn a_contractor_becomes_a_guest_and_loses_access_at_the_end_date() {
    let app = spawn_app().await;

    send(&app, &contractor_ending_in(3)).await;

    let state = app.sandbox.state();
    let carlos = state
        .find_by_email(CARLOS_EMAIL)
        .expect("carlos was invited");
    assert_eq!(carlos.role, Role::Guest);
    assert_eq!(
        state.shares_of_user(carlos.id),
        vec![share("list", "901100000510", "edit", "guest")]
    );
    let until = open_grant(&app, CARLOS, GrantKind::Share).await.until;
    assert!(until.is_some(), "the share ends with the contract");

    wait_until_removed(&app, CARLOS, CARLOS_EMAIL).await;

    let reasons = end_reasons(&app, CARLOS).await;
    assert!(!reasons.is_empty());
    let ended = |r: &String| r == "contract ended" || r == "expired";
    assert!(reasons.iter().all(ended), "{reasons:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_contract_end_is_honoured_across_a_restart_before_it_is_due() {
    let app = spawn_app().await;
    send(&app, &contractor_ending_in(4)).await;

    let app = app.restart(Duration::ZERO, |_| {}).await;

    assert!(
        app.sandbox.state().find_by_email(CARLOS_EMAIL).is_some(),
        "not yet due"
    );
    wait_until_removed(&app, CARLOS, CARLOS_EMAIL).await;
    app.stop().await;
}

#[tokio::test]
async fn a_contract_end_that_passed_while_the_worker_was_down_is_applied_at_start() {
    let mut app = spawn_app().await;
    let contract = contractor_ending_in(5);
    let end: DateTime<Utc> = contract["data"]["user"]["profile"]["end_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    send(&app, &contract).await;

    app.halt().await;

    assert!(
        app.sandbox.state().find_by_email(CARLOS_EMAIL).is_some(),
        "the account was still there when the worker stopped"
    );
    assert!(!open_grants(&app, CARLOS).await.is_empty());
    let pause = (end - Utc::now() + chrono::Duration::seconds(1))
        .to_std()
        .unwrap_or_default();
    let app = app.restart(pause, |_| {}).await;

    wait_until_removed(&app, CARLOS, CARLOS_EMAIL).await;
    app.stop().await;
}
