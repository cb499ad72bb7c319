//! The gate every request passes before routing: check the `Authorization` token, count the
//! request against the token's rate limit, answer a scheduled failure if one is due (or a
//! fault planned for this call: refused, or done and its answer lost), stamp the
//! `X-RateLimit-*` headers, and record the call with its final status.
//!
//! Requests rejected for auth carry no rate-limit headers: without a valid token there is no
//! window to report.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderMap, AUTHORIZATION},
    middleware::Next,
    web, ResponseError,
};

use super::{
    errors::ApiError,
    limits::Quota,
    state::{RecordedCall, SandboxState},
};

/// How a call chosen by [`SandboxState::fail_call`] fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallFault {
    /// Refused with this status before anything is done.
    Refuse(u16),
    /// Done, then answered with this status instead: the answer is lost after ClickUp acted
    /// (a gateway timeout, or the caller gone before it read the answer).
    LoseAnswer(u16),
    /// Done after this many milliseconds, as a slow ClickUp would (a window in which the
    /// caller's other workers act).
    Delay(u64),
}

/// A fault planned for the next call with a method on a path prefix.
#[derive(Clone, Debug)]
pub(crate) struct PlannedFault {
    method: String,
    path_prefix: String,
    fault: CallFault,
}

impl SandboxState {
    /// Makes the next authenticated request within the rate limit with `method` on a path
    /// starting with `path_prefix` (as recorded: `/api/v2/task/`) fail once as `fault` says.
    /// Planned faults are used in the order they were planned.
    pub fn fail_call(&self, method: &str, path_prefix: &str, fault: CallFault) {
        self.with(|ws| {
            ws.planned_faults.push(PlannedFault {
                method: method.to_ascii_uppercase(),
                path_prefix: path_prefix.to_owned(),
                fault,
            })
        });
    }

    /// Takes the first fault planned for this call, if any.
    fn take_planned_fault(&self, method: &str, path: &str) -> Option<CallFault> {
        self.with(|ws| {
            let index = ws
                .planned_faults
                .iter()
                .position(|p| p.method == method && path.starts_with(&p.path_prefix))?;
            Some(ws.planned_faults.remove(index).fault)
        })
    }
}

/// What the gate decided before the request reached a handler.
struct Verdict {
    quota: Option<Quota>,
    rejection: Option<ApiError>,
}

impl Verdict {
    fn reject(error: ApiError) -> Self {
        Verdict {
            quota: None,
            rejection: Some(error),
        }
    }
}

pub(crate) async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<SandboxState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "sandbox state missing",
        ));
    };
    let method = req.method().to_string();
    let path = req.path().to_owned();

    let verdict = screen(&state, req.headers());
    let fault = match verdict.rejection {
        Some(_) => None,
        None => state.take_planned_fault(&method, &path),
    };
    if let Some(CallFault::Delay(ms)) = fault {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let mut response = match (verdict.rejection, fault) {
        (Some(error), _) => req.into_response(error.error_response()),
        (None, Some(CallFault::Refuse(status))) => {
            req.into_response(ApiError::injected(status).error_response())
        }
        (None, fault) => match next.call(req).await {
            Ok(response) => match fault {
                Some(CallFault::LoseAnswer(status)) => {
                    response.into_response(ApiError::injected(status).error_response())
                }
                _ => response.map_into_boxed_body(),
            },
            Err(error) => {
                record(
                    &state,
                    method,
                    path,
                    error.as_response_error().status_code().as_u16(),
                );
                return Err(error);
            }
        },
    };

    if let Some(quota) = verdict.quota {
        quota.stamp(response.headers_mut());
    }
    record(&state, method, path, response.status().as_u16());
    Ok(response)
}

fn screen(state: &SandboxState, headers: &HeaderMap) -> Verdict {
    let token = match presented_token(headers) {
        Ok(token) => token,
        Err(error) => return Verdict::reject(error),
    };

    state.with(|ws| {
        if !ws.accepts(&token) {
            return Verdict::reject(ApiError::token_invalid());
        }

        let quota = ws.admit(&token);
        let rejection = if quota.allowed {
            ws.take_scheduled_failure().map(ApiError::injected)
        } else {
            Some(ApiError::rate_limited())
        };
        Verdict {
            quota: Some(quota),
            rejection,
        }
    })
}

/// The token in `Authorization`: a raw personal token, or `Bearer <token>` for OAuth.
pub(crate) fn presented_token(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::authorization_missing());
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::token_invalid())?
        .trim();

    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    if token.is_empty() {
        return Err(ApiError::authorization_missing());
    }
    Ok(token.to_owned())
}

fn record(state: &SandboxState, method: String, path: String, status: u16) {
    tracing::debug!(%method, %path, status, "clickup sandbox answered");
    state.with(|ws| {
        ws.record(RecordedCall {
            method,
            path,
            status,
            answered: std::time::Instant::now(),
        })
    });
}

#[cfg(test)]
mod tests;
