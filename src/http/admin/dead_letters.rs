//! Dead letters through the admin API (admin role): `GET /dead-letters?state&limit&after`
//! (a keyset page, open letters by default), `GET /dead-letters/{id}`, and the actions
//! `POST /dead-letters/{id}/replay`, `POST /dead-letters/replay` (every open letter, at most
//! one batch per call) and `POST /dead-letters/{id}/drop`, audited with the token's `sub`.
//! No answer carries a letter's envelope (personal data): `dlq show --envelope` prints it.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{
    error::AdminError,
    params::{next_cursor, Params},
    AdminState, Caller,
};
use crate::{
    store::LetterState,
    worker::dead_letters::replay::{self, ReplayError, Replayer},
};

/// `GET /api/v1/dead-letters?state=open|replayed|dropped|all&limit&after`
pub(super) async fn list(
    _: Caller,
    request: HttpRequest,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let params = Params::parse(request.query_string(), &["state", "limit", "after"])?;
    let state =
        match params.text("state")?.as_deref() {
            None => Some(LetterState::Open),
            Some("all") => None,
            Some(text) => Some(LetterState::parse(text).ok_or_else(|| {
                AdminError::bad("state", "expected open, replayed, dropped or all")
            })?),
        };
    let limit = params.limit()?;

    let rows = admin
        .store
        .dead_letters(limit, params.cursor()?, state)
        .await?;
    let next = next_cursor(rows.iter().map(|r| r.id), rows.len(), limit);
    Ok(HttpResponse::Ok().json(json!({ "items": rows, "next": next })))
}

/// `GET /api/v1/dead-letters/{id}`
pub(super) async fn show(
    _: Caller,
    id: web::Path<String>,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let id = letter_id(&id)?;

    match admin.store.dead_letter(id).await? {
        Some(found) => Ok(HttpResponse::Ok().json(found.record)),
        None => Err(AdminError::NotFound(format!(
            "no dead letter {id} on record"
        ))),
    }
}

/// `POST /api/v1/dead-letters/{id}/replay`: 200 once the broker confirmed the republish.
pub(super) async fn replay_one(
    Caller(principal): Caller,
    id: web::Path<String>,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let id = letter_id(&id)?;

    let replayed = replayer(&admin).replay(id, &principal.subject).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "replayed", "replayed": replayed })))
}

/// `POST /api/v1/dead-letters/replay`: the open letters, oldest first, at most one batch
/// (`replay::REPLAY_BATCH`); the answer counts what was replayed and what is still open.
pub(super) async fn replay_all(
    Caller(principal): Caller,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let batch = replayer(&admin).replay_open(0, &principal.subject).await?;

    // The broker's own text stays in the log: answers never carry broker internals.
    let stopped = batch.broker_error.as_ref().map(|error| {
        tracing::warn!(%error, "replay batch stopped");
        "the broker did not confirm a replay; the batch stopped and the rest stay open"
    });
    if let (Some(stopped), true) = (stopped, batch.replayed.is_empty()) {
        return Err(AdminError::Broker(stopped.into()));
    }
    Ok(HttpResponse::Ok().json(json!({
        "replayed": batch.replayed.len(),
        "items": batch.replayed,
        "skipped": batch.skipped,
        "stopped": stopped,
        "open": batch.open,
        "batch": replay::REPLAY_BATCH,
    })))
}

/// `POST /api/v1/dead-letters/{id}/drop`: the letter stays on record as `dropped`.
pub(super) async fn drop(
    Caller(principal): Caller,
    id: web::Path<String>,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let id = letter_id(&id)?;

    let dropped = replay::drop(&admin.store, id, &principal.subject, "admin-api").await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "dropped", "dead_letter": dropped })))
}

fn replayer(admin: &AdminState) -> Replayer {
    Replayer {
        store: admin.store.clone(),
        publisher: admin.publisher.clone(),
        via: "admin-api",
    }
}

fn letter_id(text: &str) -> Result<i64, AdminError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AdminError::bad("id", "expected a dead letter id (a positive integer)"))
}

impl From<ReplayError> for AdminError {
    fn from(error: ReplayError) -> AdminError {
        let message = error.to_string();
        match error {
            ReplayError::NotFound(_) => AdminError::NotFound(message),
            ReplayError::NotOpen { .. } => AdminError::Conflict {
                code: "not_open",
                message,
            },
            ReplayError::Busy(_) => AdminError::Conflict {
                code: "replay_in_progress",
                message,
            },
            ReplayError::NotReplayable(_) => AdminError::Conflict {
                code: "not_replayable",
                message,
            },
            ReplayError::Publish { source, id } => {
                tracing::warn!(dead_letter = id, error = %source, "replay not confirmed");
                AdminError::Broker(format!(
                    "the broker did not confirm the replay of dead letter {id}; it stays open"
                ))
            }
            ReplayError::Store(e) => AdminError::Store(e),
        }
    }
}
