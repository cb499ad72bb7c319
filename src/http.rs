//! The HTTP edge: webhook receivers and health endpoints on actix-web.
//!
//! Invariant: a receiver answers 2xx only after every event of the delivery is confirmed by
//! the broker (202) or was already accepted before (200).

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{dev::Server, web, App, HttpServer};
use tokio_util::sync::CancellationToken;

use crate::{
    bus::Publisher,
    config::WebhookSecrets,
    ingest::{
        iam::IamSchema,
        signature::{StandardKey, Tolerance},
    },
    store::Store,
};

mod error;
mod health;
mod receivers;
pub mod refusals;

pub use error::ReceiverError;

/// Everything the receivers share.
pub struct ReceiverState {
    pub publisher: Arc<dyn Publisher>,
    pub store: Store,
    pub clickup_secrets: WebhookSecrets,
    pub iam_keys: Vec<StandardKey>,
    pub iam_tolerance: Tolerance,
    pub iam_schema: IamSchema,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
    /// The bound on refusal rows in the audit trail.
    pub refusals: refusals::RefusalBound,
}

/// Starts the HTTP server on a bound listener; it stops when `shutdown` is cancelled.
pub fn serve(
    listener: TcpListener,
    state: Arc<ReceiverState>,
    shutdown: CancellationToken,
) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/webhooks/clickup", web::post().to(receivers::clickup))
            .route("/webhooks/iam", web::post().to(receivers::iam))
            .route("/healthz", web::get().to(health::live))
            .route("/readyz", web::get().to(health::ready))
            .route("/metrics", web::get().to(health::metrics))
            .default_service(web::to(health::not_found))
    })
    .disable_signals()
    .shutdown_signal(shutdown.cancelled_owned())
    .shutdown_timeout(10)
    .client_request_timeout(Duration::from_secs(10))
    .listen(listener)?
    .run();
    Ok(server)
}
