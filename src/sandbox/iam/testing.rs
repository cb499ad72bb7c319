//! Test helpers: a stand-in on `127.0.0.1:0` with a service account, a recipient and two
//! approvers, client settings for it, raw HTTP calls, and a loopback receiver that hands
//! each pushed decision to the test.
//!
//! The receiver checks nothing itself; [`verified`] checks what it saw with the router's
//! own signature verifier and event schema.

use std::{net::TcpListener, time::Duration};

use actix_web::{dev::ServerHandle, web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{IamNotify, IamSandbox, IamSandboxConfig, IamSandboxUser};
use crate::{
    config::Secret,
    iam::IamApiSettings,
    ingest::{
        iam::{normalise, Framing, IamSchema},
        signature::{verify_standard, StandardHeaders, StandardKey, Tolerance},
    },
};

pub(crate) const CLIENT_ID: &str = "rbpmrest";
pub(crate) const CLIENT_SECRET: &str = "client-secret-7f3a";
pub(crate) const SERVICE_USER: &str = "svc-clickup";
pub(crate) const SERVICE_PASSWORD: &str = "svc-password-91c2";
pub(crate) const SERVICE_DN: &str = "cn=svc-clickup,ou=sa,o=data";
pub(crate) const RECIPIENT_DN: &str = "cn=jdoe,ou=users,o=data";
pub(crate) const RECIPIENT_ID: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
pub(crate) const APPROVER_DN: &str = "cn=tbecker,ou=users,o=data";
pub(crate) const SECOND_APPROVER_DN: &str = "cn=amiller,ou=users,o=data";
pub(crate) const PRD_DN: &str =
    "cn=ClickUp-Space-Access,cn=RequestDefs,cn=AppConfig,cn=User Application Driver,cn=driverset1,o=system";
pub(crate) const PRD_NAME: &str = "ClickUp Space Access";
pub(crate) const NOTIFY_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn user(dn: &str, id: &str, username: &str, name: &str) -> IamSandboxUser {
    IamSandboxUser {
        dn: dn.to_owned(),
        id: id.to_owned(),
        username: username.to_owned(),
        password: None,
        email: format!("{username}@example.com"),
        display_name: name.to_owned(),
        roles: Vec::new(),
    }
}

pub(crate) fn users() -> Vec<IamSandboxUser> {
    let mut service = user(
        SERVICE_DN,
        "0a0a0a0a1b1b1b1b2c2c2c2c3d3d3d3d",
        SERVICE_USER,
        "ClickUp Router",
    );
    service.password = Some(SERVICE_PASSWORD.to_owned());
    vec![
        service,
        user(RECIPIENT_DN, RECIPIENT_ID, "jdoe", "Jane Doe"),
        user(
            APPROVER_DN,
            "5e5e5e5e6f6f6f6f7a7a7a7a8b8b8b8b",
            "tbecker",
            "Tom Becker",
        ),
        user(
            SECOND_APPROVER_DN,
            "6a6a6a6a7b7b7b7b8c8c8c8c9d9d9d9d",
            "amiller",
            "Ann Miller",
        ),
    ]
}

pub(crate) fn config() -> IamSandboxConfig {
    IamSandboxConfig {
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        users: users(),
        ..IamSandboxConfig::default()
    }
}

pub(crate) async fn start(config: IamSandboxConfig) -> IamSandbox {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let sandbox = IamSandbox::start(listener, config)
        .await
        .expect("start the iam sandbox");
    sandbox.add_prd(PRD_DN, PRD_NAME, &[APPROVER_DN]);
    sandbox
}

pub(crate) fn settings(sandbox: &IamSandbox) -> IamApiSettings {
    IamApiSettings {
        base_url: sandbox.base_url().parse().expect("sandbox url"),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        username: SERVICE_USER.to_owned(),
        password: Secret::new(SERVICE_PASSWORD),
        timeout: Duration::from_secs(5),
    }
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("build a test client")
}

/// A token grant with these client credentials and form; returns (status, body).
pub(crate) async fn grant(
    sandbox: &IamSandbox,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = http()
        .post(format!(
            "{}/osp/a/idm/auth/oauth2/token",
            sandbox.base_url()
        ))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .expect("token answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn login(sandbox: &IamSandbox) -> String {
    let form = [
        ("grant_type", "password"),
        ("username", SERVICE_USER),
        ("password", SERVICE_PASSWORD),
    ];
    let (status, body) = grant(sandbox, (CLIENT_ID, CLIENT_SECRET), &form).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// One `/IDMProv/rest/access` call with a raw body; returns (status, JSON body or Null).
pub(crate) async fn call(
    sandbox: &IamSandbox,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let url = format!("{}/IDMProv/rest/access{path}", sandbox.base_url());
    let mut request = http()
        .request(method, url)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.expect("sandbox answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn request_body(prd: &str, recipients: Value) -> String {
    json!({
        "reqPermissions": [{ "id": prd, "entityType": "PRD" }],
        "data": [{ "key": "clickupTaskId", "value": ["86b1x2y3z"] }],
        "recipients": recipients,
    })
    .to_string()
}

pub(crate) fn subcode(body: &Value) -> &str {
    body["Fault"]["Code"]["Subcode"]["Value"]
        .as_str()
        .unwrap_or("")
}

pub(crate) fn is_hex_id(id: &str) -> bool {
    id.len() == 32
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// Checks a push as the router's receiver would and returns the event.
pub(crate) fn verified(pushed: &Pushed) -> Value {
    let keys = vec![StandardKey::parse(NOTIFY_SECRET).expect("test secret")];
    let headers = StandardHeaders {
        id: pushed.id.as_deref(),
        timestamp: pushed.timestamp.as_deref(),
        signature: pushed.signature.as_deref(),
    };
    let tolerance = Tolerance {
        past_secs: 300,
        future_secs: 30,
    };
    verify_standard(
        &keys,
        &headers,
        &pushed.body,
        Utc::now().timestamp(),
        tolerance,
    )
    .expect("the signature verifies");

    let schema = IamSchema::compile().expect("schema");
    let envelopes = normalise(&schema, &pushed.body, Framing::Single, chrono::Utc::now())
        .expect("a valid event");
    assert_eq!(envelopes.len(), 1);
    assert_eq!(
        pushed.content_type.as_deref(),
        Some("application/cloudevents+json")
    );
    serde_json::from_slice(&pushed.body).expect("JSON")
}

/// One push the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Pushed {
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub signature: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// A loopback receiver answering every push with a fixed status.
pub(crate) struct Receiver {
    pub url: String,
    inbox: mpsc::UnboundedReceiver<Pushed>,
    handle: ServerHandle,
}

impl Receiver {
    pub fn notify(&self) -> IamNotify {
        IamNotify {
            url: self.url.clone(),
            secret: NOTIFY_SECRET.to_owned(),
        }
    }

    /// The next push; fails the test when none arrives within 10 s.
    pub async fn next(&mut self) -> Pushed {
        tokio::time::timeout(Duration::from_secs(10), self.inbox.recv())
            .await
            .expect("a push within 10 s")
            .expect("the receiver is running")
    }

    /// A push that already arrived, if any.
    pub fn try_next(&mut self) -> Option<Pushed> {
        self.inbox.try_recv().ok()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

pub(crate) async fn start_receiver(status: u16) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("receiver address");
    let (sender, inbox) = mpsc::unbounded_channel();
    let sender = web::Data::new(sender);

    let server = HttpServer::new(move || {
        App::new()
            .app_data(sender.clone())
            .route("/webhooks/iam", web::post().to(receive))
            .app_data(web::Data::new(status))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("receiver listens")
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    Receiver {
        url: format!("http://{address}/webhooks/iam"),
        inbox,
        handle,
    }
}

async fn receive(
    request: HttpRequest,
    body: web::Bytes,
    sender: web::Data<mpsc::UnboundedSender<Pushed>>,
    status: web::Data<u16>,
) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let pushed = Pushed {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: body.to_vec(),
    };
    // The test may have stopped listening; the answer does not depend on it.
    let _ = sender.send(pushed);
    let status = actix_web::http::StatusCode::from_u16(**status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).finish()
}
