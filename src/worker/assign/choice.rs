//! Making one choice: candidates from the directory (indexed conditions, then the rule's
//! filter), the strategy's pick, or the fallback, and the comment that says so; `carry`
//! changes ClickUp and records it.

use chrono::Utc;

use super::{AssignError, Assigner};
use crate::{
    directory::{Attribute, Condition},
    rules::{choose, AssignmentRule, Candidate, Fallback, Strategy, TaskFacts},
    store::{Chosen, NewChoice},
};

/// Why a choice is made.
pub(super) struct Cause {
    pub event_id: String,
    pub correlation_id: String,
    /// The assignee the router chose before (unassigned when someone else is chosen).
    pub previous: Option<u64>,
    /// Someone who must not be chosen (a leaver whose task is reassigned).
    pub excluded: Option<u64>,
}

/// Who gets the task.
enum Pick {
    Person {
        user_id: u64,
        iam_id: Option<String>,
        name: String,
        how: String,
    },
    Group {
        id: String,
        name: String,
    },
    Nobody {
        why: String,
    },
}

impl Assigner {
    /// Makes a choice for the task: who gets it and the comment that says so. Nothing is
    /// changed in ClickUp or recorded yet, but the round-robin cursor has moved.
    pub(super) async fn choose(
        &self,
        facts: &TaskFacts,
        rule: &AssignmentRule,
        cause: &Cause,
    ) -> Result<NewChoice, AssignError> {
        self.refresh().await?;
        let pick = match self.candidates(facts, rule, cause) {
            Ok(candidates) if !candidates.is_empty() => self.pick(rule, candidates).await?,
            Ok(_) => {
                self.fallback(rule, "nobody meets the rule's conditions")
                    .await?
            }
            Err(why) => self.fallback(rule, &why).await?,
        };

        let (chosen, comment) = match pick {
            Pick::Person {
                user_id,
                iam_id,
                name,
                how,
            } => (
                Chosen::Person {
                    user_id: user_id as i64,
                    iam_id,
                },
                format!("Assigned to {name} by the rule \"{}\" ({how}).", rule.name),
            ),
            Pick::Group { id, name } => (
                Chosen::Group { id },
                format!(
                    "Nobody meets the rule \"{}\"; assigned to the group {name}, its fallback.",
                    rule.name
                ),
            ),
            Pick::Nobody { why } => {
                let comment = format!(
                    "Nobody could be assigned by the rule \"{}\": {why}.",
                    rule.name
                );
                (Chosen::Nobody { why }, comment)
            }
        };
        Ok(NewChoice {
            task_id: facts.task_id.clone(),
            event_id: cause.event_id.clone(),
            correlation_id: cause.correlation_id.clone(),
            rule: rule.name.clone(),
            strategy: strategy_name(rule.strategy).into(),
            chosen,
            previous: cause.previous.map(|p| p as i64),
            comment,
        })
    }

    /// Active people with a ClickUp account meeting the rule's conditions and filter.
    fn candidates(
        &self,
        facts: &TaskFacts,
        rule: &AssignmentRule,
        cause: &Cause,
    ) -> Result<Vec<(u64, String, String)>, String> {
        let conditions: Vec<Condition> = rule
            .conditions(facts)?
            .into_iter()
            .map(|(attribute, value)| {
                Attribute::parse(&attribute)
                    .map(|attribute| Condition { attribute, value })
                    .ok_or_else(|| format!("the rule names an unknown attribute {attribute:?}"))
            })
            .collect::<Result<_, _>>()?;

        let directory = self.directory.read().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        let mut kept = Vec::new();
        for person in directory.select(&conditions) {
            let seen = kept
                .iter()
                .any(|(user_id, _, _)| *user_id == person.clickup_user_id);
            if Some(person.clickup_user_id) == cause.excluded || seen {
                // One account, one turn, however many identities are linked to it.
                continue;
            }
            if let Ok(true) = rule.keeps(&self.rules, &person.identity, now) {
                let name = person
                    .identity
                    .display_name
                    .clone()
                    .unwrap_or_else(|| person.iam_id.clone());
                kept.push((person.clickup_user_id, person.iam_id.clone(), name));
            }
        }
        Ok(kept)
    }

    async fn pick(
        &self,
        rule: &AssignmentRule,
        people: Vec<(u64, String, String)>,
    ) -> Result<Pick, AssignError> {
        let ids: Vec<u64> = people.iter().map(|p| p.0).collect();
        let loads = match rule.strategy {
            Strategy::LeastLoaded => self.store.open_loads(&ids).await?,
            _ => Default::default(),
        };
        let cursor = match rule.strategy {
            Strategy::LeastLoaded => 0,
            _ => self.store.next_cursor(&rule.name).await?,
        };
        let mut candidates: Vec<Candidate> = people
            .iter()
            .map(|(user_id, iam_id, _)| Candidate {
                user_id: *user_id,
                iam_id: iam_id.clone(),
                load: loads.get(user_id).copied().unwrap_or(0),
            })
            .collect();
        candidates.sort_by_key(|c| c.user_id);

        let Some(index) = choose(rule.strategy, &candidates, cursor) else {
            return self.fallback(rule, "the strategy chose nobody").await;
        };
        let chosen = &candidates[index];
        let name = people
            .iter()
            .find(|p| p.0 == chosen.user_id)
            .map(|p| p.2.clone())
            .unwrap_or_default();
        let how = match rule.strategy {
            Strategy::RoundRobin => format!("round robin among {}", candidates.len()),
            Strategy::LeastLoaded => format!(
                "least loaded among {}, {} open task(s)",
                candidates.len(),
                chosen.load
            ),
            Strategy::ByField => format!("by field, among {}", candidates.len()),
        };
        Ok(Pick::Person {
            user_id: chosen.user_id,
            iam_id: Some(chosen.iam_id.clone()),
            name,
            how,
        })
    }

    async fn fallback(&self, rule: &AssignmentRule, why: &str) -> Result<Pick, AssignError> {
        match &rule.fallback {
            Some(Fallback::Email(email)) => {
                let member = self.clickup.find_member(self.team_id, email).await?;
                Ok(match member {
                    Some(member) => Pick::Person {
                        user_id: member.id,
                        iam_id: self.store.identity_by_email(email).await?.map(|r| r.iam_id),
                        name: member
                            .username
                            .clone()
                            .unwrap_or_else(|| format!("user {}", member.id)),
                        how: format!("fallback: {why}"),
                    },
                    None => Pick::Nobody {
                        why: format!("{why}, and the fallback has no ClickUp account"),
                    },
                })
            }
            Some(Fallback::Group(name)) => {
                let groups = self.clickup.groups(self.team_id).await?;
                Ok(
                    match groups
                        .into_iter()
                        .find(|g| g.name.eq_ignore_ascii_case(name))
                    {
                        Some(group) => Pick::Group {
                            id: group.id,
                            name: group.name,
                        },
                        None => Pick::Nobody {
                            why: format!("{why}, and the fallback group {name:?} does not exist"),
                        },
                    },
                )
            }
            None => Ok(Pick::Nobody {
                why: why.to_owned(),
            }),
        }
    }
}

fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::RoundRobin => "round_robin",
        Strategy::LeastLoaded => "least_loaded",
        Strategy::ByField => "by_field",
    }
}
