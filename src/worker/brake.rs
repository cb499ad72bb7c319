//! The mass-removal brake: when removals reach more people than the limit within the window,
//! further removals are held until someone releases them.
//!
//! The limit is the larger of `max_people` and `max_percent` of the identities the router
//! manages, so a large organisation is not braked by ordinary churn. Leavers never pass
//! through the brake: an identity the IAM ends loses its access at once.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::apply::Cause;
use crate::{
    rules::{Action, BrakeSettings},
    store::{AuditEntry, Store, StoreError},
    worker::deprovision::ROUTER_ACTOR,
};

/// Audit actions that take access away because of rules (not leavers).
const RULE_REMOVALS: &str =
    "'clickup.unshare', 'clickup.remove_from_group', 'clickup.downgrade_share', 'grant.close'";

#[derive(Clone, Debug)]
pub struct Brake {
    pub settings: BrakeSettings,
}

/// Whether a removal may go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Hold { reason: String },
}

/// A person whose removals are held.
#[derive(Clone, Debug)]
pub struct Held {
    pub id: i64,
    pub iam_id: String,
    pub actions: Vec<String>,
    pub cause: String,
    pub held_at: i64,
}

impl Held {
    /// The cause kind of the plan that was held (`event`, `rules-reload`, `reconcile` for a
    /// drift repair): `Brake::hold` records the cause as `<kind>: <reason>`.
    pub fn kind(&self) -> &str {
        self.cause.split_once(':').map_or("", |(kind, _)| kind)
    }
}

impl Brake {
    /// Decides for one more person, counting people already affected in the window.
    pub async fn check(
        &self,
        store: &Store,
        iam_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        if self.is_engaged(store).await? {
            return Ok(Verdict::Hold {
                reason: "the brake is engaged: earlier removals are held".into(),
            });
        }
        let since = now.timestamp_millis() - self.settings.window.as_millis() as i64;
        let people = recent_people(store, since, iam_id).await?;
        let limit = self.limit(store).await?;
        if people + 1 > limit {
            return Ok(Verdict::Hold {
                reason: format!(
                    "removals would reach {} people within {:?} (limit {limit})",
                    people + 1,
                    self.settings.window
                ),
            });
        }
        Ok(Verdict::Pass)
    }

    /// Decides for a batch (a rules reload) of `people` people at once.
    pub async fn check_batch(&self, store: &Store, people: usize) -> Result<Verdict, StoreError> {
        let limit = self.limit(store).await?;
        if people > limit {
            return Ok(Verdict::Hold {
                reason: format!(
                    "a rules reload would remove access from {people} people (limit {limit})"
                ),
            });
        }
        Ok(Verdict::Pass)
    }

    /// Decides for a drift repair that would take access from `people` people at once,
    /// counting people already affected in the window; an engaged brake holds it too.
    pub async fn check_run(
        &self,
        store: &Store,
        people: usize,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        if people == 0 {
            return Ok(Verdict::Pass);
        }
        if self.is_engaged(store).await? {
            return Ok(Verdict::Hold {
                reason: "the brake is engaged: earlier removals are held".into(),
            });
        }
        let since = now.timestamp_millis() - self.settings.window.as_millis() as i64;
        let recent = recent_people(store, since, "").await?;
        let limit = self.limit(store).await?;
        if recent + people > limit {
            return Ok(Verdict::Hold {
                reason: format!(
                    "a drift repair would remove access from {people} people, {recent} more \
                     within {:?} (limit {limit})",
                    self.settings.window
                ),
            });
        }
        Ok(Verdict::Pass)
    }

    /// The most people whose access may be cut within one window.
    pub async fn limit(&self, store: &Store) -> Result<usize, StoreError> {
        let managed: i64 =
            sqlx::query_scalar("SELECT COUNT(DISTINCT iam_id) FROM grants WHERE ended_at IS NULL")
                .fetch_one(store.pool())
                .await?;
        let by_share = (managed as f64 * self.settings.max_percent / 100.0).floor() as usize;
        Ok(self.settings.max_people.max(by_share))
    }

