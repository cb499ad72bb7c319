//! Wiring: builds receivers and workers from settings and runs them until shutdown.
//!
//! Tests and `demo` use the same [`Application`] as `serve`, `worker` and `run`, on a listener
//! they bind themselves (port 0).

use std::{net::TcpListener, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    auth::Verifier,
    bus::Bus,
    clickup::ClickUpClient,
    config::{
        BusSettings, ClickUpSettings, HttpSettings, IamSettings, RulesSettings, StoreSettings,
        UiSettings,
    },
    http::{self, MetricsState, ReceiverState, UiState},
    ingest::{
        iam::IamSchema,
        signature::{StandardKey, Tolerance},
    },
    metrics::Metrics,
    store::Store,
    worker,
};

/// How long accepted receipts are kept for deduplication (ClickUp retries within minutes,
/// Standard Webhooks senders for up to about three days).
const RECEIPT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Everything a process may run; `http`/`iam` are absent for a worker-only process.
#[derive(Clone, Debug)]
pub struct Settings {
    pub http: Option<HttpSettings>,
    pub iam: Option<IamSettings>,
    pub bus: BusSettings,
    pub store: StoreSettings,
    pub clickup: ClickUpSettings,
    pub rules: RulesSettings,
    pub run_worker: bool,
    /// Where a worker without receivers serves `GET /metrics` (none: not served).
    pub metrics_listen: Option<String>,
    /// The `/ui` pages on the receivers' server (off unless configured).
    pub ui: UiSettings,
}

/// A built application: bound, connected to the store, not yet running.
pub struct Application {
    settings: Settings,
    listener: Option<TcpListener>,
    metrics_listener: Option<TcpListener>,
    bus: Arc<Bus>,
    store: Store,
    rules: Option<worker::LoadedRules>,
    metrics: Metrics,
    /// Checks the OIDC provider's tokens for the admin API and the pages (one key cache).
    verifier: Option<Arc<Verifier>>,
    ui: Option<Arc<UiState>>,
}

impl Application {
    /// Checks the worker's settings and rules, binds the HTTP listener (unless one is given),
    /// then opens the store and prepares the bus: a setting that cannot work fails before
    /// anything is bound, created or migrated.
    pub async fn build(settings: Settings, listener: Option<TcpListener>) -> anyhow::Result<Self> {
        // The worker's settings and rules first: a rule file with an error stops the start
        // before a port is bound or the store is created.
        let rules = match settings.run_worker {
            true => {
                anyhow::ensure!(
                    settings.clickup.clickup_team_id != 0,
                    "CLICKUP_TEAM_ID is required for the worker"
                );
                anyhow::ensure!(
                    !settings.clickup.clickup_token.is_empty(),
                    "CLICKUP_TOKEN is required for the worker"
                );
                Some(worker::load_rules(&settings.rules)?)
            }
            false => None,
        };

        let listener = match (&settings.http, listener) {
            (Some(_), Some(listener)) => Some(listener),
            (Some(http), None) => Some(
                TcpListener::bind(&http.http_addr)
                    .with_context(|| format!("binding {}", http.http_addr))?,
            ),
            (None, _) => None,
        };
        let metrics_listener = match (&settings.http, &settings.metrics_listen) {
            (None, Some(addr)) => Some(
                TcpListener::bind(addr).with_context(|| format!("binding metrics on {addr}"))?,
            ),
            _ => None,
        };
        let store = Store::open(&settings.store)
            .await
            .context("opening the store")?;
        info!(backend = store.backend().name(), url = %settings.store.database_url, "store");
        let bus = Arc::new(Bus::from_settings(&settings.bus, &store)?);
        log_engine(&settings, &bus);
        let verifier = match &settings.http {
            Some(http) => Verifier::from_settings(&http.oidc)
                .context("OIDC settings")?
                .map(Arc::new),
            None => None,
        };
        let ui = match (&settings.http, &verifier) {
            (Some(http), Some(verifier)) if settings.ui.enabled(&http.oidc) => {
                UiState::from_settings(
                    &settings.ui,
                    &http.oidc,
                    verifier.clone(),
                    store.clone(),
                    hierarchy_reader(&settings.clickup),
                )?
                .map(Arc::new)
            }
            _ => None,
        };
        Ok(Self {
            verifier,
            ui,
            rules,
            settings,
            listener,
            metrics_listener,
            bus,
            store,
            metrics: Metrics::new(),
        })
    }

    /// The bound HTTP address, when this process serves HTTP.
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The bound metrics address of a worker without receivers, when it serves one.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn bus(&self) -> Arc<Bus> {
        self.bus.clone()
    }

    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Starts everything and returns once `shutdown` is cancelled and all parts have stopped.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks: Vec<JoinHandle<anyhow::Result<()>>> = Vec::new();

