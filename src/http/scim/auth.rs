//! Who may use `/scim/v2`: a request carries `Authorization: Bearer <token>` of a configured
//! client (compared in constant time), else 401 with `WWW-Authenticate: Bearer`; with no
//! client configured SCIM is off and every request is 404. The client's name travels with
//! the request (`ScimClient`) and becomes its events' source.

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, HttpMessage, ResponseError,
};
use tracing::warn;

use crate::{http::ReceiverState, scim::ScimError};

/// The configured client a request authenticated as.
#[derive(Clone, Debug)]
pub struct ScimClient(pub String);

pub async fn authenticate(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = {
        let state = request.app_data::<web::Data<ReceiverState>>();
        let tokens = state.map(|state| &state.scim.tokens);
        match tokens {
            Some(tokens) if !tokens.is_empty() => {
                let presented = bearer(&request);
                match presented.and_then(|token| tokens.client(token)) {
                    Some(client) => Ok(client.to_owned()),
                    None => Err(ScimError::new(
                        401,
                        None,
                        "a bearer token of a configured SCIM client is required",
                    )),
                }
            }
            _ => Err(ScimError::not_found("SCIM is not enabled")),
        }
    };

    match verdict {
        Ok(client) => {
            request.extensions_mut().insert(ScimClient(client));
            next.call(request)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(refused) => {
            if refused.status == 401 {
                warn!("SCIM request without a valid token refused");
            }
            let response = refused.error_response();
            Ok(request.into_response(response).map_into_right_body())
        }
    }
}

/// The token of an `Authorization: Bearer …` header (the scheme in any case).
fn bearer(request: &ServiceRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
