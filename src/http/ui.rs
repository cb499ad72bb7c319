//! The `/ui` pages: a person's and an object's access timeline, pending access requests,
//! grants ending soon and dead letters, server-rendered (askama templates, escaped), behind
//! sign-in through the IAM's OpenID Connect provider (authorization code with PKCE) and a
//! signed and encrypted session cookie.
//!
//! Invariants: every page but the sign-in's own answers needs a current session (the cookie's
//! person and its `ui_sessions` row, which sign-out ends) with a role the page admits (none:
//! a redirect to the provider; a wrong role: 403); the only form that changes state
//! (sign-out) is a POST carrying the session's CSRF token; pages are never cached or framed
//! and run no script; every refusal, actix's own included, is the pages' HTML error page.

mod login;
mod oidc;
mod pages;
mod refusals;
mod session;
mod signin;
mod views;

use actix_session::{
    config::CookieContentSecurity, storage::CookieSessionStore, SessionMiddleware,
};
use actix_web::{
    cookie::{Key, SameSite},
    http::{header, StatusCode},
    web, FromRequest, Handler, HttpResponse, Resource, Responder, ResponseError,
};
use tracing::warn;

use std::sync::Arc;

use crate::{
    auth::{RoleNames, Verifier},
    clickup::ClickUpClient,
    config::{OidcSettings, UiSettings},
    store::Store,
};
use oidc::{OidcError, Provider};

/// Name of the session cookie (path `/ui`).
pub const SESSION_COOKIE: &str = "cir_ui";

/// What the pages share.
pub struct UiState {
    store: Store,
    provider: Provider,
    /// `<public URL>/ui/callback`, registered at the provider.
    redirect_uri: String,
    roles_claim: String,
    role_names: RoleNames,
    key: Key,
    secure: bool,
    /// Reads the hierarchy above an object, when the process has ClickUp settings.
    clickup: Option<ClickUpClient>,
}

impl UiState {
    /// The pages' state, or `None` when they are not configured.
    pub fn from_settings(
        settings: &UiSettings,
        oidc: &OidcSettings,
        verifier: Arc<Verifier>,
        store: Store,
        clickup: Option<ClickUpClient>,
    ) -> anyhow::Result<Option<UiState>> {
        if !settings.enabled(oidc) {
            return Ok(None);
        }
        let public = url::Url::parse(settings.ui_public_url.trim())
            .map_err(|e| anyhow::anyhow!("UI_PUBLIC_URL is not a URL: {e}"))?;
        anyhow::ensure!(
            matches!(public.scheme(), "http" | "https"),
            "UI_PUBLIC_URL must be an http(s) URL"
        );
        anyhow::ensure!(
            !oidc.oidc_client_id.is_empty(),
            "OIDC_CLIENT_ID is required with UI_PUBLIC_URL"
        );
        let key = match settings.ui_session_key.expose().as_bytes() {
            [] => {
                warn!("UI_SESSION_KEY is not set: a random key for this process only, so sessions end at restart");
                Key::generate()
            }
            short if short.len() < 32 => {
                anyhow::bail!("UI_SESSION_KEY must be at least 32 characters")
            }
            master => Key::derive_from(master),
        };
        Ok(Some(UiState {
            store,
            provider: Provider::new(
                verifier,
                &oidc.oidc_client_id,
                oidc.oidc_client_secret.clone(),
            )?,
            redirect_uri: format!("{}/ui/callback", public.as_str().trim_end_matches('/')),
            roles_claim: oidc.oidc_roles_claim.trim().to_owned(),
            role_names: RoleNames {
                admin: oidc.oidc_admin_role.clone(),
                auditor: oidc.oidc_auditor_role.clone(),
                approver: oidc.oidc_approver_role.clone(),
            },
            key,
            secure: public.scheme() == "https",
            clickup,
        }))
    }
}

/// Adds the `/ui` scope, with its session middleware, to the app.
pub fn configure(config: &mut web::ServiceConfig, state: web::Data<UiState>) {
    let sessions = SessionMiddleware::builder(CookieSessionStore::default(), state.key.clone())
        .cookie_name(SESSION_COOKIE.to_owned())
        .cookie_path("/ui".to_owned())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(state.secure)
        .cookie_content_security(CookieContentSecurity::Private)
        .build();
    config.service(
        web::scope("/ui")
            .app_data(state)
            .app_data(web::QueryConfig::default().error_handler(refusals::query))
            .app_data(web::FormConfig::default().error_handler(refusals::form))
            .wrap(sessions)
            .service(get("", pages::index))
            .service(get("/", pages::index))
            .service(get("/callback", signin::callback))
            .service(
                web::resource("/sign-out")
                    .route(web::post().to(signin::sign_out))
                    .default_service(web::to(|| async { refusals::method_not_allowed("POST") })),
            )
            .service(get("/signed-out", signin::signed_out))
            .service(get("/person", pages::person))
            .service(get("/object", pages::object))
            .service(get("/requests", pages::requests))
            .service(get("/expiring", pages::expiring))
            .service(get("/dead-letters", pages::dead_letters))
            .default_service(web::to(pages::not_found)),
    );
}

/// A page opened with GET; any other method gets the pages' 405.
fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(|| async { refusals::method_not_allowed("GET") }))
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Forbidden(String),
    /// A request the pages cannot read (query, form, method), with actix's status for it.
    #[error("{message}")]
    Refused { status: StatusCode, message: String },
    #[error("Sign-in failed: {0}")]
    SignIn(String),
    #[error("The sign-in provider did not answer as expected.")]
    Provider(#[from] OidcError),
    #[error("The record could not be read.")]
    Store(#[from] crate::store::StoreError),
    #[error("The page could not be rendered.")]
    Render(#[from] askama::Error),
    #[error("No such page.")]
    NotFound,
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::BadInput(_) | UiError::SignIn(_) => StatusCode::BAD_REQUEST,
            UiError::Forbidden(_) => StatusCode::FORBIDDEN,
            UiError::Refused { status, .. } => *status,
            UiError::NotFound => StatusCode::NOT_FOUND,
            UiError::Provider(_) => StatusCode::BAD_GATEWAY,
            UiError::Store(_) | UiError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            UiError::Provider(e) => warn!(error = %e, "ui: sign-in provider failed"),
            UiError::Store(e) => warn!(error = %e, "ui: store read failed"),
            UiError::Render(e) => warn!(error = %e, "ui: template failed"),
            _ => {}
        }
        let title = match status {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_client_error() => "Cannot show this",
            _ => "Something went wrong",
        };
        match views::message(title, &self.to_string()) {
            Ok(body) => html(status, body),
            Err(_) => HttpResponse::build(status).body(title),
        }
    }
}

/// An HTML answer that is never cached, framed or scripted.
pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .body(body)
}

/// A 303 to `location` that is never cached.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}