    pub async fn is_engaged(&self, store: &Store) -> Result<bool, StoreError> {
        Ok(!self.held(store).await?.is_empty())
    }

    /// Records held removals and an audit row saying why.
    pub async fn hold(
        &self,
        store: &Store,
        cause: &Cause,
        actions: &[Action],
        reason: &str,
    ) -> Result<(), StoreError> {
        let descriptions: Vec<String> = actions.iter().map(Action::describe).collect();
        sqlx::query(
            "INSERT INTO held_removals (iam_id, actions, cause, held_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&cause.iam_id)
        .bind(json!(descriptions).to_string())
        .bind(format!("{}: {reason}", cause.kind))
        .bind(Utc::now().timestamp_millis())
        .execute(store.pool())
        .await?;
        let audit = AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: "brake.hold".into(),
            subject: Some(format!("user:{}", cause.iam_id)),
            object: None,
            outcome: "held".into(),
            correlation_id: cause.correlation_id.clone(),
            event_id: cause.event_id.clone(),
            detail: json!({ "reason": reason, "actions": descriptions, "cause": cause.kind }),
        };
        store.append_audit(&audit).await
    }

    /// Unreleased holds, oldest first.
    pub async fn held(&self, store: &Store) -> Result<Vec<Held>, StoreError> {
        let rows = sqlx::query("SELECT id, iam_id, actions, cause, held_at FROM held_removals WHERE released_at IS NULL ORDER BY id")
            .fetch_all(store.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|row| Held {
                id: row.get(0),
                iam_id: row.get(1),
                actions: serde_json::from_str(row.get::<&str, _>(2)).unwrap_or_default(),
                cause: row.get(3),
                held_at: row.get(4),
            })
            .collect())
    }

    /// Marks one hold released (after its person was reconciled without the brake); a hold
    /// already released keeps its first release. Returns whether this call released it.
    pub async fn mark_released(
        &self,
        store: &Store,
        id: i64,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE held_removals SET released_at = ?2, released_by = ?3
             WHERE id = ?1 AND released_at IS NULL",
        )
        .bind(id)
        .bind(Utc::now().timestamp_millis())
        .bind(by)
        .execute(store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Other people whose access rules took away since `since` (epoch ms). Removals a person
/// released (a drift hold's, whose rows name the releaser as actor) are not counted, as those
/// of a rules hold's release (cause `brake-release`) are not.
async fn recent_people(store: &Store, since: i64, except: &str) -> Result<usize, StoreError> {
    let query = format!(
        "SELECT COUNT(DISTINCT subject) FROM audit
         WHERE at >= ?1 AND action IN ({RULE_REMOVALS}) AND subject IS NOT ?2 AND actor = ?3
           AND json_extract(detail, '$.cause') IN ('event', 'rules-reload', 'reconcile')"
    );
    let row = sqlx::query(&query)
        .bind(since)
        .bind(format!("user:{except}"))
        .bind(ROUTER_ACTOR)
        .fetch_one(store.pool())
        .await?;
    Ok(row.get::<i64, _>(0) as usize)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::StoreSettings;

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("brake.db").display());
        let settings = StoreSettings {
            database_url: url.parse().unwrap(),
        };
        (Store::open(&settings).await.unwrap(), dir)
    }

    fn removal(person: usize, action: &str, cause: &str) -> AuditEntry {
        AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: action.into(),
            subject: Some(format!("user:p{person}")),
            object: Some("list:1".into()),
            outcome: "applied".into(),
            correlation_id: "c".into(),
            event_id: format!("e{person}"),
            detail: json!({ "cause": cause }),
        }
    }

    #[tokio::test]
    async fn the_brake_counts_people_whose_access_rules_took_away_within_the_window() {
        let brake = Brake {
            settings: BrakeSettings {
                max_people: 3,
                max_percent: 5.0,
                window: Duration::from_secs(600),
            },
        };
        let cases: [(&[(&str, &str)], bool); 7] = [
            (&[], false),
            (&[("clickup.unshare", "event"); 2], false),
            (&[("clickup.unshare", "event"); 3], true),
            (&[("clickup.remove_member", "leaver"); 5], false),
            (&[("clickup.change_share", "event"); 5], false),
            (&[("clickup.downgrade_share", "rules-reload"); 3], true),
            (&[("clickup.unshare", "reconcile"); 3], true),
        ];

        for (earlier, held) in cases {
            let (store, _dir) = store().await;
            for (person, (action, cause)) in earlier.iter().enumerate() {
                store
                    .append_audit(&removal(person, action, cause))
                    .await
                    .unwrap();
            }

            let verdict = brake.check(&store, "next", Utc::now()).await.unwrap();

            assert_eq!(matches!(verdict, Verdict::Hold { .. }), held, "{earlier:?}");
        }
    }

    #[tokio::test]
    async fn removals_a_person_released_are_not_counted_again() {
        let brake = Brake {
            settings: BrakeSettings {
                max_people: 3,
                max_percent: 0.0,
                window: Duration::from_secs(600),
            },
        };
        let cases = [
            (ROUTER_ACTOR, "reconcile", true),
            ("ops@example.com", "reconcile", false),
            (ROUTER_ACTOR, "brake-release", false),
        ];

        for (actor, cause, held) in cases {
            let (store, _dir) = store().await;
            for person in 0..3 {
                let mut row = removal(person, "clickup.unshare", cause);
                row.actor = actor.into();
                store.append_audit(&row).await.unwrap();
            }

            let verdict = brake.check(&store, "next", Utc::now()).await.unwrap();

            assert_eq!(
                matches!(verdict, Verdict::Hold { .. }),
                held,
                "{actor} {cause}"
            );
        }
    }

    #[test]
    fn a_hold_knows_the_cause_kind_it_was_recorded_with() {
        let cases = [
            ("reconcile: a drift repair would remove access", "reconcile"),
            ("rules-reload: a rules reload would remove", "rules-reload"),
            ("no kind", ""),
        ];

        for (cause, kind) in cases {
            let hold = Held {
                id: 1,
                iam_id: "p".into(),
                actions: Vec::new(),
                cause: cause.into(),
                held_at: 0,
            };

            assert_eq!(hold.kind(), kind, "{cause}");
        }
    }

    #[tokio::test]
    async fn a_drift_repair_counts_its_people_with_those_of_the_window() {
        let brake = Brake {
            settings: BrakeSettings {
                max_people: 3,
                max_percent: 0.0,
                window: Duration::from_secs(600),
            },
        };
        let cases = [
            (0, 0, false),
            (0, 3, false),
            (0, 4, true),
            (2, 1, false),
            (2, 2, true),
            (5, 0, false),
        ];

        for (earlier, people, held) in cases {
            let (store, _dir) = store().await;
            for person in 0..earlier {
                let row = removal(person, "clickup.unshare", "event");
                store.append_audit(&row).await.unwrap();
            }

            let verdict = brake.check_run(&store, people, Utc::now()).await.unwrap();

            let case = (earlier, people);
            assert_eq!(matches!(verdict, Verdict::Hold { .. }), held, "{case:?}");
        }
    }

    #[tokio::test]
    async fn the_limit_grows_with_the_managed_identities() {
        let (store, _dir) = store().await;
        let brake = Brake {
            settings: BrakeSettings {
                max_people: 10,
                max_percent: 5.0,
                window: Duration::from_secs(600),
            },
        };
        for n in 0..400 {
            sqlx::query("INSERT INTO grants (iam_id, kind, object, level, rule, event_id, since) VALUES (?1, 'role', 'w', 'member', 'r', 'e', 0)")
                .bind(format!("p{n}"))
                .execute(store.pool())
                .await
                .unwrap();
        }

        assert_eq!(brake.limit(&store).await.unwrap(), 20);
        assert!(matches!(
            brake.check_batch(&store, 21).await.unwrap(),
            Verdict::Hold { .. }
        ));
        assert_eq!(brake.check_batch(&store, 20).await.unwrap(), Verdict::Pass);
    }
}
