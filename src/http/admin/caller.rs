//! The `Caller` extractor: verifies the bearer token and checks it against the role the
//! route's entry in the routing table asks for. A route without an entry refuses everyone.

use std::{future::Future, pin::Pin};

use actix_web::{dev::Payload, http::header::AUTHORIZATION, web, FromRequest, HttpRequest};

use super::{error::AdminError, AdminState};
use crate::auth::{AuthError, Need, Principal};

/// The role a route needs, attached to its resource by the routing table.
#[derive(Clone, Copy, Debug)]
pub(super) struct RouteNeed(pub Need);

/// The verified principal of a request that has the route's role.
#[derive(Debug)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, AdminError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let admin = request.app_data::<web::Data<AdminState>>().cloned();
        let need = request.app_data::<RouteNeed>().copied();
        let token = bearer(request);
        let path = request.path().to_owned();
        // The TCP peer, never X-Forwarded-For: behind a proxy, every caller shares its address.
        let peer = request.peer_addr().map(|address| address.ip());

        Box::pin(async move {
            let (Some(admin), Some(RouteNeed(need))) = (admin, need) else {
                return Err(AdminError::NotConfigured);
            };
            let principal = admin
                .verifier
                .verify(&token?, peer)
                .await
                .inspect_err(|e| {
                    tracing::info!(%path, error = e.code(), "admin API token refused");
                })?;

            if !need.admits(principal.roles) {
                tracing::info!(%path, subject = %principal.subject, "admin API role missing");
                return Err(AuthError::InsufficientRole(need.describe()).into());
            }
            Ok(Caller(principal))
        })
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(request: &HttpRequest) -> Result<String, AuthError> {
    let Some(value) = request.headers().get(AUTHORIZATION) else {
        return Err(AuthError::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::Malformed("the Authorization header is not text".into()))?;
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(AuthError::Malformed(
            "the Authorization header is not `Bearer <token>`".into(),
        )),
    }
}
