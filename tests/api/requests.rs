//! Access requests end to end: a task in the ClickUp intake List, approvers from the IAM,
//! decisions taken in ClickUp (status or comment) or in the IAM's workflow, access granted,
//! time-bound access revoked, and every refusal put back, answered and audited.

use std::time::Duration;

use chrono::Utc;
use clickup_iam_router::store::{GrantKind, RequestState};
use serde_json::json;

use crate::request_kit::{dn, Kit, Variant, BYSTANDER, CISO, MANAGER, REQUESTER, SECURITY};

fn has_share(
    shares: &[clickup_iam_router::sandbox::SandboxShare],
    object: (&str, &str),
    level: &str,
) -> bool {
    shares
        .iter()
        .any(|s| s.object_type == object.0 && s.object_id == object.1 && s.level == level)
}

#[tokio::test]
async fn an_approved_request_is_granted_until_its_end_and_the_task_closed() {
    let kit = Kit::start(Variant::default()).await;
    let manager = kit.user(MANAGER).await;

    let task = kit.ask("Legal contracts", "comment", Some(json!(7))).await;
    let pending = kit.wait_state(&task, RequestState::Pending).await;

    assert_eq!(kit.assignees(&task), [manager]);
    assert_eq!(kit.status(&task), "pending approval");
    let asked = kit.comments(&task).join("\n");
    assert!(
        asked.contains("Riley Requester asks for comment access to Legal contracts"),
        "{asked}"
    );
    assert!(
        asked.contains("Step 1 of 1 (manager): waiting for Morgan Manager"),
        "{asked}"
    );
    assert_eq!(pending.approvers, [manager as i64]);

    kit.app
        .sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    let granted = kit.wait_state(&task, RequestState::Granted).await;

    assert!(has_share(
        &kit.shares(REQUESTER).await,
        ("folder", "901100000610"),
        "comment"
    ));
    let grants = kit.app.store.open_grants(REQUESTER).await.unwrap();
    let grant = grants
        .iter()
        .find(|g| g.object == "folder:901100000610")
        .expect("grant on record");
    assert_eq!(
        (grant.kind, grant.rule.as_str(), grant.level.as_str()),
        (
            GrantKind::Share,
            format!("request:{task}").as_str(),
            "comment"
        )
    );
    let week = Utc::now().timestamp_millis() + 7 * 86_400_000;
    assert!(
        (grant.until.unwrap() - week).abs() < 60_000,
        "until {:?}",
        grant.until
    );
    assert_eq!(granted.until, grant.until);
    assert_eq!(
        granted.decided_by.as_deref(),
        Some(format!("clickup:{manager}").as_str())
    );
    assert_eq!(kit.status(&task), "closed");
    let last = kit.comments(&task).last().cloned().unwrap();
    assert!(
        last.starts_with(
            "Approved by Morgan Manager. comment access to Legal contracts is granted until"
        ),
        "{last}"
    );
    let audit = kit.audit(&task).await;
    for action in [
        "request.routed",
        "request.announced",
        "request.approved",
        "request.granted",
        "request.closed",
    ] {
        assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
    }
    kit.app.stop().await;
}

#[tokio::test]
async fn a_denial_by_comment_grants_nothing_and_says_why() {
    let kit = Kit::start(Variant::default()).await;
    let manager = kit.user(MANAGER).await;
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;

    kit.app
        .sandbox
        .as_user(manager)
        .comment(&task, "/deny no business need this quarter")
        .await
        .unwrap();
    let denied = kit.wait_state(&task, RequestState::Denied).await;

    assert_eq!(
        denied.reason.as_deref(),
        Some("no business need this quarter")
    );
    assert!(!has_share(
        &kit.shares(REQUESTER).await,
        ("folder", "901100000610"),
        "read"
    ));
    assert_eq!(kit.status(&task), "denied");
    let last = kit.comments(&task).last().cloned().unwrap();
    assert_eq!(
        last,
        "Denied by Morgan Manager: no business need this quarter"
    );
    kit.app.stop().await;
}

