//! The HTTP edge: webhook receivers, the SCIM service provider, health endpoints and metrics
//! on actix-web.
//!
//! Invariants: a receiver answers 2xx only after every event of the delivery is confirmed by
//! the broker (202) or was already accepted before (200), and a SCIM write only after its
//! events are; every refusal is JSON (SCIM's as SCIM errors), a known path asked with another
//! method included (405 with `Allow`).

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{dev::Server, http::Method, web, App, HttpServer};
use tokio_util::sync::CancellationToken;

use crate::{
    bus::{Publisher, QueueDepths},
    config::WebhookSecrets,
    ingest::{
        iam::IamSchema,
        signature::{StandardKey, Tolerance},
    },
    metrics::Metrics,
    store::Store,
};

pub mod admin;
#[doc(hidden)]
pub mod ceiling;
mod error;
mod health;
pub mod queue;
mod receivers;
pub mod refusals;
mod routing;
pub mod scim;
pub mod ui;

pub use admin::AdminState;
pub use error::ReceiverError;
pub use ui::UiState;

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
    /// The process's metrics (the worker's too, in `run`).
    pub metrics: Metrics,
    /// Read at each scrape of `/metrics`.
    pub queue_depths: Arc<dyn QueueDepths>,
    /// The bound on refusal rows in the audit trail.
    pub refusals: refusals::RefusalBound,
    /// The SCIM clients, and the turn SCIM writes take.
    pub scim: scim::ScimState,
}

/// What a worker's metrics listener serves.
pub struct MetricsState {
    pub metrics: Metrics,
    pub store: Store,
    pub queue_depths: Arc<dyn QueueDepths>,
}

/// Starts the HTTP server on a bound listener, with the `/ui` pages when `ui` is given; it
/// stops when `shutdown` is cancelled. The admin API answers 503 when `admin` is `None` (no
/// OIDC issuer configured).
pub fn serve(
    listener: TcpListener,
    state: Arc<ReceiverState>,
    admin: Option<Arc<AdminState>>,
    ui: Option<Arc<UiState>>,
    shutdown: CancellationToken,
) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let admin = admin.map(web::Data::from);
    let ui = ui.map(web::Data::from);
    let server = HttpServer::new(move || {
        let admin = admin.clone();
        App::new()
            .app_data(state.clone())
            .configure(|config| admin::configure(config, admin))
            .configure(|config| {
                if let Some(ui) = &ui {
                    ui::configure(config, ui.clone());
                }
            })
            .service(post("/webhooks/clickup").route(web::post().to(receivers::clickup)))
            .service(post("/webhooks/iam").route(web::post().to(receivers::iam)))
            .configure(scim::configure)
            .service(get("/healthz", health::live))
            .service(get("/readyz", health::ready))
            .service(get("/metrics", health::metrics))
            .default_service(web::to(routing::not_found))
    })
    .disable_signals()
    .shutdown_signal(shutdown.cancelled_owned())
    .shutdown_timeout(10)
    .client_request_timeout(Duration::from_secs(10))
    .listen(listener)?
    .run();
    Ok(server)
}

/// Serves `GET /metrics` and `GET /healthz` (a worker without receivers, and its container's
/// health check); stops with `shutdown`.
pub fn serve_metrics(
    listener: TcpListener,
    state: Arc<MetricsState>,
    shutdown: CancellationToken,
) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .service(get("/metrics", health::worker_metrics))
            .service(get("/healthz", health::live))
            .default_service(web::to(routing::not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_signal(shutdown.cancelled_owned())
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}

/// A path served to POST only; other methods get a JSON 405.
fn post(path: &str) -> actix_web::Resource {
    routing::resource(path, &[Method::POST])
}

/// A path served to GET and HEAD (load balancers probe health with either); other methods
/// get a JSON 405.
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    routing::resource(path, &[Method::GET, Method::HEAD])
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
}
