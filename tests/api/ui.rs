//! The `/ui` pages: signed in through the IAM stand-in's OIDC provider in headless Chromium,
//! each page rendered with the record's content (screenshots in `target/ui-artifacts/`), and
//! the refusals read over plain HTTP for their exact statuses.

mod refusals;
mod sessions;

use std::time::Duration;

use fantoccini::{
    elements::Element,
    error::{CmdError, ErrorStatus},
    Client, Locator,
};
use reqwest::StatusCode;

use crate::{
    browser::Browser,
    helpers::TestApp,
    ui_kit::{
        location, seed, spawn_with_pages, Visitor, AUDRA, CARLOS_EMAIL, DEAD_ROUTING_KEY,
        JANE_EMAIL, PASSWORD, REQUEST_TASK,
    },
};

/// The text of the element `css`, waiting for it to appear. A page that redraws between the
/// find and the read leaves a stale element: find it again (a few times at most).
async fn text_of(client: &Client, css: &str) -> String {
    for _ in 0..5 {
        let found = client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await;
        let element: Element = match found {
            Ok(element) => element,
            Err(e) => {
                let at = client.current_url().await;
                let page = client.source().await.unwrap_or_default();
                panic!("no {css} on {at:?}: {e}\n{page}")
            }
        };
        match element.text().await {
            Ok(text) => return text,
            Err(CmdError::Standard(error)) if error.error == ErrorStatus::StaleElementReference => {
                continue
            }
            // Chromium's word for the same thing when the page navigated away meanwhile.
            Err(CmdError::Standard(error))
                if error.message.contains("does not belong to the document") =>
            {
                continue
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
    panic!("{css} went stale five times in a row")
}

async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    let client = &browser.client;
    client.goto(&format!("{}/ui", app.url)).await.unwrap();
    let at = client.current_url().await.unwrap();
    let issuer = app.iam.as_ref().unwrap().oidc_issuer();
    assert!(
        at.as_str().starts_with(&issuer),
        "without a session the browser is sent to the provider, not {at}"
    );
    assert!(at.query_pairs().any(|(k, _)| k == "code_challenge"));

    text_of(client, "#sign-in").await;
    browser.screenshot("sign-in").await;
    let form = client.find(Locator::Css("#sign-in")).await.unwrap();
    form.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    form.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_pages_render_in_chromium_after_signing_in_through_the_provider() {
    let app = spawn_with_pages().await;
    seed(&app).await;
    let browser = Browser::start().await;
    let client = &browser.client;

    sign_in(&browser, &app, "audra").await;

    assert!(text_of(client, "#signed-in-as")
        .await
        .contains("Audra Auditor"));
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/ui",
        "back on the page asked for"
    );
    browser.screenshot("index").await;

    let person = format!("{}/ui/person?who={JANE_EMAIL}", app.url);
    client.goto(&person).await.unwrap();
    let intervals = text_of(client, "#intervals").await;
    assert!(text_of(client, "#person").await.contains(JANE_EMAIL));
    for expected in [
        "list:901100000310",
        "space:901100000100",
        "All staff",
        "rule ",
    ] {
        assert!(intervals.contains(expected), "{expected} in {intervals}");
    }
    assert!(
        intervals.contains("mover") && intervals.contains("still held"),
        "the mover ended some access and kept the rest: {intervals}"
    );
    browser.screenshot("person").await;

    let object = format!("{}/ui/object?object=space:901100000100", app.url);
    client.goto(&object).await.unwrap();
    let access = text_of(client, "#access").await;
    assert!(access.contains(JANE_EMAIL), "{access}");
    browser.screenshot("object").await;

    let long_ago = format!("{object}&at=2001-01-01%2012:00");
    client.goto(&long_ago).await.unwrap();
    assert!(text_of(client, "#object-heading")
        .await
        .contains("at 2001-01-01 12:00:00 UTC"));
    text_of(client, "#nobody").await;

    client
        .goto(&format!("{}/ui/requests", app.url))
        .await
        .unwrap();
    let requests = text_of(client, "#requests").await;
    for expected in [
        REQUEST_TASK,
        JANE_EMAIL,
        "folder:901100000200",
        "7 d",
        "ClickUp user 777",
    ] {
        assert!(requests.contains(expected), "{expected} in {requests}");
    }
    browser.screenshot("requests").await;

    client
        .goto(&format!("{}/ui/expiring?days=30", app.url))
        .await
        .unwrap();
    let grants = text_of(client, "#grants").await;
    assert!(grants.contains(CARLOS_EMAIL), "{grants}");
    assert!(
        !grants.contains(JANE_EMAIL),
        "Jane's access has no end: {grants}"
    );
    browser.screenshot("expiring").await;

    client
        .goto(&format!("{}/ui/dead-letters", app.url))
        .await
        .unwrap();
    let letters = text_of(client, "#dead-letters").await;
    assert!(letters.contains(DEAD_ROUTING_KEY), "{letters}");
    assert!(
        letters.contains("State") && letters.contains(" open "),
        "{letters}"
    );
    assert!(
        letters.contains("500 <b>twice</b>"),
        "markup in a value is shown as text: {letters}"
    );
    browser.screenshot("dead-letters").await;

    client
        .find(Locator::Css("header button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click navigates: wait for the signed-out page before reading its heading.
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_url(&url::Url::parse(&format!("{}/ui/signed-out", app.url)).unwrap())
        .await
        .unwrap();
    text_of(client, "main h1").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/ui/signed-out");
    client.goto(&person).await.unwrap();
    let issuer = app.iam.as_ref().unwrap().oidc_issuer();
    assert!(client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .starts_with(&issuer));

    let audit = sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT outcome, subject FROM audit WHERE action = 'ui.sign_in'",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audit, vec![("ok".to_owned(), Some(AUDRA.to_owned()))]);

    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn someone_without_a_role_gets_403_and_an_approver_only_the_requests() {
    let app = spawn_with_pages().await;

    let mut nobody = Visitor::new();
    let callback = nobody
        .sign_in_at_provider(&format!("{}/ui/requests", app.url), "nora")
        .await;
    let refused = nobody.get(&callback).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("none of admin, auditor or approver"));
    let again = nobody.get(&format!("{}/ui/requests", app.url)).await;
    assert_eq!(
        again.status(),
        StatusCode::SEE_OTHER,
        "no session was started"
    );

    let mut approver = Visitor::new();
    let callback = approver
        .sign_in_at_provider(&format!("{}/ui/requests", app.url), "april")
        .await;
    let signed_in = approver.get(&callback).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/ui/requests");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("cir_ui="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/ui")
    );
    assert!(!cookie.contains("april"), "the cookie is encrypted");

    let requests = approver.get(&format!("{}/ui/requests", app.url)).await;
    assert_eq!(requests.status(), StatusCode::OK);
    for page in ["/ui/person?who=x", "/ui/expiring", "/ui/dead-letters"] {
        let answer = approver.get(&format!("{}{page}", app.url)).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{page}");
    }

    let outcomes = sqlx::query_scalar::<_, String>(
        "SELECT outcome FROM audit WHERE action = 'ui.sign_in' ORDER BY seq",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(outcomes, ["refused", "ok"]);
    app.stop().await;
}

#[tokio::test]
async fn a_tampered_state_is_refused_and_pages_without_a_session_redirect_to_sign_in() {
    let app = spawn_with_pages().await;
    let issuer = app.iam.as_ref().unwrap().oidc_issuer();

    for page in [
        "/ui",
        "/ui/person?who=jane",
        "/ui/dead-letters",
        "/ui/object",
    ] {
        let answer = Visitor::new().get(&format!("{}{page}", app.url)).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{page}");
        let to = url::Url::parse(&location(&answer)).unwrap();
        assert!(to.as_str().starts_with(&issuer), "{page} → {to}");
        let params: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["code_challenge"].len(), 43);
        assert!(params["state"].len() >= 43 && params["nonce"].len() >= 43);
    }

    let mut visitor = Visitor::new();
    let callback = visitor
        .sign_in_at_provider(&format!("{}/ui", app.url), "audra")
        .await;
    let mut tampered = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = tampered
        .query_pairs()
        .into_owned()
        .map(|(k, v)| match k.as_str() {
            "state" => (k, format!("{v}x")),
            _ => (k, v),
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(&pairs);
    let refused = visitor.get(tampered.as_str()).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("state mismatch"));

    let replayed = visitor.get(&callback).await;
    assert_eq!(
        replayed.status(),
        StatusCode::BAD_REQUEST,
        "the refused sign-in cannot be finished afterwards"
    );
    let page = visitor.get(&format!("{}/ui", app.url)).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "still not signed in");

    let other_browser = visitor.cookie.take();
    let mut fresh = Visitor::new();
    let callback = fresh
        .sign_in_at_provider(&format!("{}/ui", app.url), "audra")
        .await;
    let mut stranger = Visitor::new();
    stranger.cookie = other_browser;
    let stolen = stranger.get(&callback).await;
    assert_eq!(
        stolen.status(),
        StatusCode::BAD_REQUEST,
        "a callback opened in another browser is refused"
    );
    app.stop().await;
}
