//! Identity Applications stand-in for tests and demos: OSP's token endpoint and the part of
//! `/IDMProv/rest/access` that access-request approvals use (start a PRD request, list and
//! act on approval tasks, read the request history), plus decisions pushed to a receiver as
//! signed `com.example.iam.request.decided.v1` CloudEvents, as a PRD's `rest-activity` would.
//!
//! Shapes follow the fixtures observed on Identity Manager 4.10.1 / Identity Applications
//! 24.4; where the lab showed nothing (the pending state pair, history-item comments, the
//! 401 body) the stand-in's choice is marked as such.
//!
//! Invariants: every `/IDMProv` call needs a live bearer token; ids are 32 lower-case hex;
//! the state lock is never held across an `.await`; the server listens only on loopback and
//! pushes only to loopback.

#[cfg(test)]
mod decision_tests;
mod fault;
mod gate;
mod notify;
mod oauth;
pub mod oidc;
mod requests;
mod state;
mod tasks;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod view;

use std::{fmt, net::SocketAddr, time::Duration};

use actix_web::{dev::ServerHandle, middleware::from_fn, web, App, HttpResponse, HttpServer};
use anyhow::Context;
use tokio::task::JoinHandle;

pub use oidc::{AccessTokenFormat, OidcClient, OidcConfig, TokenSpec};
pub use view::{IamRequestState, IamRequestView, IamTaskState, IamTaskView};

use super::ensure_loopback;
use notify::Notifier;
use oidc::OidcState;
use state::IamState;

/// Who may log in, which users exist, how long tokens live and where decisions go.
#[derive(Clone)]
pub struct IamSandboxConfig {
    /// The OSP client accepted with HTTP Basic auth, e.g. `rbpmrest`.
    pub client_id: String,
    pub client_secret: String,
    /// Every identity the stand-in knows: service accounts, recipients and approvers.
    pub users: Vec<IamSandboxUser>,
    /// Lifetime of an access token (OSP's default is 60 s).
    pub token_ttl: Duration,
    /// Where decisions are pushed; nothing is pushed when `None`.
    pub notify: Option<IamNotify>,
    /// The Access Manager OIDC provider's clients and token settings.
    pub oidc: OidcConfig,
}

impl Default for IamSandboxConfig {
    fn default() -> Self {
        IamSandboxConfig {
            client_id: "rbpmrest".to_owned(),
            client_secret: "sandbox-client-secret".to_owned(),
            users: Vec::new(),
            token_ttl: Duration::from_secs(60),
            notify: None,
            oidc: OidcConfig::default(),
        }
    }
}

/// One identity in the vault.
#[derive(Clone)]
pub struct IamSandboxUser {
    /// LDAP-form DN, e.g. `cn=jdoe,ou=users,o=data`.
    pub dn: String,
    /// The canonical 32-hex IAM id (eDirectory GUID).
    pub id: String,
    pub username: String,
    /// Set for users who may log in (service accounts).
    pub password: Option<String>,
    pub email: String,
    pub display_name: String,
    /// Values of the OIDC roles claim in this user's tokens.
    pub roles: Vec<String>,
}

/// A receiver of decision events and the `whsec_<base64>` secret they are signed with.
#[derive(Clone)]
pub struct IamNotify {
    /// Must point at loopback.
    pub url: String,
    pub secret: String,
}

