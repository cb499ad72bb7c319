//! The OIDC provider over plain HTTP: discovery, the sign-in form, the code flow with PKCE,
//! token endpoint refusals, refresh, client credentials, introspection, userinfo and keys.

use reqwest::{redirect::Policy, Client};
use serde_json::Value;

use super::{token::s256, AccessTokenFormat, OidcClient, OidcConfig, TokenSpec};
use crate::sandbox::iam::{testing, IamSandbox, IamSandboxConfig};

const RP: (&str, &str) = ("clickup-router-ui", "rp-secret-5d1e");
const REDIRECT: &str = "http://127.0.0.1:9/ui/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r0wW1gFWFOEjXk-verifier";

async fn provider(format: AccessTokenFormat) -> IamSandbox {
    let mut client = OidcClient::new(RP.0, RP.1, "clickup-router");
    client.redirect_uris = vec![REDIRECT.to_owned()];
    client.access_tokens = format;
    client.roles = vec!["clickup-router-auditor".to_owned()];
    let mut config = testing::config();
    config.users[0].roles = vec!["clickup-router-admin".to_owned()];
    testing::start(IamSandboxConfig {
        oidc: OidcConfig {
            clients: vec![client],
            ..OidcConfig::default()
        },
        ..config
    })
    .await
}

