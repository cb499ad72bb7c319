//! Decisions pushed as a PRD's `rest-activity` would: a `com.example.iam.request.decided.v1`
//! CloudEvent (the shape of the project's fixture 13) POSTed with Standard Webhooks headers
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">`, keyed by the base64-decoded part of the `whsec_` secret).
//!
//! Invariants: pushes go only to loopback (checked when the stand-in starts), never through
//! a proxy and never following redirects; the signing here is written independently of the
//! router's verifier so that tests of one check the other.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use anyhow::{ensure, Context};
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use url::{Host, Url};

use super::{
    state::{Inner, Request},
    IamNotify, IamSandboxUser,
};

/// A receiver that has not answered by then counts as failed.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where decisions go, with a client that reaches only loopback.
#[derive(Clone)]
pub(super) struct Notifier {
    target: Option<Target>,
    client: reqwest::Client,
}

#[derive(Clone)]
struct Target {
    url: Url,
    key: Vec<u8>,
}

impl Notifier {
    pub fn new(notify: Option<IamNotify>) -> anyhow::Result<Self> {
        let target = notify
            .map(|notify| -> anyhow::Result<Target> {
                Ok(Target {
                    url: loopback_url(&notify.url)?,
                    key: signing_key(&notify.secret)?,
                })
            })
            .transpose()?;
        let client = reqwest::Client::builder()
            .timeout(PUSH_TIMEOUT)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .resolve("localhost", SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .build()
            .context("build the decision push client")?;
        Ok(Notifier { target, client })
    }

    /// POSTs the event and returns the receiver's status; `None` when no target is set.
    pub async fn push(&self, event: &Value) -> anyhow::Result<Option<u16>> {
        let Some(target) = &self.target else {
            return Ok(None);
        };
        let body = serde_json::to_vec(event).context("serialise the decision event")?;
        let message_id = event["id"].as_str().unwrap_or_default().to_owned();
        let timestamp = Utc::now().timestamp();
        let signature = sign(&target.key, &message_id, timestamp, &body);

        let response = self
            .client
            .post(target.url.clone())
            .header("content-type", "application/cloudevents+json")
            .header("webhook-id", &message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .context("push the decision")?;
        let status = response.status().as_u16();
        tracing::debug!(%message_id, status, "iam sandbox pushed a decision");
        Ok(Some(status))
    }

    /// Pushes without waiting, as the workflow engine does after a task closes.
    pub fn push_in_background(&self, event: Value) {
        let notifier = self.clone();
        actix_web::rt::spawn(async move {
            if let Err(error) = notifier.push(&event).await {
                tracing::warn!(error = %error, "iam sandbox could not push a decision");
            }
        });
    }
}

/// `v1,<base64>` over `id.timestamp.body`.
fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length; an error here would be a broken hmac crate.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("hmac accepts keys of any length"),
    };
    mac.update(format!("{message_id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn signing_key(secret: &str) -> anyhow::Result<Vec<u8>> {
    let encoded = secret
        .strip_prefix("whsec_")
        .context("the notify secret must be whsec_<base64>")?;
    STANDARD
        .decode(encoded)
        .context("the notify secret must be whsec_<base64>")
}

/// The URL, provided it is http(s) on a loopback address or `localhost`.
fn loopback_url(text: &str) -> anyhow::Result<Url> {
    let url = Url::parse(text).context("parse the notify URL")?;
    ensure!(
        matches!(url.scheme(), "http" | "https"),
        "the notify URL must be http or https"
    );
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    ensure!(loopback, "the IAM sandbox pushes only to loopback");
    Ok(url)
}

/// The decision event of a decided request.
pub(super) fn event(inner: &Inner, request: &Request) -> Value {
    let view = &request.view;
    let decision = match view.state {
        super::IamRequestState::Denied => "denied",
        _ => "approved",
    };
    let activity = request.deciding_activity.clone().unwrap_or_default();
    let decided_at = request
        .decided_at
        .unwrap_or_else(Utc::now)
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let recipient = inner.user(&view.recipient);
    let subject = format!("user:{}", recipient.map(|u| u.id.as_str()).unwrap_or(""));
    let prd_cn = view
        .prd
        .split(',')
        .next()
        .and_then(|rdn| rdn.split_once('='))
        .map(|(_, value)| value.replace(' ', "-"))
        .unwrap_or_default();

    let mut outcome = json!({
        "request_id": view.id,
        "confirmation_number": view.confirmation_number,
        "item": { "kind": "prd", "id": view.prd, "name": request.prd_name },
        "decision": decision,
        "activity": activity,
        "decided_at": decided_at,
    });
    if let Some(approver) = view.approver.as_deref().and_then(|dn| inner.user(dn)) {
        outcome["approver"] = identity(approver, false);
    }
    if let Some(comment) = &view.comment {
        outcome["comment"] = Value::from(comment.as_str());
    }
    let task_ref = view
        .data
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("clickupTaskId"))
        .and_then(|(_, values)| values.first());
    if let Some(task_id) = task_ref {
        outcome["external_ref"] = Value::from(format!("clickup:task:{task_id}"));
    }

    json!({
        "specversion": "1.0",
        "id": format!("ua-{}-{activity}-{decision}", view.id),
        "source": format!("urn:opentext:idm:SANDBOX-TREE:idapps:prd:{prd_cn}"),
        "type": "com.example.iam.request.decided.v1",
        "time": decided_at,
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": "https://schemas.example.com/iam/v1/iam-event.schema.json",
        "sourcekind": "idm-ua",
        "sourceeventid": view.id,
        "correlationid": view.id,
        "partitionkey": subject,
        "data": {
            "lifecycle": "workflow",
            "user": recipient.map(|u| identity(u, true)).unwrap_or_else(|| json!({ "id": "" })),
            "request": outcome,
            "actor": {
                "type": "workflow",
                "id": view.id,
                "display_name": format!("{} PRD", request.prd_name),
            },
            "origin": { "format": "ua-json", "operation": "rest-activity callback" },
        },
    })
}

/// An identity reference; an empty email is left out (the schema checks its format).
fn identity(user: &IamSandboxUser, with_username: bool) -> Value {
    let mut value = json!({
        "id": user.id,
        "dn": user.dn,
        "display_name": user.display_name,
    });
    if with_username {
        value["username"] = Value::from(user.username.as_str());
    }
    if !user.email.is_empty() {
        value["email"] = Value::from(user.email.as_str());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_pushed_to() {
        let cases = [
            ("http://127.0.0.1:9000/webhooks/iam", true),
            ("http://[::1]:9000/webhooks/iam", true),
            ("http://localhost:9000/webhooks/iam", true),
            ("https://bridge.example.com/iam/events", false),
            ("http://10.0.0.5/iam", false),
            ("ftp://127.0.0.1/iam", false),
            ("127.0.0.1:9000", false),
        ];

        for (url, allowed) in cases {
            assert_eq!(loopback_url(url).is_ok(), allowed, "{url}");
        }
    }

    #[test]
    fn signing_matches_the_standard_webhooks_known_answer() {
        // The published Standard Webhooks test vector.
        let key = signing_key("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;

        let signature = sign(&key, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body);

        assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        assert!(signing_key("C2FVsBQIhrscChlQIMV").is_err());
    }
}
