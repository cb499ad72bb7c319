//! SCIM for the black-box tests: the router with one SCIM client configured, requests that
//! carry its token, and the identity events its writes published.

use reqwest::{header, Method};
use serde_json::Value;

use crate::helpers::{spawn_app_with, Options, TestApp};

pub const CLIENT: &str = "tests";
pub const TOKEN: &str = "tests-scim-token-0123456789";
pub const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The router with the SCIM client `tests`.
pub async fn spawn_scim(options: Options) -> TestApp {
    spawn_app_with(Options {
        scim_tokens: Some(format!("{CLIENT}={TOKEN}")),
        ..options
    })
    .await
}

/// An answer: status, headers, and the body as JSON (`Null` when empty).
pub struct Answer {
    pub status: u16,
    pub headers: header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a SCIM error of `status` (and `scim_type` when given), its media type included.
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.body["schemas"],
            serde_json::json!([ERROR]),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status.to_string());
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.body);
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }
}

/// Sends SCIM requests to the app under test.
pub struct Scim {
    base: String,
    http: reqwest::Client,
}

impl Scim {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: format!("{}/scim/v2", app.url),
            http: reqwest::Client::new(),
        }
    }

    /// A request to `path` (under `/scim/v2`) with the client's token.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = match text.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(&text).unwrap(),
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `method path` with `body` as `application/scim+json` (none when `Null`).
    pub async fn call(&self, method: Method, path: &str, body: &Value) -> Answer {
        let mut request = self.request(method, path);
        if !body.is_null() {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        self.send(request).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, &Value::Null).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.call(Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, operations: Value) -> Answer {
        let body = serde_json::json!({ "schemas": [PATCH_OP], "Operations": operations });
        self.call(Method::PATCH, path, &body).await
    }

    /// Creates a User (201 asserted) and returns it.
    pub async fn user(&self, body: Value) -> Value {
        let created = self.post("/Users", &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.body
    }

    /// Creates a Group (201 asserted) and returns it.
    pub async fn group(&self, body: Value) -> Value {
        let created = self.post("/Groups", &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.body
    }
}

/// The routing keys of the events the SCIM client's writes published, oldest first.
pub async fn published(app: &TestApp) -> Vec<String> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit WHERE action = 'event.received' AND actor = $1 ORDER BY seq",
    )
    .bind(format!("iam:urn:scim:client:{CLIENT}"))
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|detail| {
            let detail: Value = serde_json::from_str(detail).unwrap();
            detail["routing_key"].as_str().unwrap().to_owned()
        })
        .collect()
}
