//! Signing in and out: the redirect to the provider, its callback, and sign-out.
//!
//! Every sign-in, accepted or refused, is an audit row (`ui.sign_in`, actor `iam:<sub>` when
//! the token was valid); no code, token, state or email is logged or recorded.

use actix_session::Session;
use actix_web::{http::StatusCode, web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use tracing::{info, warn};

use super::{
    html,
    login::{constant_time_eq, PendingLogin},
    oidc::OidcError,
    see_other,
    session::{self, roles_from, SignedIn},
    views, UiError, UiState,
};
use crate::store::AuditEntry;

/// Sends the browser to the provider to sign in, to come back to `next`.
pub(super) async fn begin(
    state: &UiState,
    session: &Session,
    next: &str,
) -> Result<HttpResponse, UiError> {
    let discovery = state.provider.discovery().await?;
    let login = PendingLogin::start(next, Utc::now().timestamp());
    let url = login
        .authorization_url(
            &discovery.authorization_endpoint,
            state.provider.client_id(),
            &state.redirect_uri,
        )
        .map_err(|_| {
            UiError::SignIn("the provider's authorization endpoint is not a URL".into())
        })?;
    session::keep_login(session, &login).map_err(UiError::SignIn)?;
    Ok(see_other(url.as_str()))
}

/// The provider's answer to the authorization request.
#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

pub(super) async fn callback(
    state: web::Data<UiState>,
    session: Session,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, UiError> {
    let now = Utc::now().timestamp();
    let Some(login) = session::take_login(&session).filter(|login| !login.expired(now)) else {
        audit(&state, None, "refused", "no_sign_in_in_progress").await;
        return Err(UiError::SignIn(
            "no sign-in is in progress in this browser (or it took too long); open the page again"
                .into(),
        ));
    };
    if !query
        .state
        .as_deref()
        .is_some_and(|s| login.state_matches(s))
    {
        audit(&state, None, "refused", "state_mismatch").await;
        return Err(UiError::SignIn(
            "the answer does not belong to this browser's sign-in (state mismatch)".into(),
        ));
    }
    if let Some(error) = &query.error {
        audit(&state, None, "refused", "provider_error").await;
        return Err(UiError::SignIn(format!("the provider answered {error}")));
    }

    let discovery = state.provider.discovery().await?;
    if let Some(iss) = &query.iss {
        if !constant_time_eq(
            iss.trim_end_matches('/'),
            discovery.issuer.trim_end_matches('/'),
        ) {
            audit(&state, None, "refused", "issuer_mismatch").await;
            return Err(UiError::SignIn(
                "the answer comes from another issuer".into(),
            ));
        }
    }
    let code = query
        .code
        .as_deref()
        .ok_or_else(|| UiError::SignIn("the answer carries no code".into()))?;
    let claims = match state
        .provider
        .redeem(code, &login.verifier, &state.redirect_uri, &login.nonce)
        .await
    {
        Ok(claims) => claims,
        Err(OidcError::CodeRefused) => {
            audit(&state, None, "refused", "code_refused").await;
            return Err(UiError::SignIn(
                "the provider refused the sign-in code (it was used already or has expired); open the page again"
                    .into(),
            ));
        }
        Err(e) => {
            warn!(error = %e, "ui: sign-in refused");
            audit(&state, None, "refused", "token_invalid").await;
            return Err(e.into());
        }
    };

    let roles = roles_from(
        &serde_json::Value::Object(claims.other.clone()),
        &state.roles_claim,
        &state.role_names,
    );
    if roles.is_empty() {
        session.purge();
        audit(&state, Some(&claims.sub), "refused", "no_role").await;
        return Err(UiError::Forbidden(
            "You signed in, but your roles at the provider include none of admin, auditor or approver, so no page is open to you.".into(),
        ));
    }
    let display = claims
        .name
        .or(claims.email)
        .unwrap_or_else(|| claims.sub.clone());
    let user = SignedIn::new(claims.sub, display, roles, now);
    session::sign_in(&state.store, &session, &user).await?;
    info!(subject = %user.subject, roles = %user.role_names(), "ui: signed in");
    audit(&state, Some(&user.subject), "ok", &user.role_names()).await;
    Ok(see_other(&login.next))
}

/// The sign-out form.
#[derive(Deserialize)]
pub(super) struct SignOutForm {
    csrf: String,
}

pub(super) async fn sign_out(
    state: web::Data<UiState>,
    session: Session,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, UiError> {
    let now = Utc::now().timestamp();
    let Some(user) = session::signed_in(&state.store, &session, now).await? else {
        return Ok(see_other("/ui/signed-out"));
    };
    if !constant_time_eq(&user.csrf, &form.csrf) {
        return Err(UiError::BadInput(
            "the sign-out form is not this session's (CSRF check failed)".into(),
        ));
    }
    session::sign_out(&state.store, &session, &user, now).await?;
    info!(subject = %user.subject, "ui: signed out");
    Ok(see_other("/ui/signed-out"))
}

pub(super) async fn signed_out() -> Result<HttpResponse, UiError> {
    Ok(html(StatusCode::OK, views::signed_out()?))
}

/// Appends the sign-in's audit row; a failure is logged, not shown (the sign-in stands).
async fn audit(state: &UiState, subject: Option<&str>, outcome: &str, detail: &str) {
    let attempt = uuid::Uuid::new_v4().simple().to_string();
    let entry = AuditEntry {
        actor: subject.map_or_else(|| "ui".to_owned(), |s| format!("iam:{s}")),
        action: "ui.sign_in".into(),
        subject: subject.map(str::to_owned),
        object: None,
        outcome: outcome.into(),
        correlation_id: format!("ui-sign-in:{attempt}"),
        event_id: format!("ui-sign-in:{attempt}"),
        detail: match outcome {
            "ok" => json!({ "roles": detail }),
            _ => json!({ "reason": detail }),
        },
    };
    if let Err(e) = state.store.append_audit(&entry).await {
        warn!(error = %e, "ui: sign-in audit row not written");
    }
}
