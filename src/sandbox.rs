//! ClickUp stand-in that follows the public API contract, for tests and `demo`.
//!
//! [`Sandbox::start`] serves part of ClickUp's REST API under `/api` on a loopback listener:
//! the v2 workspace reads every plan has, the Enterprise-only user, guest and guest-share
//! endpoints, user groups, webhook management, a small Space/Folder/List/task hierarchy with
//! task writes, comments, List statuses and Custom Fields, and the v3 ACL endpoint that
//! shares it with users and groups. Every request passes ClickUp's token check and
//! per-token rate limit first. Tests seed and inspect the workspace through
//! [`SandboxState`] (which also fails chosen calls, before or after acting:
//! [`SandboxState::fail_call`]), and [`Sandbox::deliver`] sends a signed webhook delivery.
//!
//! Task changes, through the API (made by the token's owner) or by a user a test plays
//! ([`Sandbox::as_user`]), fire the webhook events ClickUp sends; a background task per
//! sandbox delivers them in order, and [`Sandbox::settle`] waits for it.
//!
//! Invariants: every response body is JSON in ClickUp's shapes, except DeleteTask's empty
//! 204; the state lock is never held across an `.await`; API handlers never wait for a
//! delivery; the sandbox serves only on loopback and delivers only to loopback.

mod access;
mod acls;
mod actor;
mod audit_log;
mod body;
mod command;
mod delivery;
mod directory;
mod dispatch;
mod errors;
mod events;
pub mod example;
mod fields;
mod gate;
mod groups;
mod guests;
mod hierarchy;
pub mod iam;
mod iam_command;
mod limits;
mod members;
mod routes;
mod shares;
mod state;
mod statuses;
mod tasks;
#[cfg(test)]
mod testing;
mod webhooks;

use std::{fmt, net::SocketAddr};

use actix_web::{dev::ServerHandle, middleware::from_fn, web, App, HttpServer};
use anyhow::Context;
use dispatch::Dispatcher;
use tokio::task::JoinHandle;

pub use access::SandboxShare;
pub use actor::{ActError, Actor};
pub use command::run_until_stopped;
pub use directory::{Role, SandboxUser};
pub use dispatch::SandboxDelivery;
pub use fields::{CustomFieldType, SandboxCustomField, SandboxFieldOption};
pub use gate::CallFault;
pub use groups::SandboxGroup;
pub use hierarchy::ListParent;
pub use state::{RecordedCall, SandboxState};
pub use tasks::{SandboxComment, SandboxTask};

/// A ClickUp plan: it sets the per-token rate limit and gates the Enterprise-only endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    Free,
    Unlimited,
    Business,
    BusinessPlus,
    Enterprise,
}

impl Plan {
    /// `plan_name` as `GET /v2/team/{team_id}/plan` reports it.
    pub fn name(self) -> &'static str {
        match self {
            Plan::Free => "Free Forever",
            Plan::Unlimited => "Unlimited",
            Plan::Business => "Business",
            Plan::BusinessPlus => "Business Plus",
            Plan::Enterprise => "Enterprise",
        }
    }

    /// `plan_id`. ClickUp's spec confirms only Enterprise = 4; the other ids are the
    /// sandbox's guess and must not be relied on.
    pub fn id(self) -> u32 {
        match self {
            Plan::Free => 1,
            Plan::Unlimited => 2,
            Plan::Business => 3,
            Plan::Enterprise => 4,
            Plan::BusinessPlus => 5,
        }
    }

    /// Requests per minute and token that ClickUp allows on this plan.
    pub fn requests_per_minute(self) -> u32 {
        match self {
            Plan::Free | Plan::Unlimited | Plan::Business => 100,
            Plan::BusinessPlus => 1_000,
            Plan::Enterprise => 10_000,
        }
    }
}

/// What the sandbox workspace looks like and which tokens it accepts.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Workspace ("team") id, e.g. 9012345678.
    pub team_id: u64,
    pub team_name: String,
    pub plan: Plan,
    /// Accepted API tokens: `pk_…` personal tokens sent raw, or OAuth tokens sent as
    /// `Bearer <token>`. All of them belong to the workspace owner account.
    pub tokens: Vec<String>,
    /// Overrides the plan's requests per minute (tests use small values).
    pub rate_limit_per_minute: Option<u32>,
    /// Length of a rate-limit window: a minute, as ClickUp counts; tests shorten it so that
    /// waiting for `X-RateLimit-Reset` takes seconds.
    pub rate_window: std::time::Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            team_id: 9_012_345_678,
            team_name: "Sandbox Workspace".to_owned(),
            plan: Plan::Enterprise,
            tokens: vec!["pk_sandbox_token".to_owned()],
            rate_limit_per_minute: None,
            rate_window: limits::WINDOW,
        }
    }
}

// Tokens are credentials, so Debug shows how many there are, never their values.
impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("team_id", &self.team_id)
            .field("team_name", &self.team_name)
            .field("plan", &self.plan)
            .field("tokens", &format_args!("[{} redacted]", self.tokens.len()))
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("rate_window", &self.rate_window)
            .finish()
    }
}

