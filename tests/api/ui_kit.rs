//! For the page tests: the people who sign in, the router with its pages, records to show,
//! and a cookie-keeping HTTP client that signs in through the provider's form without a
//! browser (to read exact statuses).

use chrono::Utc;
use clickup_iam_router::{
    sandbox::iam::IamSandboxUser,
    store::{AccessRequest, NewDeadLetter, RequestState},
};
use reqwest::{header, redirect::Policy, StatusCode};
use serde_json::Value;

use crate::helpers::{fixture_json, spawn_app_with, Options, TestApp};

pub const PASSWORD: &str = "page-password-for-tests";
pub const JANE_EMAIL: &str = "jane.doe@example.com";
pub const CARLOS_EMAIL: &str = "carlos.rivera@example.com";
pub const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
pub const AUDRA: &str = "0000000000000000000000000000a0d1";
pub const REQUEST_TASK: &str = "86ui-pending-1";
pub const DEAD_ROUTING_KEY: &str = "iam.user.updated.ui-test";

fn person(id: &str, username: &str, name: &str, roles: &[&str]) -> IamSandboxUser {
    IamSandboxUser {
        dn: format!("cn={username},ou=users,o=data"),
        id: id.into(),
        username: username.into(),
        password: Some(PASSWORD.into()),
        email: format!("{username}@example.com"),
        display_name: name.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

/// An auditor who is also admin, an approver, and someone with no role.
pub fn people() -> Vec<IamSandboxUser> {
    vec![
        person(
            AUDRA,
            "audra",
            "Audra Auditor",
            &["clickup-router-auditor", "clickup-router-admin"],
        ),
        person(
            "0000000000000000000000000000a9e1",
            "april",
            "April Approver",
            &["clickup-router-approver"],
        ),
        person(
            "0000000000000000000000000000b0d1",
            "nora",
            "Nora Nobody",
            &[],
        ),
    ]
}

pub async fn spawn_with_pages() -> TestApp {
    spawn_app_with(Options {
        iam: Some(people()),
        ui: true,
        ..Options::default()
    })
    .await
}

async fn send(app: &TestApp, event: &Value) {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    let outcome = app.wait_processed(event).await.outcome;
    assert_eq!(outcome, "applied", "{}", event["type"]);
}

/// Jane joins and moves (so her timeline has ended intervals), a contractor whose access ends
/// in three days joins, a request waits for its approver and a dead letter is on record.
pub async fn seed(app: &TestApp) {
    send(app, &fixture_json("iam/01-joiner-employee.json")).await;
    send(app, &fixture_json("iam/03-mover-dept-title-role.json")).await;

    let mut contractor = fixture_json("iam/02-joiner-contractor-end-date.json");
    let end = Utc::now() + chrono::Duration::days(3);
    let profile = &mut contractor["data"]["user"]["profile"];
    profile["end_at"] = end
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        .into();
    profile["end_date"] = Value::Null;
    send(app, &contractor).await;

    let now = Utc::now().timestamp_millis();
    let mut request = AccessRequest::new(REQUEST_TASK, "901100000999", 4242, now);
    assert!(app.store.insert_request(&request).await.unwrap());
    request.iam_id = Some(JANE.into());
    request.object = Some("folder:901100000200".into());
    request.level = Some("edit".into());
    request.duration_ms = Some(7 * 24 * 3_600_000);
    request.state = RequestState::Pending;
    request.step = 1;
    request.approvers = vec![777];
    app.store.save_request(&mut request, &[]).await.unwrap();

    let letter = NewDeadLetter {
        fingerprint: "ui-test-death-1".into(),
        message_id: Some("evt-ui-dead-1".into()),
        lane: Some("provision".into()),
        source_queue: Some("cir-test.provision".into()),
        routing_key: DEAD_ROUTING_KEY.into(),
        reason: "delivery_limit".into(),
        error_code: Some("clickup_server_error".into()),
        error: Some("ClickUp answered 500 <b>twice</b>".into()),
        attempts: 5,
        first_failed_at: now - 60_000,
        last_failed_at: now,
        envelope: b"{}".to_vec(),
        failure_key: None,
    };
    assert!(app
        .store
        .record_dead_letter(&letter)
        .await
        .unwrap()
        .is_some());
}

/// An HTTP client that keeps the pages' session cookie by hand and follows no redirect.
pub struct Visitor {
    http: reqwest::Client,
    pub cookie: Option<String>,
}

impl Visitor {
    pub fn new() -> Visitor {
        Visitor {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    /// GET with the session cookie; keeps any cookie the answer sets.
    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let mut request = self.http.get(url);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    /// POSTs `body` (with `content_type` when given) with the session cookie.
    pub async fn post(
        &mut self,
        url: &str,
        content_type: Option<&str>,
        body: String,
    ) -> reqwest::Response {
        let mut request = self.http.post(url).body(body);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    /// Signs in as `username` through the provider and opens the callback: the session
    /// starts (303 back to `/ui`).
    pub async fn signed_in(app: &TestApp, username: &str) -> Visitor {
        let mut visitor = Visitor::new();
        let callback = visitor
            .sign_in_at_provider(&format!("{}/ui", app.url), username)
            .await;
        let answer = visitor.get(&callback).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "signed in");
        assert_eq!(location(&answer), "/ui");
        visitor
    }

    /// The CSRF token of the sign-out form on `/ui` (the page must open).
    pub async fn csrf(&mut self, app: &TestApp) -> String {
        let page = self.get(&format!("{}/ui", app.url)).await;
        assert_eq!(page.status(), StatusCode::OK, "signed in");
        let html = page.text().await.unwrap();
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("a sign-out form") + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    }

    fn keep_cookie(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            if text.starts_with("cir_ui=") {
                let pair = text.split(';').next().unwrap().to_owned();
                self.cookie = (pair != "cir_ui=").then_some(pair);
            }
        }
    }

    /// Opens `page`, signs in as `username` at the provider's form, and returns the callback
    /// URL the provider sent the browser to (not yet opened).
    pub async fn sign_in_at_provider(&mut self, page: &str, username: &str) -> String {
        let start = self.get(page).await;
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
        let authorize = location(&start);

        let form = self.http.get(&authorize).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let authorize = url::Url::parse(&authorize).unwrap();
        let mut fields: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), PASSWORD.into()));
        let mut action = authorize.clone();
        action.set_query(None);
        let answer = self.http.post(action).form(&fields).send().await.unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::SEE_OTHER,
            "the provider took the sign-in"
        );
        location(&answer)
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}