/// A running stand-in. Dropping it stops the server without waiting; prefer
/// [`IamSandbox::stop`].
pub struct IamSandbox {
    address: SocketAddr,
    state: IamState,
    oidc: OidcState,
    notifier: Notifier,
    handle: ServerHandle,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl IamSandbox {
    /// Serves on `listener`, which must be bound to loopback (tests pass `127.0.0.1:0`).
    /// Fails when `notify` points anywhere but loopback or its secret is not `whsec_`.
    pub async fn start(
        listener: std::net::TcpListener,
        config: IamSandboxConfig,
    ) -> anyhow::Result<IamSandbox> {
        let address = listener.local_addr().context("read the listener address")?;
        ensure_loopback(address)?;
        listener
            .set_nonblocking(true)
            .context("make the listener non-blocking")?;

        let notifier = Notifier::new(config.notify.clone())?;
        let state = IamState::new(&config);
        let oidc = OidcState::new(
            config.oidc.clone(),
            config.users.clone(),
            &format!("http://{address}"),
        )?;

        let app_state = web::Data::new(state.clone());
        let app_oidc = web::Data::new(oidc.clone());
        let app_notifier = web::Data::new(notifier.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(app_notifier.clone())
                .app_data(app_oidc.clone())
                .wrap(from_fn(gate::admit))
                .route(oauth::TOKEN_PATH, web::post().to(oauth::token))
                .configure(oidc::configure)
                .service(
                    web::scope("/IDMProv/rest/access")
                        .route(
                            "/requests/permissions/v2",
                            web::post().to(requests::permissions_v2),
                        )
                        .route("/requests/historylist", web::get().to(requests::history))
                        .route("/requests/history/item", web::post().to(requests::item))
                        .route("/tasks/list", web::get().to(tasks::list))
                        .route("/tasks", web::post().to(tasks::act)),
                )
                .default_service(web::to(not_found))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(2)
        .listen(listener)
        .context("serve on the listener")?
        .run();

        let handle = server.handle();
        let server = tokio::spawn(server);
        tracing::info!(%address, "iam sandbox started");
        Ok(IamSandbox {
            address,
            state,
            oidc,
            notifier,
            handle,
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`; clients append `/osp/...` and `/IDMProv/...`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The OIDC issuer, `http://127.0.0.1:PORT/nidp/oauth/nam`; its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub fn oidc_issuer(&self) -> String {
        self.oidc.with(|s| s.issuer.clone())
    }

    /// Mints an access token without a sign-in (see [`TokenSpec`]); it is on record, so
    /// introspection and userinfo know it unless it was signed with the foreign key.
    pub fn issue_token(&self, spec: &TokenSpec) -> anyhow::Result<String> {
        self.oidc.with(|s| s.mint(spec))
    }

    /// Makes a new signing key (new `kid`) the one that signs. With `keep_old` the previous
    /// key stays in the JWKS; without, tokens it signed name a key no longer published.
    pub fn rotate_signing_key(&self, keep_old: bool) -> anyhow::Result<String> {
        Ok(self.oidc.with(|s| s.keys.rotate(keep_old))?)
    }

    /// Stops publishing every key but the signing one.
    pub fn retire_old_keys(&self) {
        self.oidc.with(|s| s.keys.retire_previous());
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.oidc.with(|s| s.jwks_fetches)
    }

    /// How many calls reached the introspection endpoint.
    pub fn introspections(&self) -> usize {
        self.oidc.with(|s| s.introspections)
    }

    /// Makes one access token inactive (introspection then answers `active: false`);
    /// `false` when the provider never issued it.
    pub fn revoke_access_token(&self, token: &str) -> bool {
        self.oidc.with(|s| s.revoke(token))
    }

    /// Stops accepting requests, lets in-flight ones finish, and waits for the server task.
    pub async fn stop(mut self) {
        self.handle.stop(true).await;

        if let Some(server) = self.server.take() {
            match server.await {
                Ok(Ok(())) => tracing::info!(address = %self.address, "iam sandbox stopped"),
                Ok(Err(error)) => tracing::warn!(%error, "iam sandbox stopped with an error"),
                Err(error) => tracing::warn!(%error, "iam sandbox task failed"),
            }
        }
    }

    /// Deploys a PRD that is at once in the permission index. Each approver (a user DN)
    /// gets one approval task per request; a PRD without approvers fails in the engine,
    /// as the lab's placeholder without an approval step did.
    pub fn add_prd(&self, dn: &str, name: &str, approvers: &[&str]) {
        self.state.with(|s| s.add_prd(dn, name, approvers));
    }

    /// Every request, oldest first.
    pub fn requests(&self) -> Vec<IamRequestView> {
        self.state.with(|s| s.views())
    }

    /// Acts as if `approver_dn` decided their task of the request in the IAM's own UI: a
    /// deny or the last approval decides the request, and a decision is pushed to `notify`
    /// when one is set. Returns the receiver's status, or `None` when nothing was pushed.
    /// Fails when the approver has no pending task in the request or no answer came back.
    pub async fn decide(
        &self,
        request_id: &str,
        approver_dn: &str,
        approve: bool,
        comment: &str,
    ) -> anyhow::Result<Option<u16>> {
        let event = self.state.with(|s| {
            let task_id = s
                .pending_task_of(request_id, approver_dn)
                .with_context(|| format!("no pending task of {approver_dn} in {request_id}"))?;
            s.act(&task_id, approver_dn, true, approve, comment)
                .map_err(|e| anyhow::anyhow!("{e}"))
        })?;

        match event {
            Some(event) => self.notifier.push(&event).await,
            None => Ok(None),
        }
    }

    /// `(method, path, status)` of every call answered, oldest first.
    pub fn calls(&self) -> Vec<(String, String, u16)> {
        self.state.with(|s| s.calls.clone())
    }

    /// The next `count` `/IDMProv` calls that pass the token check answer `status`
    /// (with a Fault body for 489 and 500).
    pub fn fail_next(&self, count: usize, status: u16) {
        self.state
            .with(|s| s.failures.extend(std::iter::repeat_n(status, count)));
    }

    /// Grant types of the tokens OSP issued (`password`, `refresh_token`), oldest first.
    pub fn grants(&self) -> Vec<String> {
        self.state.with(|s| s.grants.clone())
    }

    /// Invalidates every access and refresh token, as an OSP restart would.
    pub fn revoke_tokens(&self) {
        self.state.with(|s| s.revoke_tokens());
        self.oidc.with(|s| s.revoke_all());
    }
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain")
        .body("Not Found")
}

impl Drop for IamSandbox {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; the returned future only waits.
        if self.server.is_some() {
            drop(self.handle.stop(false));
        }
    }
}

impl fmt::Debug for IamSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamSandbox")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

// Secrets and passwords are credentials: Debug shows whether they are set, never values.
impl fmt::Debug for IamSandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamSandboxConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("users", &self.users)
            .field("token_ttl", &self.token_ttl)
            .field("notify", &self.notify)
            .field("oidc", &self.oidc)
            .finish()
    }
}

impl fmt::Debug for IamSandboxUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamSandboxUser")
            .field("dn", &self.dn)
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for IamNotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamNotify")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .finish()
    }
}