/// A running sandbox server and its delivery task. Dropping it stops both without waiting;
/// prefer [`Sandbox::stop`].
pub struct Sandbox {
    address: SocketAddr,
    state: SandboxState,
    client: reqwest::Client,
    handle: ServerHandle,
    server: Option<JoinHandle<std::io::Result<()>>>,
    dispatcher: Dispatcher,
}

impl Sandbox {
    /// Serves on `listener`, which must be bound to a loopback address (tests pass
    /// `127.0.0.1:0`). The server future runs on the current tokio runtime.
    pub async fn start(
        listener: std::net::TcpListener,
        config: SandboxConfig,
    ) -> anyhow::Result<Sandbox> {
        let address = listener.local_addr().context("read the listener address")?;
        ensure_loopback(address)?;
        listener
            .set_nonblocking(true)
            .context("make the listener non-blocking")?;

        let state = SandboxState::new(&config);
        let client = delivery::build_client()?;

        let app_state = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(from_fn(gate::admit))
                .configure(routes::configure)
                .default_service(web::to(routes::route_not_found))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(2)
        .listen(listener)
        .context("serve on the listener")?
        .run();

        let handle = server.handle();
        let server = tokio::spawn(server);
        let dispatcher = Dispatcher::start(state.clone(), client.clone());
        tracing::info!(%address, plan = config.plan.name(), "clickup sandbox started");
        Ok(Sandbox {
            address,
            state,
            client,
            handle,
            server: Some(server),
            dispatcher,
        })
    }

    /// Base URL of the API, e.g. `http://127.0.0.1:41234/api`; calls go to `{base}/v2/...`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api", self.address)
    }

    /// The shared state, to seed and inspect the workspace.
    pub fn state(&self) -> SandboxState {
        self.state.clone()
    }

    /// Returns once every webhook delivery queued so far has been attempted (answered,
    /// refused or timed out); `SandboxState::deliveries` then lists them.
    pub async fn settle(&self) {
        let queued = self.state.with(|ws| ws.outbox.queued());
        dispatch::attempted(&self.state, queued).await;
    }

    /// Stops accepting requests, lets in-flight ones finish, and waits for the server task;
    /// then stops the delivery task, dropping deliveries not yet attempted (call
    /// [`Sandbox::settle`] first to have them sent).
    pub async fn stop(mut self) {
        self.handle.stop(true).await;

        if let Some(server) = self.server.take() {
            match server.await {
                Ok(Ok(())) => tracing::info!(address = %self.address, "clickup sandbox stopped"),
                Ok(Err(error)) => tracing::warn!(%error, "clickup sandbox stopped with an error"),
                Err(error) => tracing::warn!(%error, "clickup sandbox task failed"),
            }
        }
        self.dispatcher.stop().await;
    }

    /// Delivers `body` to a webhook the way ClickUp does and returns the receiver's status.
    ///
    /// The body is serialised compactly (with `webhook_id` added when absent), signed in
    /// `X-Signature` and POSTed with a 7 s deadline; the webhook's health follows ClickUp's
    /// rules. Fails when the webhook is unknown or suspended, when its endpoint is not a
    /// loopback address, or when no status came back (which also counts as a failure).
    pub async fn deliver(&self, webhook_id: &str, body: &serde_json::Value) -> anyhow::Result<u16> {
        delivery::deliver(&self.state, &self.client, webhook_id, body).await
    }
}

pub(crate) fn ensure_loopback(address: SocketAddr) -> anyhow::Result<()> {
    anyhow::ensure!(
        address.ip().is_loopback(),
        "the sandbox serves only on loopback, not on {address}"
    );
    Ok(())
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; the returned future only waits.
        if self.server.is_some() {
            drop(self.handle.stop(false));
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_report_clickup_names_ids_and_rate_limits() {
        let cases = [
            (Plan::Free, "Free Forever", 1, 100),
            (Plan::Unlimited, "Unlimited", 2, 100),
            (Plan::Business, "Business", 3, 100),
            (Plan::BusinessPlus, "Business Plus", 5, 1_000),
            (Plan::Enterprise, "Enterprise", 4, 10_000),
        ];

        for (plan, name, id, per_minute) in cases {
            assert_eq!(plan.name(), name, "{plan:?}");
            assert_eq!(plan.id(), id, "{plan:?}");
            assert_eq!(plan.requests_per_minute(), per_minute, "{plan:?}");
        }
    }

    #[test]
    fn config_debug_never_shows_tokens() {
        let config = SandboxConfig::default();

        let printed = format!("{config:?}");

        assert!(!printed.contains("pk_sandbox_token"), "{printed}");
        assert!(printed.contains("[1 redacted]"), "{printed}");
    }

    #[test]
    fn only_loopback_addresses_may_be_served_on() {
        let cases = [
            ("127.0.0.1:8080", true),
            ("[::1]:8080", true),
            ("0.0.0.0:8080", false),
            ("192.168.1.20:8080", false),
        ];

        for (address, allowed) in cases {
            let address: SocketAddr = address.parse().expect("test address");
            assert_eq!(ensure_loopback(address).is_ok(), allowed, "{address}");
        }
    }
}
