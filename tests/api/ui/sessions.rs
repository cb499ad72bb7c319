//! Page sessions on the server: signing out ends the session for every copy of its cookie,
//! an expired record refuses its cookie and is pruned, and a replayed callback is a failed
//! sign-in (400), not a provider fault.

use reqwest::{header, StatusCode};

use crate::{
    helpers::TestApp,
    ui_kit::{location, spawn_with_pages, Visitor, AUDRA},
};

/// The page `/ui` as `visitor` sees it: 200 signed in, or 303 to the provider.
async fn index_status(app: &TestApp, visitor: &mut Visitor) -> StatusCode {
    let answer = visitor.get(&format!("{}/ui", app.url)).await;
    if answer.status() == StatusCode::SEE_OTHER {
        let issuer = app.iam.as_ref().unwrap().oidc_issuer();
        assert!(location(&answer).starts_with(&issuer), "sent to sign in");
    }
    answer.status()
}

async fn session_rows(app: &TestApp) -> Vec<(String, Option<i64>)> {
    sqlx::query_as("SELECT subject, ended_at FROM ui_sessions ORDER BY created_at")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn signing_out_ends_the_session_for_every_copy_of_its_cookie() {
    let app = spawn_with_pages().await;
    let mut visitor = Visitor::signed_in(&app, "audra").await;
    let mut other_browser = Visitor::signed_in(&app, "audra").await;
    let csrf = visitor.csrf(&app).await;
    let copied = visitor.cookie.clone();
    let mut copy = Visitor::new();
    copy.cookie = copied.clone();
    assert_eq!(index_status(&app, &mut copy).await, StatusCode::OK);

    let out = visitor
        .post(
            &format!("{}/ui/sign-out", app.url),
            Some("application/x-www-form-urlencoded"),
            format!("csrf={csrf}"),
        )
        .await;

    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/ui/signed-out");
    assert_eq!(visitor.cookie, None, "the browser's cookie is removed");
    for page in ["/ui", "/ui/person?who=x", "/ui/dead-letters"] {
        copy.cookie = copied.clone();
        let answer = copy.get(&format!("{}{page}", app.url)).await;
        assert_eq!(
            answer.status(),
            StatusCode::SEE_OTHER,
            "{page}: the copied cookie is no session"
        );
    }
    assert_eq!(
        index_status(&app, &mut other_browser).await,
        StatusCode::OK,
        "the person's other session goes on"
    );
    let rows = session_rows(&app).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|(subject, _)| subject == AUDRA));
    assert_eq!(
        rows.iter().filter(|(_, ended)| ended.is_some()).count(),
        1,
        "{rows:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_session_record_refuses_its_cookie_and_is_pruned_at_the_next_sign_in() {
    let app = spawn_with_pages().await;
    let mut visitor = Visitor::signed_in(&app, "audra").await;
    assert_eq!(index_status(&app, &mut visitor).await, StatusCode::OK);

    sqlx::query("UPDATE ui_sessions SET expires_at = 1")
        .execute(app.store.pool())
        .await
        .unwrap();

    assert_eq!(
        index_status(&app, &mut visitor).await,
        StatusCode::SEE_OTHER
    );
    Visitor::signed_in(&app, "april").await;
    let rows = session_rows(&app).await;
    assert_eq!(
        rows,
        [("0000000000000000000000000000a9e1".to_owned(), None)],
        "only the new session is kept"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_callback_is_a_failed_sign_in_not_a_provider_fault() {
    let app = spawn_with_pages().await;
    let mut visitor = Visitor::new();
    let callback = visitor
        .sign_in_at_provider(&format!("{}/ui", app.url), "audra")
        .await;
    let before_callback = visitor.cookie.clone();
    let first = visitor.get(&callback).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);

    let mut replay = Visitor::new();
    replay.cookie = before_callback;
    let replayed = replay.get(&callback).await;

    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(replayed.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = replayed.text().await.unwrap();
    assert!(
        body.contains("Sign-in failed: the provider refused the sign-in code"),
        "{body}"
    );
    assert_eq!(index_status(&app, &mut replay).await, StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&app).await.len(), 1, "no second session");
    let audit = sqlx::query_as::<_, (String, String)>(
        "SELECT outcome, detail FROM audit WHERE action = 'ui.sign_in' ORDER BY seq",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].0, "ok");
    assert_eq!(audit[1].0, "refused");
    assert!(audit[1].1.contains("code_refused"), "{}", audit[1].1);
    app.stop().await;
}
