//! Approved requests in a person's desired access: the bridge between a decision and the
//! lifecycle machinery that applies, records and expires access.

use chrono::{DateTime, Utc};

use crate::{
    rules::{Desired, Level, ObjectRef, ShareGrant},
    store::AccessRequest,
};

/// Adds approved access requests to the desired access: a request's share counts while it
/// lasts, unless the rules already give as much. Requests give shares to an account the
/// rules keep; they never create or keep an account on their own.
pub fn add_requests(desired: &mut Desired, requests: &[AccessRequest], now: DateTime<Utc>) {
    if desired.role.is_none() {
        return;
    }
    for request in requests {
        let (Some(object), Some(level)) = (
            request
                .object
                .as_deref()
                .and_then(|o| o.parse::<ObjectRef>().ok()),
            request
                .level
                .as_deref()
                .and_then(|l| l.parse::<Level>().ok()),
        ) else {
            continue;
        };
        let until = request.until.and_then(DateTime::from_timestamp_millis);
        if until.is_some_and(|until| until <= now) {
            continue;
        }
        let grant = ShareGrant {
            level,
            until,
            rule: format!("request:{}", request.task_id),
        };
        let wins = match desired.shares.get(&object) {
            None => true,
            Some(held) if level != held.level => level > held.level,
            Some(held) => held
                .until
                .is_some_and(|held_until| until.is_none_or(|u| u > held_until)),
        };
        if wins {
            desired.shares.insert(object, grant);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::{RoleGrant, WorkspaceRole};
    use crate::store::RequestState;

    fn desired(role: Option<WorkspaceRole>, shares: &[(&str, Level, Option<i64>)]) -> Desired {
        let mut desired = Desired {
            role: role.map(|role| RoleGrant {
                role,
                custom_role_id: None,
                rule: "all-staff".into(),
            }),
            ..Desired::default()
        };
        for (object, level, until) in shares {
            let until = until.and_then(DateTime::from_timestamp_millis);
            let grant = ShareGrant {
                level: *level,
                until,
                rule: "mapping".into(),
            };
            desired
                .shares
                .insert(object.parse().expect("object"), grant);
        }
        desired
    }

    fn request(object: &str, level: &str, until: Option<i64>) -> AccessRequest {
        let mut request = AccessRequest::new("86req", "901100000901", 9001001, 0);
        request.state = RequestState::Granted;
        request.object = Some(object.into());
        request.level = Some(level.into());
        request.until = until;
        request
    }

    #[test]
    fn a_request_adds_a_share_while_it_lasts_unless_the_rules_give_as_much() {
        let now = DateTime::from_timestamp_millis(1_000_000).expect("now");
        let later = (now + Duration::days(1)).timestamp_millis();
        let earlier = (now - Duration::days(1)).timestamp_millis();
        let member = Some(WorkspaceRole::Member);
        let cases = [
            (
                "new share",
                desired(member, &[]),
                request("folder:9011", "comment", Some(later)),
                Some((Level::Comment, true)),
            ),
            (
                "ended request",
                desired(member, &[]),
                request("folder:9011", "comment", Some(earlier)),
                None,
            ),
            (
                "no account",
                desired(None, &[]),
                request("folder:9011", "comment", None),
                None,
            ),
            (
                "guest and space",
                desired(Some(WorkspaceRole::Guest), &[]),
                request("space:9011", "read", None),
                Some((Level::Read, true)),
            ),
            (
                "higher than rules",
                desired(member, &[("folder:9011", Level::Read, None)]),
                request("folder:9011", "edit", Some(later)),
                Some((Level::Edit, true)),
            ),
            (
                "lower than rules",
                desired(member, &[("folder:9011", Level::Edit, None)]),
                request("folder:9011", "read", None),
                Some((Level::Edit, false)),
            ),
            (
                "same level, rules unbounded",
                desired(member, &[("folder:9011", Level::Read, None)]),
                request("folder:9011", "read", Some(later)),
                Some((Level::Read, false)),
            ),
            (
                "same level, request longer",
                desired(
                    member,
                    &[(
                        "folder:9011",
                        Level::Read,
                        Some(now.timestamp_millis() + 10),
                    )],
                ),
                request("folder:9011", "read", Some(later)),
                Some((Level::Read, true)),
            ),
        ];

        for (name, mut desired, request, expected) in cases {
            let object: ObjectRef = request
                .object
                .as_deref()
                .unwrap_or_default()
                .parse()
                .expect("object");

            add_requests(&mut desired, &[request], now);

            let got = desired
                .shares
                .get(&object)
                .map(|g| (g.level, g.rule == "request:86req"));
            assert_eq!(got, expected, "{name}");
        }
    }
}
