//! The brake through the admin API: its status, and a release an administrator asks for.
//!
//! The serve process may have no ClickUp client, so a release is recorded in the store (with
//! its audit row, actor = the token's `sub`) and the worker's scheduler carries it out through
//! the same path as `brake release`, auditing the outcome under the same correlation id.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::json;

use super::{error::AdminError, AdminState, Caller};
use crate::{
    store::{admin::ReleaseRequest, AuditEntry},
    worker::brake::Brake,
};

/// `GET /api/v1/brake`
pub(super) async fn status(
    _: Caller,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let brake = Brake {
        settings: Default::default(),
    };
    let held = brake.held(&admin.store).await?;
    let pending = admin.store.pending_brake_release().await?;
    let held: Vec<_> = held
        .iter()
        .map(|hold| {
            json!({
                "id": hold.id,
                "iam_id": hold.iam_id,
                "actions": hold.actions,
                "cause": hold.cause,
                "held_at": hold.held_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "engaged": !held.is_empty(),
        "held": held,
        "release_requested": pending,
    })))
}

/// `POST /api/v1/brake/release`: 202 once the request is recorded (the same answer while
/// one is waiting), 200 when nothing is held.
pub(super) async fn release(
    Caller(principal): Caller,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let brake = Brake {
        settings: Default::default(),
    };
    let held = brake.held(&admin.store).await?.len();
    if held == 0 {
        return Ok(HttpResponse::Ok().json(json!({ "status": "nothing_held" })));
    }

    let request = ReleaseRequest {
        by: principal.subject.clone(),
        at: Utc::now().timestamp_millis(),
        correlation_id: format!("brake-release:{}", uuid::Uuid::new_v4().simple()),
    };
    let audit = AuditEntry {
        actor: principal.subject.clone(),
        action: "brake.release_requested".into(),
        subject: None,
        object: None,
        outcome: "requested".into(),
        correlation_id: request.correlation_id.clone(),
        event_id: request.correlation_id.clone(),
        detail: json!({ "held_people": held, "via": "admin-api" }),
    };
    let (waiting, new) = admin.store.request_brake_release(&request, &audit).await?;
    tracing::info!(subject = %principal.subject, new, "brake release requested");
    Ok(HttpResponse::Accepted().json(json!({
        "status": if new { "requested" } else { "already_requested" },
        "release_requested": waiting,
        "held_people": held,
    })))
}
