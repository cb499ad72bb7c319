//! Test helpers: start a sandbox on `127.0.0.1:0` and call it over HTTP with reqwest, seed a
//! small hierarchy and spell ACL entries, and start a loopback webhook receiver that
//! verifies signatures independently of the sandbox.
//!
//! Every reply is parsed as JSON, so each test also checks that the sandbox answered JSON.
//! A fresh client per call keeps connection pools from outliving a test's runtime.

use std::sync::{
    atomic::{AtomicU16, Ordering},
    Arc, Mutex,
};

use actix_web::{
    dev::ServerHandle, http::StatusCode, web, App, HttpRequest, HttpResponse, HttpServer,
};
use hmac::{Hmac, Mac};
use reqwest::{header::HeaderMap, Method};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{Plan, Sandbox, SandboxConfig, SandboxShare};

pub(crate) const TOKEN: &str = "pk_sandbox_token";
pub(crate) const TEAM: &str = "9012345678";

pub(crate) async fn start(config: SandboxConfig) -> Sandbox {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    Sandbox::start(listener, config)
        .await
        .expect("start the sandbox")
}

pub(crate) async fn start_default() -> Sandbox {
    start(SandboxConfig::default()).await
}

pub(crate) async fn start_on(plan: Plan) -> Sandbox {
    start(SandboxConfig {
        plan,
        ..SandboxConfig::default()
    })
    .await
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("build a test client")
}

/// A sandbox answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Calls `{base_url}{path}` with the default token and an optional JSON body.
pub(crate) async fn call(
    sandbox: &Sandbox,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    send(
        sandbox,
        Some(TOKEN),
        method,
        path,
        body.map(|body| body.to_string()),
    )
    .await
}

/// Calls `{base_url}{path}` with any `Authorization` value (or none) and a raw body.
pub(crate) async fn send(
    sandbox: &Sandbox,
    authorization: Option<&str>,
    method: Method,
    path: &str,
    raw_body: Option<String>,
) -> Reply {
    let url = format!("{}{path}", sandbox.base_url());
    let mut request = client().request(method, url);
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    if let Some(raw_body) = raw_body {
        request = request
            .header("Content-Type", "application/json")
            .body(raw_body);
    }

    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("read the answer");

    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|error| panic!("{path} answered non-JSON ({error}): {bytes:?}"));
    Reply {
        status,
        headers,
        body,
    }
}

/// The keys of a JSON object, sorted, to compare with the fields the spec requires.
pub(crate) fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .map(|fields| fields.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// The owner's id, as `GET /v2/user` reports it.
pub(crate) async fn owner_id(sandbox: &Sandbox) -> u64 {
    let reply = call(sandbox, Method::GET, "/v2/user", None).await;
    reply.body["user"]["id"].as_u64().expect("integer owner id")
}

/// The emails `GET /v2/team` lists.
pub(crate) async fn listed_emails(sandbox: &Sandbox) -> Vec<String> {
    let reply = call(sandbox, Method::GET, "/v2/team", None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    reply.body["teams"][0]["members"]
        .as_array()
        .expect("members array")
        .iter()
        .filter_map(|member| member["user"]["email"].as_str().map(str::to_owned))
        .collect()
}

/// `(type, id)` of a seeded Space, a Folder in it, a List in the Folder and a task in the
/// List, in that order.
pub(crate) fn seed_hierarchy(sandbox: &Sandbox) -> [(&'static str, String); 4] {
    let state = sandbox.state();
    let space = state.add_space("Engineering");
    let folder = state.add_folder(&space, "Platform");
    let list = state.add_list_in_folder(&folder, "Access Requests");
    let task = state.add_task(&list, "Grant VPN");

    [
        ("space", space),
        ("folder", folder),
        ("list", list),
        ("task", task),
    ]
}

/// The v3 ACL path of an object in the default workspace.
pub(crate) fn acl_path(kind: &str, id: &str) -> String {
    format!("/v3/workspaces/{TEAM}/{kind}/{id}/acls")
}

/// A v3 ACL entry; `level` is a number or `null`.
pub(crate) fn entry(kind: &str, id: &str, level: Value) -> Value {
    json!({ "kind": kind, "id": id, "permission_level": level })
}

/// An `object_acl` row.
pub(crate) fn acl(kind: &str, id: &str, level: &str) -> (String, String, String) {
    (kind.to_owned(), id.to_owned(), level.to_owned())
}

pub(crate) fn share(object_type: &str, object_id: &str, level: &str, via: &str) -> SandboxShare {
    SandboxShare {
        object_type: object_type.to_owned(),
        object_id: object_id.to_owned(),
        level: level.to_owned(),
        via: via.to_owned(),
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub signature: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub signature_valid: bool,
}

/// What the receiver shares with the test: the secret it checks with, the status it
/// answers valid deliveries with, and what it saw.
#[derive(Clone)]
struct Inbox {
    secret: Arc<Mutex<String>>,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A webhook receiver on loopback that checks `X-Signature` itself.
pub(crate) struct Receiver {
    pub url: String,
    inbox: Inbox,
    handle: ServerHandle,
}

impl Receiver {
    pub fn set_secret(&self, secret: &str) {
        *self.inbox.secret.lock().expect("secret lock") = secret.to_owned();
    }

    pub fn answer_with(&self, status: u16) {
        self.inbox.status.store(status, Ordering::SeqCst);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inbox.seen.lock().expect("seen lock").clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Verifies `X-Signature` from scratch: hex-decode, then constant-time HMAC comparison
/// over the raw body bytes. A bad signature gets 403, as our own receiver will answer.
async fn receive(inbox: web::Data<Inbox>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let signature = header("x-signature");
    let secret = inbox.secret.lock().expect("secret lock").clone();

    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&body);
    let signature_valid =
        hex::decode(&signature).is_ok_and(|bytes| mac.verify_slice(&bytes).is_ok());
    inbox.seen.lock().expect("seen lock").push(Seen {
        signature,
        content_type: header("content-type"),
        body: body.to_vec(),
        signature_valid,
    });

    let status = if signature_valid {
        inbox.status.load(Ordering::SeqCst)
    } else {
        403
    };
    HttpResponse::build(StatusCode::from_u16(status).expect("test status")).finish()
}

/// Starts a receiver on `127.0.0.1:0` that answers 200 to correctly signed deliveries.
pub(crate) async fn start_receiver() -> Receiver {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("receiver address");
    let inbox = Inbox {
        secret: Arc::default(),
        status: Arc::new(AtomicU16::new(200)),
        seen: Arc::default(),
    };

    let data = web::Data::new(inbox.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hooks/clickup", web::post().to(receive))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("receiver listens")
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    Receiver {
        url: format!("http://{address}/hooks/clickup"),
        inbox,
        handle,
    }
}
