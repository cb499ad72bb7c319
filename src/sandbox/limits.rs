//! Per-token rate limit: a fixed one-minute window per token, opened by the token's first
//! request, and reported on every response in ClickUp's `X-RateLimit-*` headers.
//!
//! The limiter does no IO and takes the clock as arguments, so it is tested without waiting.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

/// Length of one rate-limit window, as ClickUp counts (tests may shorten it).
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// The limiter's answer for one request, and the values of its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds at which the window resets (rounded up, so a client that waits until
    /// then is never early).
    pub reset_unix: u64,
    pub allowed: bool,
}

impl Quota {
    pub fn stamp(&self, headers: &mut HeaderMap) {
        let values = [
            ("x-ratelimit-limit", u64::from(self.limit)),
            ("x-ratelimit-remaining", u64::from(self.remaining)),
            ("x-ratelimit-reset", self.reset_unix),
        ];

        for (name, value) in values {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

#[derive(Debug)]
struct Window {
    opened: Instant,
    reset_unix: u64,
    used: u32,
}

/// Request counts per token.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: HashMap<String, Window>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            windows: HashMap::new(),
        }
    }

    /// Counts one request by `token` at `now` (`now_unix_ms` is the same moment on the wall
    /// clock) and says whether it is within the limit.
    pub fn admit(&mut self, token: &str, now: Instant, now_unix_ms: u64) -> Quota {
        let window = self
            .windows
            .entry(token.to_owned())
            .or_insert_with(|| open_window(now, now_unix_ms, self.window));

        if now.duration_since(window.opened) >= self.window {
            *window = open_window(now, now_unix_ms, self.window);
        }

        let allowed = window.used < self.limit;
        if allowed {
            window.used += 1;
        }

        Quota {
            limit: self.limit,
            remaining: self.limit - window.used,
            reset_unix: window.reset_unix,
            allowed,
        }
    }
}

fn open_window(now: Instant, now_unix_ms: u64, length: Duration) -> Window {
    let window_ms = length.as_millis() as u64;
    Window {
        opened: now,
        reset_unix: (now_unix_ms + window_ms).div_ceil(1_000),
        used: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START_MS: u64 = 1_735_725_600_500;

    /// Runs `(token, seconds after start)` requests against a limit of 2 and returns
    /// `(allowed, remaining, reset)` for each.
    fn check(requests: &[(&str, u64)]) -> Vec<(bool, u32, u64)> {
        let mut limiter = RateLimiter::new(2, WINDOW);
        let start = Instant::now();

        requests
            .iter()
            .map(|&(token, seconds)| {
                let now = start + Duration::from_secs(seconds);
                let quota = limiter.admit(token, now, START_MS + seconds * 1_000);
                (quota.allowed, quota.remaining, quota.reset_unix)
            })
            .collect()
    }

    #[test]
    fn window_admits_up_to_the_limit_then_refuses() {
        let reset = 1_735_725_661;

        let outcomes = check(&[("a", 0), ("a", 1), ("a", 2), ("a", 59)]);

        assert_eq!(
            outcomes,
            [
                (true, 1, reset),
                (true, 0, reset),
                (false, 0, reset),
                (false, 0, reset)
            ]
        );
    }

    #[test]
    fn a_new_window_opens_a_minute_after_the_first_request() {
        let outcomes = check(&[("a", 0), ("a", 1), ("a", 60), ("a", 61)]);

        assert_eq!(
            outcomes,
            [
                (true, 1, 1_735_725_661),
                (true, 0, 1_735_725_661),
                (true, 1, 1_735_725_721),
                (true, 0, 1_735_725_721),
            ]
        );
    }

    #[test]
    fn tokens_are_counted_separately() {
        let outcomes = check(&[("a", 0), ("a", 0), ("b", 0), ("a", 0)]);

        let allowed: Vec<bool> = outcomes.iter().map(|outcome| outcome.0).collect();
        assert_eq!(allowed, [true, true, true, false]);
    }

    #[test]
    fn quota_stamps_the_three_clickup_headers() {
        let quota = Quota {
            limit: 100,
            remaining: 7,
            reset_unix: 1_735_725_660,
            allowed: true,
        };
        let mut headers = HeaderMap::new();

        quota.stamp(&mut headers);

        let cases = [
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "7"),
            ("x-ratelimit-reset", "1735725660"),
        ];
        for (name, value) in cases {
            let header = headers.get(name).map(|v| v.to_str().unwrap_or("?"));
            assert_eq!(header, Some(value), "{name}");
        }
    }
}
