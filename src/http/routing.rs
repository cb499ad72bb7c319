//! Answers for requests no handler takes, JSON like every other error: 404 for a path no
//! route knows, 405 for a known path asked with a method it does not serve (with `Allow`).

use actix_web::{
    http::{header::ALLOW, Method, StatusCode},
    web, HttpRequest, HttpResponse, Resource, ResponseError,
};
use serde_json::json;

/// A known path asked with a method it does not serve.
#[derive(Debug, thiserror::Error)]
#[error("{method} is not allowed on {path}; it allows {}", list(.allow))]
pub struct MethodNotAllowed {
    pub method: Method,
    /// The route's pattern (`/api/v1/requests/{task_id}`), not the raw path.
    pub path: String,
    pub allow: Vec<Method>,
}

impl ResponseError for MethodNotAllowed {
    fn status_code(&self) -> StatusCode {
        StatusCode::METHOD_NOT_ALLOWED
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header((ALLOW, list(&self.allow)))
            .json(json!({
                "error": "method_not_allowed",
                "message": self.to_string(),
                "method": self.method.as_str(),
                "path": self.path,
            }))
    }
}

/// A resource for `path` whose other methods are answered 405 naming `allow`; add its
/// routes to it. Mount each path once: the first resource of a path takes every method.
pub fn resource(path: &str, allow: &[Method]) -> Resource {
    let allow = allow.to_vec();
    web::resource(path).default_service(web::to(move |request: HttpRequest| {
        let allow = allow.clone();
        async move { method_not_allowed(&request, allow) }
    }))
}

fn method_not_allowed(
    request: &HttpRequest,
    allow: Vec<Method>,
) -> Result<HttpResponse, MethodNotAllowed> {
    Err(MethodNotAllowed {
        method: request.method().clone(),
        path: request
            .match_pattern()
            .unwrap_or_else(|| request.path().to_owned()),
        allow,
    })
}

/// The 404 of a path no route knows.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "not_found", "message": "no such endpoint" }))
}

fn list(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use actix_web::{body::MessageBody, test, App};

    use super::*;

    #[actix_web::test]
    async fn another_method_is_405_with_allow_and_an_unknown_path_404() {
        let app = test::init_service(
            App::new()
                .service(
                    resource("/items/{id}", &[Method::GET, Method::PUT])
                        .route(web::get().to(HttpResponse::Ok))
                        .route(web::put().to(HttpResponse::Ok)),
                )
                .default_service(web::to(not_found)),
        )
        .await;
        let call = |method: Method, path: &str| {
            test::TestRequest::default()
                .method(method)
                .uri(path)
                .to_request()
        };

        let ok = test::call_service(&app, call(Method::PUT, "/items/7")).await;
        assert_eq!(ok.status(), 200);

        let refused = test::call_service(&app, call(Method::DELETE, "/items/7")).await;
        assert_eq!(refused.status(), 405);
        assert_eq!(refused.headers().get(ALLOW).unwrap(), "GET, PUT");
        let body = refused.into_body().try_into_bytes().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({
                "error": "method_not_allowed",
                "message": "DELETE is not allowed on /items/{id}; it allows GET, PUT",
                "method": "DELETE",
                "path": "/items/{id}",
            })
        );

        let unknown = test::call_service(&app, call(Method::GET, "/nothing")).await;
        assert_eq!(unknown.status(), 404);
    }
}
