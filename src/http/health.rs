//! Liveness and readiness probes, and the JSON 404.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ReceiverState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the last broker contact succeeded and the store answers.
pub async fn ready(state: web::Data<ReceiverState>) -> HttpResponse {
    let broker = state.publisher.check_ready().await;
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

/// Prometheus text: the brake, open grants and managed identities, read from the store.
pub async fn metrics(state: web::Data<ReceiverState>) -> HttpResponse {
    let pool = state.store.pool();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap_or(-1)
    };

    let held =
        count("SELECT COUNT(DISTINCT iam_id) FROM held_removals WHERE released_at IS NULL").await;
    let grants = count("SELECT COUNT(*) FROM grants WHERE ended_at IS NULL").await;
    let identities = count("SELECT COUNT(*) FROM identities").await;
    let body = format!(
        "# HELP clickup_iam_router_brake_held_people People whose removals the mass-removal brake holds.\n\
         # TYPE clickup_iam_router_brake_held_people gauge\n\
         clickup_iam_router_brake_held_people {held}\n\
         # HELP clickup_iam_router_grants_open Open grants on record.\n\
         # TYPE clickup_iam_router_grants_open gauge\n\
         clickup_iam_router_grants_open {grants}\n\
         # HELP clickup_iam_router_identities Identities on record.\n\
         # TYPE clickup_iam_router_identities gauge\n\
         clickup_iam_router_identities {identities}\n"
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}
