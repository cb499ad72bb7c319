//! The gate every request passes: `/IDMProv` calls need a live bearer token (401 otherwise)
//! and answer a scheduled failure when one is due; every call is recorded with its final
//! status. The caller's DN reaches the handlers as a [`Caller`] request extension.
//!
//! The 401 answer (empty body, `WWW-Authenticate: Bearer`) is the stand-in's choice; the lab
//! notes do not show Identity Applications' own.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{HeaderMap, AUTHORIZATION, WWW_AUTHENTICATE},
        StatusCode,
    },
    middleware::Next,
    web, HttpMessage, HttpResponse, ResponseError,
};

use super::{fault::Fault, state::IamState};

/// DN of the user whose token the request carries.
#[derive(Clone, Debug)]
pub(super) struct Caller(pub String);

/// What the gate decided before the request reached a handler.
enum Verdict {
    Pass(Option<Caller>),
    Refuse(HttpResponse),
}

pub(super) async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<IamState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "iam sandbox state missing",
        ));
    };
    let method = req.method().to_string();
    let path = req.path().to_owned();

    let verdict = if path.starts_with("/IDMProv/") {
        screen(&state, req.headers())
    } else {
        Verdict::Pass(None)
    };
    let response = match verdict {
        Verdict::Refuse(answer) => req.into_response(answer),
        Verdict::Pass(caller) => {
            if let Some(caller) = caller {
                req.extensions_mut().insert(caller);
            }
            match next.call(req).await {
                Ok(response) => response.map_into_boxed_body(),
                Err(error) => {
                    let status = error.as_response_error().status_code().as_u16();
                    record(&state, method, path, status);
                    return Err(error);
                }
            }
        }
    };

    record(&state, method, path, response.status().as_u16());
    Ok(response)
}

fn screen(state: &IamState, headers: &HeaderMap) -> Verdict {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());

    state.with(|s| {
        let Some(user) = token.and_then(|token| s.bearer(&token)) else {
            return Verdict::Refuse(
                HttpResponse::Unauthorized()
                    .insert_header((WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
                    .finish(),
            );
        };
        match s.failures.pop_front() {
            Some(status) => Verdict::Refuse(injected(status)),
            None => Verdict::Pass(Some(Caller(user))),
        }
    })
}

/// A scheduled failure: a Fault body for 489 and 500, an empty body otherwise.
fn injected(status: u16) -> HttpResponse {
    match status {
        489 | 500 => Fault::new(
            status,
            "InternalExceptionOccured",
            "Internal exception occurred processing REST service",
        )
        .error_response(),
        _ => HttpResponse::build(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
        .finish(),
    }
}

fn record(state: &IamState, method: String, path: String, status: u16) {
    tracing::debug!(%method, %path, status, "iam sandbox answered");
    state.with(|s| s.calls.push((method, path, status)));
}
