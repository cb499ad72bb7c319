//! Names and bindings of the exchanges and queues: pure data, shared by every engine.
//!
//! Leavers, disables and deletions have their own lane so they never wait behind other work.
//! Retry tiers are delay queues shared by every lane: a copy waits there for the tier's TTL,
//! then the broker dead-letters it back to the events exchange under its own routing key, so
//! it returns to its lane and a provision retry never sits in the deprovision queue.

use std::time::Duration;

use crate::config::duration_label;

/// A work queue and the events routed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Leavers, disables and deletions.
    Deprovision,
    /// Joiners, movers, re-enables, memberships and access changes.
    Provision,
    /// Decisions of access requests taken in the IAM.
    Approvals,
    /// ClickUp task, list, folder, space and goal events.
    ClickUp,
}

impl Lane {
    pub const ALL: [Lane; 4] = [
        Lane::Deprovision,
        Lane::Provision,
        Lane::Approvals,
        Lane::ClickUp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Lane::Deprovision => "deprovision",
            Lane::Provision => "provision",
            Lane::Approvals => "approvals",
            Lane::ClickUp => "clickup",
        }
    }

    /// Topic-exchange binding patterns of the lane.
    pub fn bindings(self) -> &'static [&'static str] {
        match self {
            Lane::Deprovision => &[
                "iam.user.terminated",
                "iam.user.disabled",
                "iam.user.deleted",
            ],
            Lane::Provision => &[
                "iam.user.created",
                "iam.user.updated",
                "iam.user.enabled",
                "iam.membership.*",
                "iam.access.*",
                "iam.security.*",
            ],
            Lane::Approvals => &["iam.request.*"],
            Lane::ClickUp => &["clickup.#"],
        }
    }

    /// The lane a routing key lands in, as the broker's topic matching would decide.
    pub fn for_routing_key(routing_key: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|lane| lane.binds(routing_key))
    }

    /// Every lane a routing key lands in, as the topic exchange copies it (the bindings
    /// above give at most one; an engine that routes itself still asks for all).
    pub fn all_for_routing_key(routing_key: &str) -> Vec<Lane> {
        Lane::ALL
            .into_iter()
            .filter(|lane| lane.binds(routing_key))
            .collect()
    }

    fn binds(self, routing_key: &str) -> bool {
        self.bindings()
            .iter()
            .any(|pattern| topic_matches(pattern, routing_key))
    }
}

/// Names of every broker object, under one prefix.
#[derive(Clone, Debug)]
pub struct Names {
    prefix: String,
}

impl Names {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
        }
    }

    /// The topic exchange every event is published to.
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }

    /// The exchange dead letters are sent to (keeps the routing key).
    pub fn dead_exchange(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    pub fn dead_queue(&self) -> String {
        format!("{}.dead-letters", self.prefix)
    }

    pub fn queue(&self, lane: Lane) -> String {
        format!("{}.{}", self.prefix, lane.name())
    }

    /// The delay queue of one retry tier, e.g. `cir.retry.10s`.
    pub fn retry_queue(&self, tier: Duration) -> String {
        format!("{}.retry.{}", self.prefix, duration_label(tier))
    }

    /// A retry copy also carries its delay queue's name as a routing key (the default
    /// exchange's), which the events exchange sees when the delay ends: a prefix that makes
    /// that name match a lane's binding (say `clickup`) would deliver the copy twice.
    pub fn check_retry_queues(&self, tiers: &[Duration]) -> Result<(), String> {
        match tiers
            .iter()
            .map(|tier| self.retry_queue(*tier))
            .find(|queue| Lane::for_routing_key(queue).is_some())
        {
            Some(queue) => Err(format!(
                "AMQP_PREFIX {:?}: the retry queue {queue} would match a lane's binding; \
                 choose another prefix",
                self.prefix
            )),
            None => Ok(()),
        }
    }
}

/// Where a transiently failed delivery goes, whatever the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// To tier `tier` (0-based), as retry number `retry`.
    Delay { tier: usize, retry: u32 },
    /// Every tier was used: to the dead letters after `retries` retries.
    Exhausted { retries: u32 },
}

