//! Test helpers: start a sandbox on `127.0.0.1:0` and call it over HTTP with reqwest, seed a
//! small hierarchy and spell ACL entries, register webhooks, and (in `testing/receiver.rs`)
//! start a loopback webhook receiver that verifies signatures independently of the sandbox;
//! `testing/hooks.rs` seeds an intake List and checks history items.
//!
//! Every reply of [`call`] and [`send`] is parsed as JSON, so each test also checks that the
//! sandbox answered JSON; [`send_raw`] is for the one empty answer (DeleteTask's 204).
//! A fresh client per call keeps connection pools from outliving a test's runtime.

mod hooks;
mod receiver;

use reqwest::{header::HeaderMap, Method};
use serde_json::{json, Value};

use super::{Plan, Sandbox, SandboxConfig, SandboxShare};

pub(crate) use hooks::{
    check_envelope, events, health, hook, seed_intake, uncoloured, user_object,
};
pub(crate) use receiver::{start_receiver, Receiver};

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

/// Calls `{base_url}{path}` with the default token and no body; returns the status and the
/// raw answer, for answers that need not be JSON.
pub(crate) async fn send_raw(sandbox: &Sandbox, method: Method, path: &str) -> (u16, Vec<u8>) {
    let url = format!("{}{path}", sandbox.base_url());
    let response = client()
        .request(method, url)
        .header("Authorization", TOKEN)
        .send()
        .await
        .expect("the sandbox answers");

    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("read the answer");
    (status, bytes.to_vec())
}

/// Registers a webhook through the API with `body` (endpoint, events, location); returns
/// its id and secret.
pub(crate) async fn register_webhook(sandbox: &Sandbox, body: Value) -> (String, String) {
    let path = format!("/v2/team/{TEAM}/webhook");
    let reply = call(sandbox, Method::POST, &path, Some(body)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    let id = reply.body["id"].as_str().expect("webhook id").to_owned();
    let secret = reply.body["webhook"]["secret"].as_str().expect("secret");
    (id, secret.to_owned())
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
