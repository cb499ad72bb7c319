//! The introspection budget: calls to the provider are limited per client address first
//! (so one address cannot spend the whole budget alone), then globally. Addresses are the
//! TCP peer's (behind a reverse proxy every caller shares the proxy's), IPv6 ones by /64.
//! The per-address table is bounded: past its size, idle entries are dropped, and when that
//! is not enough the table starts afresh (the global limit still holds meanwhile).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    num::NonZeroU32,
    sync::RwLock,
    time::Duration,
};

use governor::{
    clock::{Clock, DefaultClock},
    DefaultDirectRateLimiter, DefaultKeyedRateLimiter, NotUntil, Quota,
};

use super::AuthError;

/// Most client addresses tracked at once.
pub(super) const MAX_ADDRESSES: usize = 10_000;

/// Calls per minute, sustained, and calls at once above that rate.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

pub(super) struct Budget {
    global: DefaultDirectRateLimiter,
    per_address: RwLock<DefaultKeyedRateLimiter<IpAddr>>,
    address_quota: Quota,
    max_addresses: usize,
}

impl Budget {
    /// Refuses a rate or burst of 0, naming the setting.
    pub fn new(global: Rate, per_address: Rate, max_addresses: usize) -> anyhow::Result<Budget> {
        let global = quota(global, "OIDC_INTROSPECTION")?;
        let address_quota = quota(per_address, "OIDC_INTROSPECTION_PER_ADDRESS")?;
        Ok(Budget {
            global: DefaultDirectRateLimiter::direct(global),
            per_address: RwLock::new(DefaultKeyedRateLimiter::keyed(address_quota)),
            address_quota,
            max_addresses,
        })
    }

    /// Takes one call from `peer`'s budget, then from the global one; `Busy`, with the time
    /// until the next call, when either is spent. An unknown peer counts as one address.
    pub fn admit(&self, peer: Option<IpAddr>) -> Result<(), AuthError> {
        let key = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), address_key);
        let checked = {
            let limiter = self.per_address.read().unwrap_or_else(|e| e.into_inner());
            limiter.check_key(&key)
        };
        self.bound();
        checked.map_err(busy)?;

        self.global.check().map_err(busy)
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        let limiter = self.per_address.read().unwrap_or_else(|e| e.into_inner());
        limiter.len()
    }

    /// Keeps the table within `max_addresses`: idle entries go first; if more than half are
    /// still busy, the table starts afresh. Each cleanup leaves room for half the table, so
    /// the cost is amortised.
    fn bound(&self) {
        if self.tracked() <= self.max_addresses {
            return;
        }
        let mut limiter = self.per_address.write().unwrap_or_else(|e| e.into_inner());
        limiter.retain_recent();
        if limiter.len() > self.max_addresses / 2 {
            tracing::warn!(
                addresses = limiter.len(),
                "introspection: too many client addresses at once; per-address budgets reset"
            );
            *limiter = DefaultKeyedRateLimiter::keyed(self.address_quota);
        }
        limiter.shrink_to_fit();
    }
}

fn quota(rate: Rate, setting: &str) -> anyhow::Result<Quota> {
    let per_minute = NonZeroU32::new(rate.per_minute)
        .ok_or_else(|| anyhow::anyhow!("{setting}_PER_MINUTE must be at least 1"))?;
    let burst = NonZeroU32::new(rate.burst)
        .ok_or_else(|| anyhow::anyhow!("{setting}_BURST must be at least 1"))?;
    Ok(
        Quota::with_period(Duration::from_secs(60) / per_minute.get())
            .ok_or_else(|| anyhow::anyhow!("{setting}_PER_MINUTE is too large"))?
            .allow_burst(burst),
    )
}

fn busy(not_until: NotUntil<<DefaultClock as Clock>::Instant>) -> AuthError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    AuthError::Busy {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

/// The budget an address draws on: an IPv4 address (also when written IPv4-mapped), or an
/// IPv6 address's /64 (one host usually holds a whole /64).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::from(u64::MAX));
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(global: (u32, u32), per_address: (u32, u32), max: usize) -> Budget {
        let rate = |(per_minute, burst)| Rate { per_minute, burst };
        Budget::new(rate(global), rate(per_address), max).unwrap()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn one_address_spends_its_own_budget_not_everyone_elses() {
        let budget = budget((1, 5), (1, 2), 100);

        let first: Vec<bool> = (0..4)
            .map(|_| budget.admit(ip("127.0.0.1")).is_ok())
            .collect();
        assert_eq!(first, [true, true, false, false]);
        assert!(matches!(
            budget.admit(ip("127.0.0.1")),
            Err(AuthError::Busy { retry_after_secs }) if (1..=60).contains(&retry_after_secs)
        ));

        // Another address draws on the global rest (3 left), then the global limit holds.
        let second: Vec<bool> = ["127.0.0.2", "127.0.0.2", "10.0.0.1", "10.0.0.2"]
            .iter()
            .map(|a| budget.admit(ip(a)).is_ok())
            .collect();
        assert_eq!(second, [true, true, true, false]);
    }

    #[test]
    fn addresses_are_keyed_by_ipv4_or_ipv6_64() {
        // address, key
        let cases = [
            ("127.0.0.1", "127.0.0.1"),
            ("::ffff:10.1.2.3", "10.1.2.3"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
            ("::1", "::"),
        ];
        for (address, key) in cases {
            assert_eq!(
                address_key(address.parse().unwrap()),
                key.parse::<IpAddr>().unwrap(),
                "{address}"
            );
        }
    }

    #[test]
    fn the_address_table_stays_within_its_bound() {
        let budget = budget((600_000, 100_000), (1, 5), 8);

        for i in 0..100u8 {
            budget.admit(ip(&format!("10.0.0.{i}"))).unwrap();
            assert!(budget.tracked() <= 8, "{} after {i}", budget.tracked());
        }
        // Unknown peers share one budget.
        let unknown = (0..6).filter(|_| budget.admit(None).is_ok()).count();
        assert_eq!(unknown, 5);
    }

    #[test]
    fn a_rate_or_burst_of_zero_is_refused_naming_the_setting() {
        let rate = |per_minute, burst| Rate { per_minute, burst };
        let error = |global, per_address| {
            Budget::new(global, per_address, 1)
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            error(rate(0, 1), rate(1, 1)).as_deref(),
            Some("OIDC_INTROSPECTION_PER_MINUTE must be at least 1")
        );
        assert_eq!(
            error(rate(1, 1), rate(1, 0)).as_deref(),
            Some("OIDC_INTROSPECTION_PER_ADDRESS_BURST must be at least 1")
        );
        assert!(error(rate(1, 1), rate(1, 1)).is_none());
    }
}
