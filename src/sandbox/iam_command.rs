//! The IAM stand-in of `sandbox --iam-addr`: example people with router roles and two OIDC
//! clients (the router's own, and one for operators' scripts), so the admin API and the pages
//! can be tried by hand. All credentials are made up and printed on start.

use anyhow::Context;

use super::iam::{IamSandbox, IamSandboxConfig, IamSandboxUser, OidcClient, OidcConfig};

/// The router's client: introspection, and the pages' sign-in.
pub const ROUTER_CLIENT: (&str, &str) = ("clickup-iam-router", "sandbox-router-secret");
/// A client for scripts: client-credentials tokens with the admin role.
pub const OPERATOR_CLIENT: (&str, &str) = ("router-operator", "sandbox-operator-secret");

/// People who can sign in on the provider's form: (username, password, roles).
const PEOPLE: [(&str, &str, &[&str]); 3] = [
    (
        "alice",
        "alice-password",
        &["clickup-router-admin", "clickup-router-auditor"],
    ),
    ("ada", "ada-password", &["clickup-router-auditor"]),
    ("morgan", "morgan-password", &["clickup-router-approver"]),
];

/// Starts the stand-in on `addr` (loopback only) for a router at `router_url`.
pub async fn start(addr: &str, router_url: &str) -> anyhow::Result<IamSandbox> {
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    let router = router_url.trim_end_matches('/');
    let users = PEOPLE
        .iter()
        .enumerate()
        .map(|(index, (username, password, roles))| IamSandboxUser {
            dn: format!("cn={username},ou=users,o=data"),
            id: format!("5a{index:030}"),
            username: (*username).to_owned(),
            password: Some((*password).to_owned()),
            email: format!("{username}@example.com"),
            display_name: (*username).to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        })
        .collect();
    let config = IamSandboxConfig {
        users,
        oidc: OidcConfig {
            clients: vec![
                OidcClient {
                    redirect_uris: vec![format!("{router}/ui/callback")],
                    post_logout_redirect_uris: vec![format!("{router}/ui/signed-out")],
                    ..OidcClient::new(ROUTER_CLIENT.0, ROUTER_CLIENT.1, ROUTER_CLIENT.0)
                },
                OidcClient {
                    roles: vec!["clickup-router-admin".to_owned()],
                    ..OidcClient::new(OPERATOR_CLIENT.0, OPERATOR_CLIENT.1, ROUTER_CLIENT.0)
                },
            ],
            ..OidcConfig::default()
        },
        ..IamSandboxConfig::default()
    };
    IamSandbox::start(listener, config).await
}

/// What to set on the router and how to get a token, printed once the stand-in listens.
pub fn print_usage(iam: &IamSandbox, router_url: &str) {
    let issuer = iam.oidc_issuer();
    let people: Vec<String> = PEOPLE
        .iter()
        .map(|(user, password, roles)| format!("{user}/{password} ({})", roles.join(", ")))
        .collect();
    println!("IAM stand-in: {} (OIDC issuer {issuer})", iam.base_url());
    println!("  router settings: OIDC_ISSUER={issuer} OIDC_CLIENT_ID={} OIDC_CLIENT_SECRET={} UI_PUBLIC_URL={}",
        ROUTER_CLIENT.0,
        ROUTER_CLIENT.1,
        router_url.trim_end_matches('/'),
    );
    println!(
        "  an admin token: curl -s -u {}:{} -d grant_type=client_credentials {issuer}/token",
        OPERATOR_CLIENT.0, OPERATOR_CLIENT.1
    );
    println!("  sign-in on /ui as: {}", people.join("; "));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The printed curl command works: the operator client gets a token with the admin role
    /// for the router's audience, and each person's roles are the router's default values.
    #[tokio::test]
    async fn the_operator_client_gets_an_admin_token_for_the_router() {
        let iam = start("127.0.0.1:0", "http://127.0.0.1:8080").await.unwrap();
        let issuer = iam.oidc_issuer();

        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{issuer}/token"))
            .basic_auth(OPERATOR_CLIENT.0, Some(OPERATOR_CLIENT.1))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = answer["access_token"].as_str().expect("an access token");
        let payload = token.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();

        assert_eq!(claims["aud"], ROUTER_CLIENT.0);
        assert_eq!(claims["iss"], issuer);
        assert_eq!(claims["roles"], serde_json::json!(["clickup-router-admin"]));
        assert!(start("0.0.0.0:0", "http://127.0.0.1:8080").await.is_err());
        iam.stop().await;
    }
}
