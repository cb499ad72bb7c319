//! Counts what every accepted event did in the sandbox, from the sandbox's own records (its
//! audit log of membership changes, its call log, its tasks and comments), never from the
//! router's claims: an invite per joiner, a removal per leaver, one assignment per task.

use std::{collections::HashMap, time::Duration};

use clickup_iam_router::sandbox::SandboxState;

use crate::traffic::{email, Event, Sent};

/// The effects of the accepted events.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub sent: usize,
    pub accepted: usize,
    pub refused: usize,
    /// 503 answers the sender retried.
    pub retried_503: usize,
    /// Seconds from the first 503 to the last.
    pub refused_for_secs: u64,
    /// Accepted joiners, leavers and tasks.
    pub by_kind: [usize; 3],
    /// Accepted events whose effect is in the sandbox exactly once.
    pub effects: usize,
    pub lost: usize,
    pub doubled: usize,
    /// One line per lost or doubled event: what it was and what the sandbox shows.
    pub evidence: Vec<String>,
}

impl Tally {
    pub fn line(&self) -> String {
        format!(
            "chaos: sent={} accepted={} refused={} effects={} lost={} doubled={}",
            self.sent, self.accepted, self.refused, self.effects, self.lost, self.doubled
        )
    }
}

/// Counts effects per accepted event.
pub fn count(sandbox: &SandboxState, sent: &[Sent]) -> Tally {
    let mut invites: HashMap<u64, usize> = HashMap::new();
    let mut removals: HashMap<u64, usize> = HashMap::new();
    for (kind, target) in sandbox.audit_log_targets() {
        match (kind.as_str(), target) {
            ("INVITE_TO_WORKSPACE", Some(id)) => *invites.entry(id).or_default() += 1,
            ("REMOVE_FROM_WORKSPACE", Some(id)) => *removals.entry(id).or_default() += 1,
            _ => {}
        }
    }
    let mut task_updates: HashMap<String, usize> = HashMap::new();
    for call in sandbox.calls() {
        if let Some(task) = call.path.strip_prefix("/api/v2/task/") {
            let answered = (200..300).contains(&call.status);
            if call.method == "PUT" && answered && !task.contains('/') {
                *task_updates.entry(task.to_owned()).or_default() += 1;
            }
        }
    }
    // People who left are no longer found by email: their ids come from the leavers.
    let left: HashMap<u32, u64> = sent
        .iter()
        .filter_map(|s| match s.event {
            Event::Leaver { n, user_id } => Some((n, user_id)),
            _ => None,
        })
        .collect();

    let mut tally = Tally {
        sent: sent.len(),
        retried_503: sent.iter().map(|s| s.refusals_503 as usize).sum(),
        refused_for_secs: refusal_window(sent).as_secs(),
        ..Tally::default()
    };
    for event in sent {
        if !event.accepted() {
            tally.refused += 1;
            continue;
        }
        tally.accepted += 1;
        tally.by_kind[match event.event {
            Event::Joiner { .. } => 0,
            Event::Leaver { .. } => 1,
            Event::Task { .. } => 2,
        }] += 1;

        let (times, what) = match &event.event {
            Event::Joiner { n } => {
                let user = sandbox
                    .find_by_email(&email(*n))
                    .map(|user| user.id)
                    .or_else(|| left.get(n).copied());
                let times = user.map_or(0, |id| invites.get(&id).copied().unwrap_or(0));
                (
                    times,
                    format!("joiner {}: user {user:?}, {times} invite(s)", email(*n)),
                )
            }
            Event::Leaver { n, user_id } => {
                let times = removals.get(user_id).copied().unwrap_or(0);
                (
                    times,
                    format!("leaver {} (user {user_id}): {times} removal(s)", email(*n)),
                )
            }
            Event::Task { task_id } => {
                let updates = task_updates.get(task_id).copied().unwrap_or(0);
                let comments = sandbox.comments(task_id).len();
                let assignees = sandbox.task(task_id).map_or(0, |t| t.assignees.len());
                let times = match assignees {
                    0 => 0,
                    _ => updates.max(comments),
                };
                let what = format!(
                    "task {task_id}: {updates} update(s), {comments} comment(s), \
                     {assignees} assignee(s)"
                );
                (times, what)
            }
        };
        match times {
            0 => tally.lost += 1,
            1 => tally.effects += 1,
            _ => tally.doubled += 1,
        }
        if times != 1 {
            tally
                .evidence
                .push(format!("{what} (answered {:?})", event.status));
        }
    }
    tally
}

/// From the first 503 any event got to the last one.
fn refusal_window(sent: &[Sent]) -> Duration {
    let first = sent
        .iter()
        .filter_map(|s| s.refused_between.map(|w| w.0))
        .min();
    let last = sent
        .iter()
        .filter_map(|s| s.refused_between.map(|w| w.1))
        .max();
    match (first, last) {
        (Some(first), Some(last)) => last - first,
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use clickup_iam_router::sandbox::{Role, Sandbox, SandboxConfig};
    use serde_json::json;

    use super::*;
    use crate::traffic::{Event, Sent, COMPLIANCE_LIST};

    fn accepted(event: Event) -> Sent {
        Sent {
            event,
            status: Some(202),
            attempts: 1,
            refusals_503: 0,
            refused_between: None,
        }
    }

    /// The counter itself can fail: a task assigned twice is doubled, a task nobody
    /// assigned and a joiner nobody invited are lost.
    #[tokio::test]
    async fn a_second_assignment_is_doubled_and_a_missing_one_is_lost() {
        let config = SandboxConfig::default();
        let token = config.tokens[0].clone();
        let sandbox = Sandbox::start(TcpListener::bind("127.0.0.1:0").unwrap(), config)
            .await
            .unwrap();
        sandbox.state().seed_examples().unwrap();
        let author = sandbox
            .state()
            .add_member("author@example.com", "Author", Role::Member);
        let actor = sandbox.as_user(author);
        let (twice, _) = actor
            .create_task(COMPLIANCE_LIST, "twice", &[])
            .await
            .unwrap();
        let (never, _) = actor
            .create_task(COMPLIANCE_LIST, "never", &[])
            .await
            .unwrap();
        for _ in 0..2 {
            let answer = reqwest::Client::new()
                .put(format!("{}/v2/task/{twice}", sandbox.base_url()))
                .header("Authorization", &token)
                .json(&json!({ "assignees": { "add": [author], "rem": [] } }))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 200);
        }

        let sent = [
            accepted(Event::Task { task_id: twice }),
            accepted(Event::Task { task_id: never }),
            accepted(Event::Joiner { n: 1 }),
        ];
        let tally = count(&sandbox.state(), &sent);

        assert_eq!(
            (tally.accepted, tally.effects, tally.lost, tally.doubled),
            (3, 0, 2, 1),
            "{:?}",
            tally.evidence
        );
        sandbox.stop().await;
    }
}
