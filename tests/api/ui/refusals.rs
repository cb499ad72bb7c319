//! Requests the pages cannot read (a parameter given twice, a body that is no form, a form
//! too large or without its field, a method a page does not take) get the pages' own HTML
//! error page with the right status and a message naming the problem, and change nothing.

use reqwest::{header, Method, StatusCode};

use crate::ui_kit::{spawn_with_pages, Visitor};

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// One request and the answer it gets.
struct Case {
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
    status: StatusCode,
    message: &'static str,
}

#[tokio::test]
async fn requests_the_pages_cannot_read_get_the_pages_error_page() {
    let app = spawn_with_pages().await;
    let mut signed_in = Visitor::signed_in(&app, "audra").await;
    let csrf = signed_in.csrf(&app).await;
    let large = format!("csrf={}", "a".repeat(20_000));
    let cases = [
        Case {
            method: Method::GET,
            path: "/ui/callback?code=c&state=s&iss=x&iss=y",
            content_type: None,
            body: String::new(),
            status: StatusCode::BAD_REQUEST,
            message: "The address gives the parameter iss more than once.",
        },
        Case {
            method: Method::GET,
            path: "/ui/person?who=a&who=b",
            content_type: None,
            body: String::new(),
            status: StatusCode::BAD_REQUEST,
            message: "The address gives the parameter who more than once.",
        },
        Case {
            method: Method::POST,
            path: "/ui/sign-out",
            content_type: None,
            body: String::new(),
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "A form must be sent as application/x-www-form-urlencoded.",
        },
        Case {
            method: Method::POST,
            path: "/ui/sign-out",
            content_type: FORM,
            body: String::new(),
            status: StatusCode::BAD_REQUEST,
            message: "The form has no csrf parameter.",
        },
        Case {
            method: Method::POST,
            path: "/ui/sign-out",
            content_type: FORM,
            body: format!("csrf={csrf}&csrf={csrf}"),
            status: StatusCode::BAD_REQUEST,
            message: "The form gives the parameter csrf more than once.",
        },
        Case {
            method: Method::POST,
            path: "/ui/sign-out",
            content_type: FORM,
            body: large,
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: "The form is larger than",
        },
        Case {
            method: Method::GET,
            path: "/ui/sign-out",
            content_type: None,
            body: String::new(),
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: "This page is opened with POST only.",
        },
        Case {
            method: Method::POST,
            path: "/ui/person",
            content_type: FORM,
            body: format!("csrf={csrf}"),
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: "This page is opened with GET only.",
        },
        Case {
            method: Method::GET,
            path: "/ui/nothing-here",
            content_type: None,
            body: String::new(),
            status: StatusCode::NOT_FOUND,
            message: "No such page.",
        },
    ];

    for Case {
        method,
        path,
        content_type,
        body,
        status,
        message,
    } in cases
    {
        let url = format!("{}{path}", app.url);
        let answer = match method {
            Method::GET => signed_in.get(&url).await,
            _ => signed_in.post(&url, content_type, body).await,
        };

        assert_eq!(answer.status(), status, "{method} {path}");
        if status == StatusCode::METHOD_NOT_ALLOWED {
            let allow = if method == Method::GET { "POST" } else { "GET" };
            assert_eq!(answer.headers()[header::ALLOW], allow, "{method} {path}");
        }
        let kind = answer.headers()[header::CONTENT_TYPE].to_str().unwrap();
        assert!(kind.starts_with("text/html"), "{method} {path}: {kind}");
        let page = answer.text().await.unwrap();
        assert!(page.contains(message), "{method} {path}: {page}");
        for internal in ["deserialize", "Content type error", "Payload", "Error"] {
            assert!(!page.contains(internal), "{method} {path}: {page}");
        }
    }

    assert_eq!(
        signed_in.get(&format!("{}/ui", app.url)).await.status(),
        StatusCode::OK,
        "the session was not signed out by any of them"
    );
    app.stop().await;
}
