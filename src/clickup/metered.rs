//! What the metrics and the failure record say about ClickUp calls, in closed vocabularies:
//! the kind of a call (from its method, path and body), the class of its result, and a short
//! code for a failure.

use reqwest::Method;
use serde_json::Value;

use super::ClickUpError;

/// The kind of a ClickUp call: `invite_member`, `remove_guest`, `task_assign`, ... (`other`
/// for a call this table does not know).
pub fn call_kind(method: &Method, path: &str, body: Option<&Value>) -> &'static str {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let has = |field: &str| body.is_some_and(|b| b.get(field).is_some());

    match (method.as_str(), segments.as_slice()) {
        ("GET", ["v2", "team"]) => "read_teams",
        ("GET", ["v2", "team", _, "plan"]) => "read_plan",
        ("GET", ["v2", "team", _, "task"]) => "read_team_tasks",
        ("POST", ["v2", "team", _, "user"]) => "invite_member",
        ("PUT", ["v2", "team", _, "user", _]) => "set_role",
        ("GET", ["v2", "team", _, "user", _]) => "read_member",
        ("DELETE", ["v2", "team", _, "user", _]) => "remove_member",
        ("POST", ["v2", "team", _, "guest"]) => "invite_guest",
        ("GET", ["v2", "team", _, "guest", _]) => "read_guest",
        ("DELETE", ["v2", "team", _, "guest", _]) => "remove_guest",
        ("GET", ["v2", "group"]) => "read_groups",
        ("PUT", ["v2", "group", _]) => "group_members",
        ("PATCH", ["v3", "workspaces", _, _, _, "acls"]) => "member_share",
        ("POST", ["v2", _, _, "guest", _]) => "guest_share",
        ("DELETE", ["v2", _, _, "guest", _]) => "guest_unshare",
        ("POST", ["v2", "list", _, "task"]) => "task_create",
        ("GET", ["v2", "task", _]) => "task_read",
        ("PUT", ["v2", "task", _]) if has("status") => "task_status",
        ("PUT", ["v2", "task", _]) if has("group_assignees") => "task_group_assign",
        ("PUT", ["v2", "task", _]) if has("assignees") => "task_assign",
        ("POST", ["v2", "task", _, "comment"]) => "task_comment",
        ("GET", ["v2", "task", _, "comment"]) => "read_task_comments",
        ("GET", ["v2", "list", _]) => "read_list",
        ("GET", ["v2", "list", _, "task"]) => "read_list_tasks",
        ("GET", ["v2", "team", _, "webhook"]) => "read_webhooks",
        ("PUT", ["v2", "webhook", _]) => "webhook_update",
        ("GET", ["v2", "user"]) => "read_user",
        _ => "other",
    }
}

/// The result class of a finished call: `ok`; `transient` (5xx, 429, unreachable: tried again
/// later); `refused` (ClickUp answered 4xx); `permanent` (any other failure that retrying
/// cannot mend, such as an answer that breaks ClickUp's contract).
pub fn result_class<T>(outcome: &Result<T, ClickUpError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(error) if error.is_transient() => "transient",
        Err(ClickUpError::Api { status, .. }) if (400..500).contains(status) => "refused",
        Err(_) => "permanent",
    }
}