        if let (Some(listener), Some(iam)) = (self.listener, &self.settings.iam) {
            let http_settings = self.settings.http.clone().context("http settings")?;
            let state = receiver_state(
                &http_settings,
                iam,
                &self.settings.clickup,
                self.bus.clone(),
                self.store.clone(),
                self.metrics.clone(),
            )?;
            if let Err(e) = self.bus.connect_publisher().await {
                warn!(error = %e, "broker not reachable at start; receivers answer 503 until it is");
            }
            let (bus, token) = (self.bus.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move {
                bus.supervise_publisher(token).await;
                Ok(())
            }));
            let admin = self.verifier.clone().map(|verifier| {
                info!(issuer = %http_settings.oidc.oidc_issuer, "admin API enabled");
                Arc::new(http::AdminState {
                    verifier,
                    store: self.store.clone(),
                    clickup: hierarchy_reader(&self.settings.clickup),
                    publisher: self.bus.clone(),
                })
            });
            let server = http::serve(
                listener,
                Arc::new(state),
                admin,
                self.ui.clone(),
                shutdown.clone(),
            )?;
            info!(addr = %http_settings.http_addr, "receivers listening");
            tasks.push(tokio::spawn(
                async move { server.await.context("http server") },
            ));
            tasks.push(tokio::spawn(prune_receipts_until_stopped(
                self.store.clone(),
                shutdown.clone(),
            )));
        }

        if let Some(listener) = self.metrics_listener {
            let addr = listener.local_addr()?;
            let state = MetricsState {
                metrics: self.metrics.clone(),
                store: self.store.clone(),
                queue_depths: self.bus.clone(),
            };
            let server = http::serve_metrics(listener, Arc::new(state), shutdown.clone())?;
            info!(%addr, "metrics listening");
            tasks.push(tokio::spawn(async move {
                server.await.context("metrics server")
            }));
        }

        if let Some(rules) = self.rules {
            let clickup =
                ClickUpClient::new(&self.settings.clickup)?.with_metrics(self.metrics.clone());
            let iam = match self.settings.rules.iam_api.to_settings()? {
                Some(settings) => Some(crate::iam::IamClient::new(&settings)?),
                None => None,
            };
            let team_id = self.settings.clickup.clickup_team_id;
            let audit_log_every = self.settings.clickup.audit_log_every();
            let reconcile =
                self.settings
                    .rules
                    .reconcile_interval
                    .0
                    .map(|every| worker::Reconciling {
                        every,
                        publisher: self.bus.clone(),
                        webhook_ids: self.settings.clickup.clickup_webhook_secrets.ids(),
                    });
            let consumer = self.bus.clone();
            let store = self.store.clone();
            let token = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                let workspace = worker::Workspace {
                    clickup,
                    team_id,
                    audit_log_every,
                    reconcile,
                };
                worker::run_until_stopped(consumer, store, workspace, rules, iam, token).await
            }));
            info!("worker consuming");
        }

        // Shutdown: the server stops accepting and finishes its requests (their publishes
        // get their confirms), consumers finish and settle the deliveries in hand and close
        // their channels; then the publish link closes.
        let mut first_error = None;
        for task in tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => first_error = first_error.or(Some(e)),
                Err(e) => first_error = first_error.or(Some(anyhow::anyhow!("task panicked: {e}"))),
            }
        }
        self.bus.close_publisher().await;
        info!("stopped");
        first_error.map_or(Ok(()), Err)
    }
}

/// Says which bus engine this process uses, and where (credentials redacted).
fn log_engine(settings: &Settings, bus: &Bus) {
    match &settings.bus.amqp_url {
        Some(url) => {
            info!(engine = bus.engine(), url = %url, prefix = %settings.bus.amqp_prefix, "bus engine")
        }
        None => info!(
            engine = bus.engine(),
            store = %settings.store.database_url,
            prefix = %settings.bus.amqp_prefix,
            "bus engine: queues in the store (no AMQP_URL)"
        ),
    }
}

fn receiver_state(
    http: &HttpSettings,
    iam: &IamSettings,
    clickup: &ClickUpSettings,
    bus: Arc<Bus>,
    store: Store,
    metrics: Metrics,
) -> anyhow::Result<ReceiverState> {
    let iam_keys = StandardKey::parse_list(iam.iam_webhook_secrets.expose())
        .map_err(|e| anyhow::anyhow!("IAM_WEBHOOK_SECRETS: {e}"))?;
    if iam_keys.is_empty() {
        warn!("IAM_WEBHOOK_SECRETS is empty: every IAM delivery will be refused");
    }
    if clickup.clickup_webhook_secrets.is_empty() {
        warn!("CLICKUP_WEBHOOK_SECRETS is empty: every ClickUp delivery will be refused");
    }
    Ok(ReceiverState {
        publisher: bus.clone(),
        queue_depths: bus,
        metrics,
        store,
        clickup_secrets: clickup.clickup_webhook_secrets.clone(),
        iam_keys,
        iam_tolerance: Tolerance {
            past_secs: iam.iam_timestamp_tolerance_secs,
            future_secs: iam.iam_future_skew_secs,
        },
        iam_schema: IamSchema::compile()?,
        max_body_bytes: http.max_body_bytes,
        body_timeout: Duration::from_millis(http.body_timeout_ms),
        refusals: Default::default(),
        scim: http::scim::ScimState::new(http.scim_tokens.clone()),
    })
}

async fn prune_receipts_until_stopped(
    store: Store,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        match store.prune_receipts(RECEIPT_RETENTION).await {
            Ok(0) => {}
            Ok(pruned) => info!(pruned, "old receipts pruned"),
            Err(e) => warn!(error = %e, "receipt pruning failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}

/// A ClickUp client for reading the hierarchy above an object (admin API and pages), when a
/// token is configured.
fn hierarchy_reader(settings: &ClickUpSettings) -> Option<ClickUpClient> {
    if settings.clickup_token.is_empty() {
        return None;
    }
    ClickUpClient::new(settings)
        .map_err(|e| warn!(error = %e, "no ClickUp client for the admin API's hierarchy reads"))
        .ok()
}
