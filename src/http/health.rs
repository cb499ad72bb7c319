//! Liveness and readiness probes, and the metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{MetricsState, ReceiverState};

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

/// Prometheus text: the process's metrics, with queue depths and counts read now.
pub async fn metrics(state: web::Data<ReceiverState>) -> HttpResponse {
    exposition(&state.metrics, &state.store, state.queue_depths.as_ref()).await
}

/// The metrics alone, for a worker's `--metrics-listen`.
pub async fn worker_metrics(state: web::Data<MetricsState>) -> HttpResponse {
    exposition(&state.metrics, &state.store, state.queue_depths.as_ref()).await
}

async fn exposition(
    metrics: &crate::metrics::Metrics,
    store: &crate::store::Store,
    depths: &dyn crate::bus::QueueDepths,
) -> HttpResponse {
    let body = crate::metrics::render(metrics, store, Some(depths)).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