#[tokio::test]
async fn a_two_step_request_goes_from_the_manager_to_security_and_is_reported_to_the_iam() {
    let kit = Kit::start(Variant::default()).await;
    let (manager, security) = (kit.user(MANAGER).await, kit.user(SECURITY).await);
    let task = kit.ask("Finance close", "edit", None).await;
    kit.wait_state(&task, RequestState::Pending).await;

    kit.app
        .sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    let second = wait_step(&kit, &task, 1).await;

    assert_eq!(second.approvers, [security as i64]);
    assert_eq!(kit.assignees(&task), [security]);
    assert_eq!(kit.status(&task), "pending approval");
    assert!(
        !has_share(
            &kit.shares(REQUESTER).await,
            ("list", "901100000710"),
            "edit"
        ),
        "not after the first step"
    );

    kit.app
        .sandbox
        .as_user(security)
        .comment(&task, "/approve checked with the controller")
        .await
        .unwrap();
    kit.wait_state(&task, RequestState::Granted).await;
    let reported = wait_reported(&kit, &task).await;

    assert!(has_share(
        &kit.shares(REQUESTER).await,
        ("list", "901100000710"),
        "edit"
    ));
    let iam = kit.app.iam.as_ref().unwrap().requests();
    let opened = iam
        .iter()
        .find(|r| Some(&r.id) == reported.iam_request_id.as_ref())
        .expect("the IAM request");
    assert_eq!(opened.recipient, dn(REQUESTER));
    assert_eq!(
        opened.state,
        clickup_iam_router::sandbox::iam::IamRequestState::Approved
    );
    assert_eq!(opened.approver.as_deref(), Some(dn(SECURITY).as_str()));
    kit.app.stop().await;
}

#[tokio::test]
async fn a_request_left_to_the_iam_is_granted_when_its_workflow_approves() {
    let kit = Kit::start(Variant::default()).await;
    let task = kit.ask("Product launch", "edit", Some(json!("14"))).await;
    let pending = kit.wait_state(&task, RequestState::Pending).await;
    let iam = kit.app.iam.as_ref().unwrap();
    let iam_request = pending.iam_request_id.clone().expect("an IAM request");
    assert!(kit.comments(&task)[0].contains("decision is taken in the IAM's approval workflow"));

    // An approver in ClickUp does not count for an area the IAM decides.
    let ciso = kit.user(CISO).await;
    kit.app
        .sandbox
        .as_user(ciso)
        .set_status(&task, "approved")
        .await
        .unwrap();
    wait_comment(&kit, &task, "decided in the IAM's workflow").await;
    assert_eq!(kit.status(&task), "pending approval");

    let status = iam
        .decide(&iam_request, &dn(CISO), true, "launch team confirmed")
        .await
        .unwrap();
    assert_eq!(status, Some(202));
    let granted = kit.wait_state(&task, RequestState::Granted).await;

    assert!(has_share(
        &kit.shares(REQUESTER).await,
        ("list", "901100000430"),
        "edit"
    ));
    assert_eq!(
        granted.decided_by.as_deref(),
        Some(format!("iam:{CISO}").as_str())
    );
    let last = kit.comments(&task).last().cloned().unwrap();
    assert!(last.starts_with("Approved by Casey Ciso."), "{last}");
    kit.app.stop().await;
}

#[tokio::test]
async fn a_request_nobody_decides_is_reminded_then_escalated() {
    let kit = Kit::start(Variant {
        timeout: true,
        ..Variant::default()
    })
    .await;
    let ciso = kit.user(CISO).await;
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;

    wait_comment(&kit, &task, "Reminder: this access request has waited").await;
    wait_comment(&kit, &task, "No decision in time: escalated to Casey Ciso").await;
    let escalated = kit.app.store.request(&task).await.unwrap().unwrap();
    assert!(escalated.escalated);
    assert_eq!(escalated.approvers, [ciso as i64]);
    kit.app.sandbox.settle().await;
    assert_eq!(kit.assignees(&task), [ciso]);

    kit.app
        .sandbox
        .as_user(ciso)
        .comment(&task, "/approve")
        .await
        .unwrap();
    kit.wait_state(&task, RequestState::Granted).await;
    assert!(has_share(
        &kit.shares(REQUESTER).await,
        ("folder", "901100000610"),
        "read"
    ));
    kit.app.stop().await;
}

#[tokio::test]
async fn only_a_current_approver_decides_never_the_requester() {
    let kit = Kit::start(Variant::default()).await;
    let (requester, bystander, manager) = (
        kit.user(REQUESTER).await,
        kit.user(BYSTANDER).await,
        kit.user(MANAGER).await,
    );
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;

    kit.app
        .sandbox
        .as_user(requester)
        .set_status(&task, "approved")
        .await
        .unwrap();
    wait_comment(&kit, &task, "a requester cannot decide their own request").await;
    kit.app
        .sandbox
        .as_user(bystander)
        .comment(&task, "/approve looks fine to me")
        .await
        .unwrap();
    wait_comment(&kit, &task, "only Morgan Manager can decide this step").await;
    kit.app.sandbox.settle().await;

    assert_eq!(
        kit.status(&task),
        "pending approval",
        "the status was put back"
    );
    let request = kit.app.store.request(&task).await.unwrap().unwrap();
    assert_eq!(request.state, RequestState::Pending);
    assert!(kit
        .shares(REQUESTER)
        .await
        .iter()
        .all(|s| s.object_id != "901100000610"));
    // The refusal is recorded after its comment is posted: wait for the second row.
    let mut refused = 0;
    for _ in 0..100 {
        refused = kit
            .audit(&task)
            .await
            .into_iter()
            .filter(|a| a == "request.decision_refused")
            .count();
        if refused >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refused, 2);

    kit.app
        .sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    kit.wait_state(&task, RequestState::Granted).await;
    kit.app.stop().await;
}