fn browser() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn authz_query(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", RP.0.into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid email".into()),
        ("state", "st-1".into()),
        ("nonce", "n-1".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// Signs in through the form; returns the redirect's query pairs.
async fn sign_in(sandbox: &IamSandbox, password: &str) -> (u16, Vec<(String, String)>) {
    let mut form = authz_query(&s256(VERIFIER));
    form.push(("username", testing::SERVICE_USER.into()));
    form.push(("password", password.into()));
    let response = browser()
        .post(format!("{}/nidp/oauth/nam/authz", sandbox.base_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), location_pairs(&response))
}

fn location_pairs(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get("location")
        .and_then(|l| url::Url::parse(l.to_str().ok()?).ok())
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn pair<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn post(sandbox: &IamSandbox, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = browser()
        .post(format!("{}{path}", sandbox.base_url()))
        .basic_auth(RP.0, Some(RP.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn exchange(sandbox: &IamSandbox, code: &str, verifier: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    post(sandbox, "/nidp/oauth/nam/token", &form).await
}

#[tokio::test]
async fn discovery_names_the_nam_endpoints_and_s256() {
    let sandbox = provider(AccessTokenFormat::Jwt).await;
    let issuer = sandbox.oidc_issuer();

    let document: Value = browser()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(document["issuer"], issuer.as_str());
    assert_eq!(document["jwks_uri"], format!("{issuer}/keys").as_str());
    let base = sandbox.base_url();
    let introspection = format!("{base}/nidp/oauth/v1/nam/introspect");
    assert_eq!(document["introspection_endpoint"], introspection.as_str());
    assert_eq!(document["code_challenge_methods_supported"][0], "S256");
    let jwks: Value = browser()
        .get(format!("{issuer}/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert!(jwks["keys"][0]["kid"].is_string() && jwks["keys"][0]["d"].is_null());
    assert_eq!(sandbox.jwks_fetches(), 1);
}

#[tokio::test]
async fn the_code_flow_with_pkce_issues_tokens_once() {
    let sandbox = provider(AccessTokenFormat::Jwt).await;
    let form = browser()
        .get(format!("{}/nidp/oauth/nam/authz", sandbox.base_url()))
        .query(&authz_query(&s256(VERIFIER)))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let html = form.text().await.unwrap();
    assert!(html.contains("name=\"username\"") && html.contains("value=\"st-1\""));

    let (status, pairs) = sign_in(&sandbox, "wrong").await;
    assert_eq!(
        (status, pairs.len()),
        (200, 0),
        "a wrong password shows the form again"
    );
    let (status, pairs) = sign_in(&sandbox, testing::SERVICE_PASSWORD).await;
    assert_eq!(status, 303);
    assert_eq!(pair(&pairs, "state"), Some("st-1"));
    let code = pair(&pairs, "code").unwrap().to_owned();

    let (status, tokens) = exchange(&sandbox, &code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let id_claims = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_claims["nonce"], "n-1");
    assert_eq!(id_claims["aud"], RP.0);
    let access = payload(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], "clickup-router");
    assert_eq!(access["roles"][0], "clickup-router-admin");

    let (status, again) = exchange(&sandbox, &code, VERIFIER).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    assert_eq!(post(&sandbox, "/nidp/oauth/nam/token", &form).await.0, 200);
    assert_eq!(post(&sandbox, "/nidp/oauth/nam/token", &form).await.0, 400);
}

#[tokio::test]
async fn a_wrong_verifier_spends_the_code() {
    let sandbox = provider(AccessTokenFormat::Jwt).await;
    let (_, pairs) = sign_in(&sandbox, testing::SERVICE_PASSWORD).await;
    let code = pair(&pairs, "code").unwrap().to_owned();

    let other = "x".repeat(43);
    let (status, body) = exchange(&sandbox, &code, &other).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    assert_eq!(exchange(&sandbox, &code, VERIFIER).await.0, 400);
}

#[tokio::test]
async fn authorization_errors_redirect_only_to_a_registered_uri() {
    let sandbox = provider(AccessTokenFormat::Jwt).await;
    let with = |name: &'static str, value: &str| {
        let mut query = authz_query(&s256(VERIFIER));
        query.retain(|(k, _)| *k != name);
        if !value.is_empty() {
            query.push((name, value.to_owned()));
        }
        query
    };
    // changed parameter, status, error sent back
    let cases = [
        (
            with("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            400,
            None,
        ),
        (with("client_id", "nobody"), 400, None),
        (with("code_challenge", ""), 303, Some("invalid_request")),
        (
            with("code_challenge_method", "plain"),
            303,
            Some("invalid_request"),
        ),
        (
            with("response_type", "token"),
            303,
            Some("unsupported_response_type"),
        ),
        (with("prompt", "none"), 303, Some("login_required")),
    ];
    for (query, status, error) in cases {
        let response = browser()
            .get(format!("{}/nidp/oauth/nam/authz", sandbox.base_url()))
            .query(&query)
            .send()
            .await
            .unwrap();
        let pairs = location_pairs(&response);
        assert_eq!(response.status().as_u16(), status, "{query:?}");
        assert_eq!(pair(&pairs, "error"), error, "{query:?}");
        if error.is_some() {
            assert_eq!(pair(&pairs, "state"), Some("st-1"));
        }
    }
}

#[tokio::test]
async fn client_authentication_is_basic_or_post_never_both() {
    let sandbox = provider(AccessTokenFormat::Jwt).await;
    let url = format!("{}/nidp/oauth/nam/token", sandbox.base_url());
    let grant = [("grant_type", "client_credentials")];
    let posted = [
        ("grant_type", "client_credentials"),
        ("client_id", RP.0),
        ("client_secret", RP.1),
    ];

    let basic = browser()
        .post(&url)
        .basic_auth(RP.0, Some(RP.1))
        .form(&grant);
    let post_only = browser().post(&url).form(&posted);
    let both = browser()
        .post(&url)
        .basic_auth(RP.0, Some(RP.1))
        .form(&posted);
    let wrong = browser()
        .post(&url)
        .basic_auth(RP.0, Some("nope"))
        .form(&grant);
    let none = browser().post(&url).form(&grant);
    for (request, status) in [
        (basic, 200),
        (post_only, 200),
        (both, 400),
        (wrong, 401),
        (none, 401),
    ] {
        assert_eq!(request.send().await.unwrap().status().as_u16(), status);
    }
}

#[tokio::test]
async fn introspection_resolves_opaque_tokens_until_they_are_revoked() {
    let sandbox = provider(AccessTokenFormat::Encrypted).await;
    let token = sandbox
        .issue_token(&TokenSpec {
            format: AccessTokenFormat::Encrypted,
            ..TokenSpec::new(testing::SERVICE_USER)
        })
        .unwrap();
    assert_eq!(token.split('.').count(), 5);
    let introspect = |token: String| {
        let sandbox = &sandbox;
        async move {
            post(
                sandbox,
                "/nidp/oauth/v1/nam/introspect",
                &[("token", &token)],
            )
            .await
            .1
        }
    };

    let active = introspect(token.clone()).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["roles"][0], "clickup-router-admin");
    assert_eq!(active["client_id"], RP.0);

    let info = browser()
        .get(format!("{}/nidp/oauth/nam/userinfo", sandbox.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status().as_u16(), 200);

    assert!(sandbox.revoke_access_token(&token));
    assert_eq!(
        introspect(token).await,
        serde_json::json!({ "active": false })
    );
    let expired = TokenSpec {
        lifetime_secs: -10,
        ..TokenSpec::new(testing::SERVICE_USER)
    };
    let expired = sandbox.issue_token(&expired).unwrap();
    assert_eq!(introspect(expired).await["active"], false);
    assert_eq!(introspect("junk".into()).await["active"], false);
}

/// The payload of a compact JWS, unverified (the keys' own tests verify signatures).
fn payload(token: &str) -> Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}
