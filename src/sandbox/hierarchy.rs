//! A small Space → List → task hierarchy, seeded by tests, and the read endpoints for it:
//! `GET /v2/team/{team_id}/space`, `GET /v2/space/{space_id}/list`,
//! `GET /v2/list/{list_id}/task` and `GET /v2/task/{task_id}`.
//!
//! Ids follow ClickUp's types: numeric strings for Spaces, Folders and Lists, short
//! alphanumeric strings for tasks. Lists live in their Space's hidden folder.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::{
    errors::ApiError,
    routes::{authorise_team, parse_id, resource},
    state::{SandboxState, Workspace},
};

#[derive(Debug, Clone)]
struct Space {
    id: String,
    name: String,
    hidden_folder_id: String,
}

#[derive(Debug, Clone)]
struct List {
    id: String,
    space_id: String,
    name: String,
}

#[derive(Debug, Clone)]
struct Task {
    id: String,
    list_id: String,
    name: String,
    creator: u64,
    date_created: u64,
}

/// Every Space, List and task in the workspace.
#[derive(Debug)]
pub(crate) struct Hierarchy {
    spaces: Vec<Space>,
    lists: Vec<List>,
    tasks: Vec<Task>,
    next_number: u64,
}

impl Default for Hierarchy {
    fn default() -> Self {
        Hierarchy {
            spaces: Vec::new(),
            lists: Vec::new(),
            tasks: Vec::new(),
            next_number: 1,
        }
    }
}

impl Hierarchy {
    fn next(&mut self) -> u64 {
        let number = self.next_number;
        self.next_number += 1;
        number
    }

    pub fn add_space(&mut self, name: &str) -> String {
        let number = self.next();
        let space = Space {
            id: format!("9011{number:07}"),
            name: name.to_owned(),
            hidden_folder_id: format!("9012{number:07}"),
        };
        let id = space.id.clone();
        self.spaces.push(space);
        id
    }

    pub fn add_list(&mut self, space_id: &str, name: &str) -> String {
        let number = self.next();
        let list = List {
            id: format!("90110{number:07}"),
            space_id: space_id.to_owned(),
            name: name.to_owned(),
        };
        let id = list.id.clone();
        self.lists.push(list);
        id
    }

    pub fn add_task(&mut self, list_id: &str, name: &str, creator: u64, now_ms: u64) -> String {
        let number = self.next();
        let task = Task {
            id: format!("86abc{number:04}"),
            list_id: list_id.to_owned(),
            name: name.to_owned(),
            creator,
            date_created: now_ms,
        };
        let id = task.id.clone();
        self.tasks.push(task);
        id
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/team/{team_id}/space").route(web::get().to(get_spaces)))
        .service(resource("/v2/space/{space_id}/list").route(web::get().to(get_lists)))
        .service(resource("/v2/list/{list_id}/task").route(web::get().to(get_tasks)))
        .service(resource("/v2/task/{task_id}").route(web::get().to(get_task)));
}

async fn get_spaces(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let spaces: Vec<Value> = ws.hierarchy.spaces.iter().map(space_json).collect();
        Ok(HttpResponse::Ok().json(json!({ "spaces": spaces })))
    })
}

async fn get_lists(
    state: web::Data<SandboxState>,
    space_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&space_id)?;

    state.with(|ws| {
        let hierarchy = &ws.hierarchy;
        let space = hierarchy
            .spaces
            .iter()
            .find(|space| space.id == *space_id)
            .ok_or_else(ApiError::team_not_authorized)?;

        let lists: Vec<Value> = hierarchy
            .lists
            .iter()
            .filter(|list| list.space_id == space.id)
            .map(|list| list_json(hierarchy, list, space))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "lists": lists })))
    })
}

async fn get_tasks(
    state: web::Data<SandboxState>,
    list_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&list_id)?;

    state.with(|ws| {
        let known = ws.hierarchy.lists.iter().any(|list| list.id == *list_id);
        if !known {
            return Err(ApiError::list_not_found());
        }

        let tasks: Vec<Value> = ws
            .hierarchy
            .tasks
            .iter()
            .filter(|task| task.list_id == *list_id)
            .map(|task| task_json(ws, task))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "tasks": tasks, "last_page": true })))
    })
}

async fn get_task(
    state: web::Data<SandboxState>,
    task_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let task = ws
            .hierarchy
            .tasks
            .iter()
            .find(|task| task.id == *task_id)
            .ok_or_else(ApiError::task_not_found)?;
        Ok(HttpResponse::Ok().json(task_json(ws, task)))
    })
}

fn statuses_json() -> Value {
    json!([
        { "status": "to do", "type": "open", "orderindex": 0, "color": "#d3d3d3" },
        { "status": "complete", "type": "closed", "orderindex": 1, "color": "#6bc950" }
    ])
}

fn space_json(space: &Space) -> Value {
    json!({
        "id": space.id,
        "name": space.name,
        "private": false,
        "color": null,
        "avatar": null,
        "admin_can_manage": true,
        "archived": false,
        "members": [],
        "statuses": statuses_json(),
        "multiple_assignees": true,
        "features": {
            "due_dates": {
                "enabled": true,
                "start_date": false,
                "remap_due_dates": false,
                "remap_closed_due_date": false
            },
            "time_tracking": { "enabled": true },
            "tags": { "enabled": true },
            "time_estimates": { "enabled": true },
            "checklists": { "enabled": true }
        }
    })
}

