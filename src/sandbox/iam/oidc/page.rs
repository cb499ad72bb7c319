//! The provider's HTML: the sign-in form and the error page. Every value is escaped.

use actix_web::{
    http::header::{CACHE_CONTROL, CONTENT_TYPE},
    HttpResponse, HttpResponseBuilder,
};

use super::{authorize::AuthzRequest, AUTHORIZATION_PATH};

const STYLE: &str = "body{font-family:sans-serif;max-width:24rem;margin:4rem auto}\
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.4rem}\
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00}";

/// The sign-in form carrying the authorization request in hidden fields.
pub(super) fn sign_in_page(request: &AuthzRequest, error: Option<&str>) -> HttpResponse {
    let hidden: String = request
        .hidden_fields()
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            )
        })
        .collect();
    let error = error
        .map(|text| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(text)))
        .unwrap_or_default();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Sign in</title><style>{STYLE}</style></head><body>\
<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{error}\
<form method=\"post\" action=\"{AUTHORIZATION_PATH}\" id=\"sign-in\">{hidden}\
<label for=\"username\">Username</label>\
<input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
<label for=\"password\">Password</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Sign in</button></form></body></html>",
        client = escape(&request.client_id),
    );
    html(HttpResponse::Ok(), body)
}

/// A 400 page for requests that cannot be sent back to the client.
pub(super) fn error_page(text: &str) -> HttpResponse {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Sign-in error</title><style>{STYLE}</style></head><body>\
<h1>Sign-in error</h1><p class=\"error\">{}</p></body></html>",
        escape(text)
    );
    html(HttpResponse::BadRequest(), body)
}

fn html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(body)
}

/// Escapes text for HTML element content and quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