impl ClickUpError {
    /// A short, non-personal code for the failure record.
    pub fn code(&self) -> &'static str {
        match self {
            ClickUpError::Api { status: 429, .. } | ClickUpError::RateLimited(_) => {
                "clickup_rate_limited"
            }
            ClickUpError::Api { status, .. } if *status >= 500 => "clickup_server_error",
            ClickUpError::Api { .. } => "clickup_refused",
            ClickUpError::Transport(_) => "clickup_unreachable",
            ClickUpError::Contract(_) => "clickup_contract",
            ClickUpError::EnterpriseRequired { .. } => "enterprise_required",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    #[test]
    fn every_call_the_client_makes_has_its_kind() {
        let status = json!({ "status": "closed" });
        let assignees = json!({ "assignees": { "add": [1], "rem": [] } });
        let groups = json!({ "group_assignees": { "add": ["g"], "rem": [] } });
        let cases = [
            (Method::GET, "/v2/team", None, "read_teams"),
            (Method::GET, "/v2/team/9/plan", None, "read_plan"),
            (
                Method::GET,
                "/v2/team/9/task?assignees[]=5&page=0",
                None,
                "read_team_tasks",
            ),
            (Method::POST, "/v2/team/9/user", None, "invite_member"),
            (Method::PUT, "/v2/team/9/user/5", None, "set_role"),
            (Method::DELETE, "/v2/team/9/user/5", None, "remove_member"),
            (Method::POST, "/v2/team/9/guest", None, "invite_guest"),
            (Method::DELETE, "/v2/team/9/guest/5", None, "remove_guest"),
            (
                Method::GET,
                "/v2/team/9/user/5?include_shared=true",
                None,
                "read_member",
            ),
            (Method::GET, "/v2/team/9/guest/5", None, "read_guest"),
            (Method::GET, "/v2/group?team_id=9", None, "read_groups"),
            (Method::PUT, "/v2/group/abc", None, "group_members"),
            (
                Method::PATCH,
                "/v3/workspaces/9/space/100/acls",
                None,
                "member_share",
            ),
            (Method::POST, "/v2/folder/6/guest/5", None, "guest_share"),
            (Method::DELETE, "/v2/list/3/guest/5", None, "guest_unshare"),
            (Method::POST, "/v2/list/3/task", None, "task_create"),
            (Method::GET, "/v2/task/t1", None, "task_read"),
            (Method::PUT, "/v2/task/t1", Some(&status), "task_status"),
            (Method::PUT, "/v2/task/t1", Some(&assignees), "task_assign"),
            (
                Method::PUT,
                "/v2/task/t1",
                Some(&groups),
                "task_group_assign",
            ),
            (Method::PUT, "/v2/task/t1", None, "other"),
            (Method::POST, "/v2/task/t1/comment", None, "task_comment"),
            (
                Method::GET,
                "/v2/task/t1/comment?start=1&start_id=2",
                None,
                "read_task_comments",
            ),
            (Method::GET, "/v2/list/3", None, "read_list"),
            (
                Method::GET,
                "/v2/list/3/task?date_updated_gt=1&page=0",
                None,
                "read_list_tasks",
            ),
            (Method::GET, "/v2/team/9/webhook", None, "read_webhooks"),
            (Method::PUT, "/v2/webhook/w1", None, "webhook_update"),
            (Method::GET, "/v2/user", None, "read_user"),
            (Method::GET, "/v2/space/1", None, "other"),
        ];
        for (method, path, body, kind) in cases {
            assert_eq!(call_kind(&method, path, body), kind, "{method} {path}");
        }
    }

    #[test]
    fn results_and_codes_by_failure() {
        let api = |status: u16, ecode: &str| ClickUpError::Api {
            status,
            ecode: ecode.into(),
            message: "m".into(),
        };
        let cases: Vec<(Result<(), ClickUpError>, &str, &str)> = vec![
            (Ok(()), "ok", ""),
            (Err(api(503, "none")), "transient", "clickup_server_error"),
            (
                Err(api(429, "APP_002")),
                "transient",
                "clickup_rate_limited",
            ),
            (
                Err(ClickUpError::RateLimited(Duration::from_secs(1))),
                "transient",
                "clickup_rate_limited",
            ),
            (
                Err(ClickUpError::Transport("timeout".into())),
                "transient",
                "clickup_unreachable",
            ),
            (Err(api(403, "OAUTH_027")), "refused", "clickup_refused"),
            (Err(api(404, "ITEM_015")), "refused", "clickup_refused"),
            (
                Err(api(500, "SHARD_001")),
                "permanent",
                "clickup_server_error",
            ),
            (
                Err(ClickUpError::Contract("x".into())),
                "permanent",
                "clickup_contract",
            ),
        ];
        for (outcome, class, code) in cases {
            assert_eq!(result_class(&outcome), class, "{outcome:?}");
            if let Err(error) = outcome {
                assert_eq!(error.code(), code, "{error}");
            }
        }
    }
}