/// The next step for a delivery that has had `retries` retries, with `tiers` tiers.
pub fn next(retries: u32, tiers: usize) -> Next {
    match usize::try_from(retries) {
        Ok(tier) if tier < tiers => Next::Delay {
            tier,
            retry: retries + 1,
        },
        _ => Next::Exhausted { retries },
    }
}

/// AMQP topic matching: `*` is one word, `#` zero or more.
fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(pattern: &[&str], key: &[&str]) -> bool {
        match pattern.split_first() {
            None => key.is_empty(),
            Some((&"#", rest)) => (0..=key.len()).any(|skip| go(rest, &key[skip..])),
            Some((&"*", rest)) => !key.is_empty() && go(rest, &key[1..]),
            Some((word, rest)) => key.first() == Some(word) && go(rest, &key[1..]),
        }
    }
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = key.split('.').collect();
    go(&pattern, &key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_land_in_their_lane() {
        let cases = [
            ("iam.user.terminated", Some(Lane::Deprovision)),
            ("iam.user.disabled", Some(Lane::Deprovision)),
            ("iam.user.deleted", Some(Lane::Deprovision)),
            ("iam.user.created", Some(Lane::Provision)),
            ("iam.user.enabled", Some(Lane::Provision)),
            ("iam.membership.added", Some(Lane::Provision)),
            ("iam.security.session_revoked", Some(Lane::Provision)),
            ("iam.request.decided", Some(Lane::Approvals)),
            ("clickup.task.taskStatusUpdated", Some(Lane::ClickUp)),
            ("clickup.goal.keyResultDeleted", Some(Lane::ClickUp)),
            ("iam.user", None),
            ("other.thing", None),
        ];
        for (key, lane) in cases {
            assert_eq!(Lane::for_routing_key(key), lane, "{key}");
            assert_eq!(
                Lane::all_for_routing_key(key),
                lane.into_iter().collect::<Vec<_>>(),
                "{key}"
            );
        }
    }

    #[test]
    fn every_iam_event_type_has_a_lane() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/iam-event.v1.schema.json")).unwrap();
        let types = schema["$defs"]["eventType"]["enum"].as_array().unwrap();

        for event_type in types {
            let key = crate::ingest::envelope::routing_key(
                crate::ingest::envelope::Origin::Iam,
                event_type.as_str().unwrap(),
            )
            .unwrap();
            assert!(Lane::for_routing_key(&key).is_some(), "{key} is unroutable");
        }
    }

    #[test]
    fn retry_queues_are_named_by_tier_and_never_match_a_lane() {
        let tiers = [Duration::from_secs(10), Duration::from_secs(3600)];
        let cases = [
            ("cir", Ok(())),
            ("cir-test-1", Ok(())),
            ("clickup", Err(())),
            ("clickup.prod", Err(())),
            ("iam", Ok(())),
        ];
        for (prefix, expected) in cases {
            let names = Names::new(prefix);
            assert_eq!(
                names.check_retry_queues(&tiers).map_err(|_| ()),
                expected,
                "{prefix}"
            );
        }
        assert_eq!(
            Names::new("cir").retry_queue(Duration::from_secs(600)),
            "cir.retry.10m"
        );
    }

    #[test]
    fn each_retry_takes_the_next_tier_until_they_are_used_up() {
        let cases = [
            (0, 4, Next::Delay { tier: 0, retry: 1 }),
            (1, 4, Next::Delay { tier: 1, retry: 2 }),
            (3, 4, Next::Delay { tier: 3, retry: 4 }),
            (4, 4, Next::Exhausted { retries: 4 }),
            (9, 4, Next::Exhausted { retries: 9 }),
            (0, 0, Next::Exhausted { retries: 0 }),
        ];
        for (retries, tiers, expected) in cases {
            assert_eq!(next(retries, tiers), expected, "{retries} of {tiers}");
        }
    }

    #[test]
    fn topic_wildcards() {
        let cases = [
            ("a.#", "a", true),
            ("a.#", "a.b.c", true),
            ("a.*", "a", false),
            ("a.*", "a.b", true),
            ("a.*", "a.b.c", false),
            ("#", "x.y", true),
            ("a.b", "a.b", true),
            ("a.b", "a.c", false),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(topic_matches(pattern, key), expected, "{pattern} vs {key}");
        }
    }
}
