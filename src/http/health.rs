//! Liveness and readiness probes, and the JSON 404.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ReceiverState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the last broker contact succeeded and the store answers.
pub async fn ready(state: web::Data<ReceiverState>) -> HttpResponse {
    let broker = state.publisher.is_ready();
    let store = sqlx::query("SELECT 1")
        .execute(state.store.pool())
        .await
        .is_ok();

    let body = json!({ "broker": broker, "store": store });
    if broker && store {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "not_found", "message": "no such endpoint" }))
}
