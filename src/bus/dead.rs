//! A dead letter as the dead-letter queue holds it: the body exactly as it was queued and
//! what the broker says of its death. Pure data; the engine fills it from its headers.

use sha2::{Digest, Sha256};

use super::topology::Lane;

/// One message the broker dead-lettered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// The body as published (an envelope, unless the message was undecodable).
    pub body: Vec<u8>,
    /// The message id property (the CloudEvent id, or its SHA-256 when longer than 255).
    pub message_id: Option<String>,
    /// The routing key it was published with.
    pub routing_key: String,
    pub death: Death,
}

/// What the broker recorded about the death (RabbitMQ: `x-death`, `x-first-death-*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Death {
    /// The queue the message died in, e.g. `cir.deprovision`.
    pub queue: Option<String>,
    /// `rejected` (a permanent failure), `retries_exhausted` (every retry tier used; set by
    /// the router), `delivery_limit`, `expired` or `maxlen`.
    pub reason: Option<String>,
    /// How many times it died in that queue for that reason.
    pub count: u64,
    /// When it first died there, in ms since the epoch.
    pub first_at: Option<i64>,
    /// Failed deliveries before the death, when known (`x-delivery-count`, or the router's
    /// retry count `x-cir-retry`).
    pub delivery_count: Option<u64>,
    /// The replay that published this message again (the [`REPLAY_HEADER`] it carried),
    /// when it died after a dead-letter replay.
    pub replay: Option<String>,
}

/// The header a dead-letter replay sets on the message it publishes again: a death after
/// the replay is another death, even in the same second with the same count.
pub const REPLAY_HEADER: &str = "x-cir-replay";

impl DeadLetter {
    /// The lane whose queue (`<prefix>.<lane>`) the message died in. Only the lanes' queues
    /// dead-letter into the prefix's dead-letter exchange, so the last name segment decides.
    pub fn lane(&self) -> Option<Lane> {
        let (_, last) = self.death.queue.as_deref()?.rsplit_once('.')?;
        Lane::ALL.into_iter().find(|lane| lane.name() == last)
    }

    /// Identifies one death of one message: a redelivery of the same dead letter has the same
    /// fingerprint; the same message dying again (after a replay) has another count.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        let death = &self.death;
        let fields = [
            self.routing_key.as_str(),
            death.queue.as_deref().unwrap_or(""),
            death.reason.as_deref().unwrap_or(""),
            &death.count.to_string(),
            &death.first_at.map(|at| at.to_string()).unwrap_or_default(),
        ];
        for field in fields {
            hash.update(field.as_bytes());
            hash.update([0]);
        }
        // Only a replayed message has one, so letters recorded before replays keep theirs.
        if let Some(replay) = &death.replay {
            hash.update(b"replay\0");
            hash.update(replay.as_bytes());
            hash.update([0]);
        }
        hash.update(&self.body);
        hex::encode(hash.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(queue: Option<&str>, count: u64) -> DeadLetter {
        DeadLetter {
            body: br#"{"id":"e1"}"#.to_vec(),
            message_id: Some("e1".into()),
            routing_key: "iam.user.terminated".into(),
            death: Death {
                queue: queue.map(String::from),
                reason: Some("rejected".into()),
                count,
                first_at: Some(1_767_225_600_000),
                delivery_count: None,
                replay: None,
            },
        }
    }

    #[test]
    fn the_lane_is_the_queue_it_died_in() {
        let cases = [
            (Some("cir.deprovision"), Some(Lane::Deprovision)),
            (Some("cir-test-1.clickup"), Some(Lane::ClickUp)),
            (Some("a.b.provision"), Some(Lane::Provision)),
            (Some("cir.dead-letters"), None),
            (Some("deprovision"), None),
            (None, None),
        ];
        for (queue, lane) in cases {
            assert_eq!(letter(queue, 1).lane(), lane, "{queue:?}");
        }
    }

    #[test]
    fn a_redelivery_keeps_the_fingerprint_and_a_second_death_changes_it() {
        let first = letter(Some("cir.provision"), 1);
        let mut other_body = first.clone();
        other_body.body = br#"{"id":"e2"}"#.to_vec();

        assert_eq!(first.fingerprint(), first.clone().fingerprint());
        assert_ne!(
            first.fingerprint(),
            letter(Some("cir.provision"), 2).fingerprint()
        );
        assert_ne!(
            first.fingerprint(),
            letter(Some("cir.approvals"), 1).fingerprint()
        );
        assert_ne!(first.fingerprint(), other_body.fingerprint());
    }

    /// A replayed message that dies again in the same second, with the same count, is a new
    /// death; each replay is another.
    #[test]
    fn a_death_after_a_replay_is_a_new_one() {
        let first = letter(Some("cir.provision"), 1);
        let replayed = |mark: &str| {
            let mut letter = first.clone();
            letter.death.replay = Some(mark.into());
            letter
        };

        assert_ne!(first.fingerprint(), replayed("7:1").fingerprint());
        assert_ne!(replayed("7:1").fingerprint(), replayed("7:2").fingerprint());
        assert_eq!(replayed("7:1").fingerprint(), replayed("7:1").fingerprint());
    }
}