#[tokio::test]
async fn a_decision_that_arrives_twice_grants_once() {
    let kit = Kit::start(Variant::default()).await;
    let manager = kit.user(MANAGER).await;
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;

    // ClickUp sends taskStatusUpdated and its companion taskUpdated for this one change.
    let answered = kit
        .app
        .sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    assert_eq!(answered.len(), 2, "{answered:?}");
    kit.wait_state(&task, RequestState::Granted).await;
    kit.app
        .sandbox
        .as_user(manager)
        .comment(&task, "/approve")
        .await
        .unwrap();
    // The same approver again: a duplicate, neither a second grant nor a refusal.
    wait_outcome(&kit, "duplicate").await;

    let grants: Vec<_> = kit
        .app
        .store
        .open_grants(REQUESTER)
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.rule == format!("request:{task}"))
        .collect();
    assert_eq!(grants.len(), 1);
    let approvals = kit
        .audit(&task)
        .await
        .into_iter()
        .filter(|a| a == "request.approved")
        .count();
    assert_eq!(approvals, 1);
    let audit = kit.audit(&task).await;
    assert!(
        !audit.iter().any(|a| a == "request.decision_refused"),
        "{audit:?}"
    );
    kit.app.stop().await;
}

#[tokio::test]
async fn a_decision_on_a_deleted_task_grants_nothing() {
    let kit = Kit::start(Variant::default()).await;
    let (requester, manager) = (kit.user(REQUESTER).await, kit.user(MANAGER).await);
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;

    // Receivers only: the decision and the deletion wait in the queue, in that order.
    let app = kit
        .app
        .restart(Duration::ZERO, |s| s.run_worker = false)
        .await;
    app.sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    app.sandbox
        .as_user(requester)
        .delete_task(&task)
        .await
        .unwrap();
    let kit = Kit {
        app: app.restart(Duration::ZERO, |s| s.run_worker = true).await,
        ..kit
    };
    let cancelled = kit.wait_state(&task, RequestState::Cancelled).await;

    assert_eq!(cancelled.reason.as_deref(), Some("the task was deleted"));
    assert!(kit
        .shares(REQUESTER)
        .await
        .iter()
        .all(|s| s.object_id != "901100000610"));
    assert!(kit
        .app
        .store
        .open_grants(REQUESTER)
        .await
        .unwrap()
        .iter()
        .all(|g| !g.rule.starts_with("request:")));
    kit.app.stop().await;
}

#[tokio::test]
async fn a_worker_restart_between_request_and_decision_loses_nothing() {
    let kit = Kit::start(Variant::default()).await;
    let manager = kit.user(MANAGER).await;
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;

    let kit = Kit {
        app: kit.app.restart(Duration::from_millis(200), |_| {}).await,
        ..kit
    };
    kit.app
        .sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    kit.wait_state(&task, RequestState::Granted).await;

    assert!(has_share(
        &kit.shares(REQUESTER).await,
        ("folder", "901100000610"),
        "read"
    ));
    kit.app.stop().await;
}

#[tokio::test]
async fn time_bound_access_from_a_request_is_revoked_at_its_end() {
    let kit = Kit::start(Variant {
        text_duration: true,
        ..Variant::default()
    })
    .await;
    let manager = kit.user(MANAGER).await;
    let task = kit.ask("Legal contracts", "read", Some(json!("3s"))).await;
    kit.wait_state(&task, RequestState::Pending).await;
    kit.app
        .sandbox
        .as_user(manager)
        .comment(&task, "/approve")
        .await
        .unwrap();
    kit.wait_state(&task, RequestState::Granted).await;
    assert!(has_share(
        &kit.shares(REQUESTER).await,
        ("folder", "901100000610"),
        "read"
    ));

    let ended = kit.wait_state(&task, RequestState::Ended).await;

    assert!(ended.until.unwrap() <= Utc::now().timestamp_millis());
    assert!(!has_share(
        &kit.shares(REQUESTER).await,
        ("folder", "901100000610"),
        "read"
    ));
    assert!(kit
        .app
        .store
        .open_grants(REQUESTER)
        .await
        .unwrap()
        .iter()
        .all(|g| g.rule != format!("request:{task}")));
    wait_comment(
        &kit,
        &task,
        "granted by this request has ended and was removed",
    )
    .await;
    kit.app.stop().await;
}

