use super::*;

#[test]
fn transient_or_permanent() {
    let api = |status: u16, ecode: &str| ClickUpError::Api {
        status,
        ecode: ecode.into(),
        message: String::new(),
    };
    let cases = [
        (api(500, "none"), true),
        (api(503, "none"), true),
        (api(429, "APP_002"), true),
        (api(500, "SHARD_001"), false),
        (api(404, "ITEM_015"), false),
        (api(401, "OAUTH_023"), false),
        (api(400, "FIELD_011"), false),
        (ClickUpError::Transport("timeout".into()), true),
        (ClickUpError::RateLimited(Duration::from_secs(1)), true),
        (ClickUpError::Contract("x".into()), false),
    ];
    for (error, transient) in cases {
        assert_eq!(error.is_transient(), transient, "{error}");
    }
}

#[test]
fn rate_limit_wait_follows_the_reset_header_within_bounds() {
    let now = chrono::Utc::now().timestamp();
    let wait_for = |value: Option<String>| {
        let mut headers = header::HeaderMap::new();
        if let Some(value) = value {
            headers.insert("x-ratelimit-reset", value.parse().unwrap());
        }
        rate_limit_wait(&headers)
    };

    assert!(wait_for(Some((now + 2).to_string())) > Duration::from_millis(1000));
    assert!(wait_for(Some((now + 2).to_string())) <= Duration::from_millis(2050));
    assert_eq!(
        wait_for(Some((now - 10).to_string())),
        Duration::from_millis(50)
    );
    assert_eq!(
        wait_for(Some((now + 3600).to_string())),
        MAX_RATE_LIMIT_WAIT
    );
    assert_eq!(wait_for(None), Duration::from_secs(1));
    assert_eq!(wait_for(Some("soon".into())), Duration::from_secs(1));
}

#[test]
fn error_bodies_are_read_in_both_shapes() {
    let cases: [(&[u8], &str, &str); 3] = [
        (
            br#"{"err":"Team not found","ECODE":"TEAM_001"}"#,
            "Team not found",
            "TEAM_001",
        ),
        (br#"{"error":"Bad thing"}"#, "Bad thing", "none"),
        (b"<html>oops</html>", "no error message", "none"),
    ];
    for (body, message, ecode) in cases {
        match api_error(StatusCode::NOT_FOUND, body) {
            ClickUpError::Api {
                status,
                ecode: e,
                message: m,
            } => {
                assert_eq!((status, e.as_str(), m.as_str()), (404, ecode, message));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn backoff_grows_and_is_capped() {
    assert!(backoff(1) >= Duration::from_millis(250) && backoff(1) <= Duration::from_millis(313));
    assert!(backoff(3) >= Duration::from_millis(1000));
    assert!(backoff(30) <= Duration::from_millis(10_000));
}