fn list_json(hierarchy: &Hierarchy, list: &List, space: &Space) -> Value {
    let task_count = hierarchy
        .tasks
        .iter()
        .filter(|task| task.list_id == list.id)
        .count();

    json!({
        "id": list.id,
        "name": list.name,
        "orderindex": 0,
        "content": "",
        "status": null,
        "priority": null,
        "assignee": null,
        "task_count": task_count.to_string(),
        "due_date": null,
        "start_date": null,
        "folder": {
            "id": space.hidden_folder_id,
            "name": "hidden",
            "hidden": true,
            "access": true
        },
        "space": { "id": space.id, "name": space.name, "access": true },
        "archived": false,
        "override_statuses": false,
        "permission_level": "create"
    })
}

/// A task as `GET /v2/task/{task_id}` shows it, with the fields the sandbox does not model
/// left empty.
fn task_json(ws: &Workspace, task: &Task) -> Value {
    let hierarchy = &ws.hierarchy;
    let list = hierarchy.lists.iter().find(|list| list.id == task.list_id);
    let space = list.and_then(|list| hierarchy.spaces.iter().find(|s| s.id == list.space_id));
    let creator = ws.directory.get(task.creator).map(|user| {
        json!({
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "color": null,
            "profilePicture": null
        })
    });
    let folder_id = space.map(|space| space.hidden_folder_id.as_str());
    let folder = json!({ "id": folder_id, "name": "hidden", "hidden": true, "access": true });
    let created = task.date_created.to_string();

    json!({
        "id": task.id,
        "custom_id": null,
        "custom_item_id": 0,
        "name": task.name,
        "text_content": "",
        "description": "",
        "status": { "status": "to do", "color": "#d3d3d3", "orderindex": 0, "type": "open" },
        "orderindex": "1.00000000000000000000000000000000",
        "date_created": created,
        "date_updated": created,
        "date_closed": null,
        "date_done": null,
        "archived": false,
        "creator": creator,
        "assignees": [],
        "group_assignees": [],
        "watchers": [],
        "checklists": [],
        "tags": [],
        "parent": null,
        "top_level_parent": null,
        "priority": null,
        "due_date": null,
        "start_date": null,
        "points": null,
        "time_estimate": null,
        "time_spent": 0,
        "custom_fields": [],
        "dependencies": [],
        "linked_tasks": [],
        "locations": [],
        "team_id": ws.team_id.to_string(),
        "url": format!("https://app.clickup.com/t/{}", task.id),
        "permission_level": "create",
        "list": { "id": task.list_id, "name": list.map(|l| l.name.as_str()), "access": true },
        "project": folder,
        "folder": folder,
        "space": { "id": space.map(|s| s.id.as_str()) }
    })
}

#[cfg(test)]
mod tests {
    use reqwest::Method;

    use super::super::testing::{call, start_default};

    #[tokio::test]
    async fn seeded_hierarchy_reads_back_with_clickup_id_types() {
        let sandbox = start_default().await;
        let state = sandbox.state();
        let space_id = state.add_space("Engineering");
        let list_id = state.add_list(&space_id, "Backlog");
        let task_id = state.add_task(&list_id, "Rotate keys");

        let spaces = call(&sandbox, Method::GET, "/v2/team/9012345678/space", None).await;
        let lists = call(
            &sandbox,
            Method::GET,
            &format!("/v2/space/{space_id}/list"),
            None,
        )
        .await;
        let tasks = call(
            &sandbox,
            Method::GET,
            &format!("/v2/list/{list_id}/task"),
            None,
        )
        .await;
        let task = call(&sandbox, Method::GET, &format!("/v2/task/{task_id}"), None).await;

        assert_eq!(spaces.body["spaces"][0]["id"], space_id.as_str());
        assert_eq!(lists.body["lists"][0]["id"], list_id.as_str());
        assert_eq!(lists.body["lists"][0]["task_count"], "1");
        assert_eq!(tasks.body["tasks"][0]["id"], task_id.as_str());
        assert_eq!(task.body["name"], "Rotate keys");
        assert_eq!(task.body["list"]["id"], list_id.as_str());
        assert_eq!(task.body["space"]["id"], space_id.as_str());
        assert_eq!(task.body["team_id"], "9012345678");
        assert!(task.body["creator"]["id"].is_u64());
        assert!(task_id.starts_with("86abc") && task_id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(space_id.parse::<u64>().is_ok() && list_id.parse::<u64>().is_ok());
        sandbox.stop().await;
    }

    #[tokio::test]
    async fn unknown_hierarchy_ids_answer_clickup_errors() {
        let sandbox = start_default().await;
        let cases = [
            ("/v2/space/123/list", 401, "OAUTH_023"),
            ("/v2/space/12.5/list", 500, "SHARD_001"),
            ("/v2/list/123/task", 404, "ITEM_015"),
            ("/v2/task/nope1", 401, "ITEM_013"),
        ];

        for (path, status, ecode) in cases {
            let reply = call(&sandbox, Method::GET, path, None).await;
            assert_eq!(reply.status, status, "{path}");
            assert_eq!(reply.body["ECODE"], ecode, "{path}");
        }
        sandbox.stop().await;
    }
}
