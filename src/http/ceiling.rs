//! The HTTP ceiling of the ingest benchmark (`cargo bench --bench ingest`, issue #10): the
//! receivers' actix server, built with [`super::serve`]'s settings, whose
//! `POST /webhooks/clickup` reads the raw body within the same limits and answers 202 without
//! verifying, storing or publishing anything. No command serves it.

use std::{net::TcpListener, time::Duration};

use actix_web::{dev::Server, http::Method, web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{receivers::request, routing, ReceiverError};

/// The body limits the no-op handler reads within.
#[derive(Clone, Copy)]
struct Limits {
    max_body_bytes: usize,
    body_timeout: Duration,
}

/// Serves the no-op receiver on a bound listener until `shutdown` is cancelled.
pub fn serve(
    listener: TcpListener,
    max_body_bytes: usize,
    body_timeout: Duration,
    shutdown: CancellationToken,
) -> std::io::Result<Server> {
    let limits = web::Data::new(Limits {
        max_body_bytes,
        body_timeout,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(limits.clone())
            .service(
                routing::resource("/webhooks/clickup", &[Method::POST])
                    .route(web::post().to(accept)),
            )
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

/// Reads the body as the receivers do, then answers as an accepted delivery would.
async fn accept(
    request: HttpRequest,
    payload: web::Payload,
    limits: web::Data<Limits>,
) -> Result<HttpResponse, ReceiverError> {
    let body = request::read_body(
        &request,
        payload,
        limits.max_body_bytes,
        limits.body_timeout,
    )
    .await?;

    Ok(HttpResponse::Accepted().json(json!({
        "status": "accepted",
        "accepted": [format!("noop:{}", body.len())],
        "duplicates": [],
    })))
}
