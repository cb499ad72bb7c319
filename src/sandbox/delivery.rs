//! Webhook delivery as ClickUp performs it: a compact JSON body carrying `webhook_id`, an
//! `X-Signature` header holding the lower-case hex HMAC-SHA256 of the raw body keyed by the
//! webhook secret, a 7 s deadline, and ClickUp's health rules applied to the outcome.
//!
//! Invariant: deliveries go only to loopback endpoints (`127.0.0.0/8`, `::1`, `localhost`
//! pinned to 127.0.0.1), never through a proxy and never following redirects. Other
//! endpoints can be registered, as in ClickUp, but are never contacted.

use std::{
    net::{Ipv4Addr, SocketAddr},
    time::Duration,
};

use anyhow::{bail, ensure, Context};
use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use sha2::Sha256;
use url::{Host, Url};

use super::{
    state::SandboxState,
    webhooks::{Health, WebhookRecord},
};

/// ClickUp counts a delivery without a 2xx answer within 7 seconds as failed.
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(7);

/// `fail_count` at which ClickUp suspends a webhook.
const SUSPEND_AT_FAIL_COUNT: u32 = 100;

pub(crate) fn build_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .build()
        .context("build the webhook delivery client")
}

/// Lower-case hex HMAC-SHA256 of `body`, keyed by the secret's UTF-8 bytes.
pub(crate) fn sign(secret: &str, body: &[u8]) -> anyhow::Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).context("key the signature")?;
    mac.update(body);
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// The endpoint as a URL, provided it points at the loopback interface. Like ClickUp, an
/// endpoint without a scheme is taken to be https.
pub(crate) fn loopback_url(endpoint: &str) -> anyhow::Result<Url> {
    let url = if endpoint.contains("://") {
        Url::parse(endpoint)
    } else {
        Url::parse(&format!("https://{endpoint}"))
    }
    .context("parse the webhook endpoint")?;

    if !matches!(url.scheme(), "http" | "https") {
        bail!(
            "webhook endpoints must be http or https, not {}",
            url.scheme()
        );
    }

    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    ensure!(
        loopback,
        "the sandbox delivers only to loopback endpoints, not to {}",
        url.host_str().unwrap_or("(no host)")
    );
    Ok(url)
}

/// Applies ClickUp's health rules to one delivery; `status` is `None` when no answer came
/// back in time.
pub(crate) fn record_outcome(webhook: &mut WebhookRecord, status: Option<u16>) {
    if let Some(200..=299) = status {
        webhook.health = Health::Active;
        webhook.fail_count = 0;
        return;
    }

    webhook.fail_count = webhook.fail_count.saturating_add(1);
    let suspend = matches!(status, Some(401 | 410)) || webhook.fail_count >= SUSPEND_AT_FAIL_COUNT;
    webhook.health = if suspend {
        Health::Suspended
    } else {
        Health::Failing
    };
}

/// The compact body to send, with `webhook_id` added when the caller left it out.
fn compact_body(webhook_id: &str, body: &Value) -> anyhow::Result<Vec<u8>> {
    let mut body = body.clone();
    let fields = body
        .as_object_mut()
        .context("a webhook body must be a JSON object")?;

    fields
        .entry("webhook_id")
        .or_insert_with(|| Value::String(webhook_id.to_owned()));
    serde_json::to_vec(&body).context("serialise the webhook body")
}

pub(crate) async fn deliver(
    state: &SandboxState,
    client: &reqwest::Client,
    webhook_id: &str,
    body: &Value,
) -> anyhow::Result<u16> {
    let (endpoint, secret) = state.with(|ws| {
        let webhook = ws
            .webhooks
            .iter()
            .find(|webhook| webhook.id == webhook_id)
            .with_context(|| format!("no webhook {webhook_id}"))?;
        ensure!(
            webhook.health != Health::Suspended,
            "webhook {webhook_id} is suspended; ClickUp delivers nothing to it"
        );
        Ok((webhook.endpoint.clone(), webhook.secret.clone()))
    })?;

    let url = loopback_url(&endpoint)?;
    let payload = compact_body(webhook_id, body)?;
    let signature = sign(&secret, &payload)?;

    let answer = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("X-Signature", signature)
        .body(payload)
        .send()
        .await;
    let status = answer
        .as_ref()
        .ok()
        .map(|response| response.status().as_u16());

    state.with(|ws| {
        let webhook = ws
            .webhooks
            .iter_mut()
            .find(|webhook| webhook.id == webhook_id);
        if let Some(webhook) = webhook {
            record_outcome(webhook, status);
            let health = webhook.health;
            tracing::debug!(webhook_id, ?status, ?health, "clickup sandbox delivered");
        }
    });

    let response = answer.context("deliver the webhook")?;
    Ok(response.status().as_u16())
}

/// A delivery ClickUp gave up after its retries: nothing reaches the receiver, and the
/// webhook counts the failure.
pub(crate) fn give_up(state: &SandboxState, webhook_id: &str) -> anyhow::Result<u16> {
    state.with(|ws| {
        let webhook = ws.webhooks.iter_mut().find(|w| w.id == webhook_id);
        if let Some(webhook) = webhook {
            record_outcome(webhook, None);
        }
    });
    bail!("lost: ClickUp gave the delivery up after its retries")
}

#[cfg(test)]
mod tests;