#[tokio::test]
async fn an_ineligible_request_is_closed_with_the_reason() {
    let kit = Kit::start(Variant::default()).await;
    let task = kit.ask("Legal contracts", "create", Some(json!(90))).await;

    let closed = kit.wait_state(&task, RequestState::Ineligible).await;

    let reason = closed.reason.unwrap();
    assert!(reason.contains("create"), "{reason}");
    assert!(reason.contains("30"), "{reason}");
    assert_eq!(kit.status(&task), "closed");
    assert!(kit
        .comments(&task)
        .last()
        .unwrap()
        .starts_with("This access request cannot go ahead"));
    assert!(kit.assignees(&task).is_empty());
    kit.app.stop().await;
}

#[tokio::test]
async fn an_iam_decision_that_is_not_pushed_is_learnt_by_polling() {
    let kit = Kit::start(Variant {
        iam_silent: true,
        ..Variant::default()
    })
    .await;
    let task = kit.ask("Product launch", "edit", None).await;
    let pending = kit.wait_state(&task, RequestState::Pending).await;
    let iam = kit.app.iam.as_ref().unwrap();

    let pushed = iam
        .decide(
            pending.iam_request_id.as_deref().unwrap(),
            &dn(CISO),
            false,
            "not this launch",
        )
        .await
        .unwrap();
    let denied = kit.wait_state(&task, RequestState::Denied).await;

    assert_eq!(pushed, None, "nothing was pushed");
    assert_eq!(denied.reason.as_deref(), Some("not this launch"));
    assert_eq!(
        denied.decided_by.as_deref(),
        Some(format!("iam:{CISO}").as_str())
    );
    assert!(kit
        .shares(REQUESTER)
        .await
        .iter()
        .all(|s| s.object_id != "901100000430"));
    assert_eq!(kit.status(&task), "denied");
    kit.app.stop().await;
}

#[tokio::test]
async fn an_approval_that_arrives_after_the_requester_left_grants_nothing() {
    let kit = Kit::start(Variant::default()).await;
    let manager = kit.user(MANAGER).await;
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;
    let mut leaver = crate::helpers::fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{REQUESTER}"));
    leaver["data"]["user"]["id"] = json!(REQUESTER);
    leaver["data"]["user"]["email"] = json!("riley@example.com");
    let response = kit
        .app
        .post_iam(&serde_json::to_vec(&leaver).unwrap())
        .await;
    assert_eq!(response.status().as_u16(), 202);
    kit.app.wait_processed(&leaver).await;

    kit.app
        .sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    let closed = kit.wait_state(&task, RequestState::Ineligible).await;

    assert_eq!(
        closed.reason.as_deref(),
        Some("the requester's IAM identity is now terminated")
    );
    assert!(kit
        .app
        .store
        .open_grants(REQUESTER)
        .await
        .unwrap()
        .is_empty());
    kit.app.stop().await;
}

#[tokio::test]
async fn a_decision_redelivered_after_it_was_recorded_is_not_refused() {
    let kit = Kit::start(Variant::default()).await;
    let (manager, security) = (kit.user(MANAGER).await, kit.user(SECURITY).await);
    let task = kit.ask("Finance close", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;
    kit.app
        .sandbox
        .as_user(manager)
        .comment(&task, "/approve")
        .await
        .unwrap();
    wait_step(&kit, &task, 1).await;

    // Reporting to the IAM fails after the decision is recorded: the message is redelivered.
    kit.app.iam.as_ref().unwrap().fail_next(12, 500);
    kit.app
        .sandbox
        .as_user(security)
        .comment(&task, "/approve ok")
        .await
        .unwrap();
    kit.wait_state(&task, RequestState::Granted).await;
    wait_reported(&kit, &task).await;

    let comments = kit.comments(&task);
    assert!(
        comments.iter().all(|c| !c.contains("was not counted")),
        "{comments:#?}"
    );
    let refused = kit
        .audit(&task)
        .await
        .into_iter()
        .filter(|a| a == "request.decision_refused")
        .count();
    assert_eq!(refused, 0);
    kit.app.stop().await;
}

#[tokio::test]
async fn an_approval_for_a_disabled_requester_closes_the_request_with_the_reason() {
    let kit = Kit::start(Variant::default()).await;
    let manager = kit.user(MANAGER).await;
    let task = kit.ask("Legal contracts", "read", None).await;
    kit.wait_state(&task, RequestState::Pending).await;
    let mut disable = crate::helpers::fixture_json("iam/05-disable.json");
    disable["subject"] = json!(format!("user:{REQUESTER}"));
    disable["data"]["user"]["id"] = json!(REQUESTER);
    disable["data"]["user"]["email"] = json!("riley@example.com");
    assert_eq!(
        kit.app
            .post_iam(&serde_json::to_vec(&disable).unwrap())
            .await
            .status()
            .as_u16(),
        202
    );
    kit.app.wait_processed(&disable).await;

    kit.app
        .sandbox
        .as_user(manager)
        .set_status(&task, "approved")
        .await
        .unwrap();
    let closed = kit.wait_state(&task, RequestState::Ineligible).await;

    assert_eq!(
        closed.reason.as_deref(),
        Some("the requester's IAM identity is now disabled")
    );
    assert_eq!(kit.status(&task), "closed");
    assert!(kit
        .comments(&task)
        .last()
        .unwrap()
        .starts_with("This access request cannot go ahead"));
    kit.app.stop().await;
}

#[tokio::test]
async fn a_signed_decision_event_the_iam_does_not_confirm_grants_nothing() {
    let kit = Kit::start(Variant::default()).await;
    let task = kit.ask("Product launch", "edit", None).await;
    let pending = kit.wait_state(&task, RequestState::Pending).await;
    let mut event = crate::helpers::fixture_json("iam/13-request-decided-approved.json");
    event["id"] = json!("forged-decision-1");
    event["subject"] = json!(format!("user:{REQUESTER}"));
    event["data"]["user"]["id"] = json!(REQUESTER);
    event["data"]["request"]["request_id"] = json!(pending.iam_request_id.clone().unwrap());

    assert_eq!(
        kit.app
            .post_iam(&serde_json::to_vec(&event).unwrap())
            .await
            .status()
            .as_u16(),
        202
    );
    let processed = kit.app.wait_processed(&event).await;

    assert_eq!(processed.outcome, "ignored", "{}", processed.detail);
    let request = kit.app.store.request(&task).await.unwrap().unwrap();
    assert_eq!(request.state, RequestState::Pending);
    assert!(kit
        .shares(REQUESTER)
        .await
        .iter()
        .all(|s| s.object_id != "901100000430"));
    kit.app.stop().await;
}

#[tokio::test]
async fn a_deleted_request_withdraws_its_iam_request() {
    let kit = Kit::start(Variant::default()).await;
    let requester = kit.user(REQUESTER).await;
    let task = kit.ask("Finance close", "read", None).await;
    let pending = kit.wait_state(&task, RequestState::Pending).await;

    kit.app
        .sandbox
        .as_user(requester)
        .delete_task(&task)
        .await
        .unwrap();
    kit.wait_state(&task, RequestState::Cancelled).await;
    wait_reported(&kit, &task).await;

    let iam = kit.app.iam.as_ref().unwrap().requests();
    let opened = iam
        .iter()
        .find(|r| Some(&r.id) == pending.iam_request_id.as_ref())
        .unwrap();
    assert_eq!(
        opened.state,
        clickup_iam_router::sandbox::iam::IamRequestState::Denied
    );
    kit.app.stop().await;
}

async fn wait_outcome(kit: &Kit, outcome: &str) {
    for _ in 0..200 {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed WHERE outcome = $1")
            .bind(outcome)
            .fetch_one(kit.app.store.pool())
            .await
            .unwrap();
        if count > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no event handled with outcome {outcome}");
}

async fn wait_step(kit: &Kit, task: &str, step: i64) -> clickup_iam_router::store::AccessRequest {
    for _ in 0..200 {
        let request = kit.app.store.request(task).await.unwrap().unwrap();
        if request.step == step && request.announced_step == step {
            kit.app.sandbox.settle().await;
            return request;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("step {step} never announced");
}

async fn wait_reported(kit: &Kit, task: &str) -> clickup_iam_router::store::AccessRequest {
    for _ in 0..200 {
        let request = kit.app.store.request(task).await.unwrap().unwrap();
        if request.reported_at.is_some() {
            return request;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reported to the IAM");
}

async fn wait_comment(kit: &Kit, task: &str, text: &str) {
    for _ in 0..200 {
        kit.app.sandbox.settle().await;
        if kit.comments(task).iter().any(|c| c.contains(text)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no comment with {text:?}: {:#?}", kit.comments(task));
}
