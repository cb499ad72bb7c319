//! The hierarchy reads every plan has: `GET /v2/team/{team_id}/space`,
//! `GET /v2/space/{space_id}/folder`, `GET /v2/space/{space_id}/list` (folderless Lists),
//! `GET /v2/folder/{folder_id}`, `GET /v2/folder/{folder_id}/list`, `GET /v2/list/{list_id}`
//! (with its statuses), `GET /v2/list/{list_id}/task` (paged, filtered by update time) and `GET /v2/task/{task_id}`. The task writes that share
//! these paths (`POST .../task`, `PUT|DELETE /v2/task/{task_id}`) are routed here to `tasks`.
//!
//! An unknown Space or Folder answers `OAUTH_023`, as ClickUp does for ids the token cannot
//! see; an unknown List or task answers its observed `ITEM_*` error.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    super::{
        access::Level,
        errors::ApiError,
        routes::{authorise_team, parse_id, resource},
        state::SandboxState,
        tasks,
    },
    render::{folder_json, list_detail_json, list_json, render_task, space_json},
    ListParent,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/team/{team_id}/space").route(web::get().to(get_spaces)))
        .service(
            resource("/v2/team/{team_id}/task")
                .route(web::get().to(super::team_tasks::get_team_tasks)),
        )
        .service(resource("/v2/space/{space_id}/folder").route(web::get().to(get_folders)))
        .service(resource("/v2/space/{space_id}/list").route(web::get().to(get_space_lists)))
        .service(resource("/v2/folder/{folder_id}").route(web::get().to(get_folder)))
        .service(resource("/v2/folder/{folder_id}/list").route(web::get().to(get_folder_lists)))
        .service(resource("/v2/list/{list_id}").route(web::get().to(get_list)))
        .service(
            resource("/v2/list/{list_id}/task")
                .route(web::get().to(get_tasks))
                .route(web::post().to(tasks::create_task)),
        )
        .service(
            resource("/v2/task/{task_id}")
                .route(web::get().to(get_task))
                .route(web::put().to(tasks::update_task))
                .route(web::delete().to(tasks::delete_task)),
        );
}

async fn get_spaces(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let spaces: Vec<Value> = ws
            .hierarchy
            .spaces
            .iter()
            .map(|space| space_json(ws, space))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "spaces": spaces })))
    })
}

async fn get_folders(
    state: web::Data<SandboxState>,
    space_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&space_id)?;

    state.with(|ws| {
        let hierarchy = &ws.hierarchy;
        let space = hierarchy
            .space(&space_id)
            .ok_or_else(ApiError::team_not_authorized)?;

        let folders: Vec<Value> = hierarchy
            .folders
            .iter()
            .filter(|folder| folder.space_id == space.id)
            .map(|folder| folder_json(hierarchy, folder))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "folders": folders })))
    })
}

/// Only the Space's folderless Lists, as in ClickUp; Lists in Folders come from the Folder.
async fn get_space_lists(
    state: web::Data<SandboxState>,
    space_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&space_id)?;

    state.with(|ws| {
        let hierarchy = &ws.hierarchy;
        let space = hierarchy
            .space(&space_id)
            .ok_or_else(ApiError::team_not_authorized)?;

        let lists: Vec<Value> = hierarchy
            .lists_in(&ListParent::Space(space.id.clone()))
            .map(|list| list_json(hierarchy, list))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "lists": lists })))
    })
}

async fn get_folder(
    state: web::Data<SandboxState>,
    folder_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&folder_id)?;

    state.with(|ws| {
        let hierarchy = &ws.hierarchy;
        let folder = hierarchy
            .folder(&folder_id)
            .ok_or_else(ApiError::team_not_authorized)?;
        Ok(HttpResponse::Ok().json(folder_json(hierarchy, folder)))
    })
}

async fn get_folder_lists(
    state: web::Data<SandboxState>,
    folder_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&folder_id)?;

    state.with(|ws| {
        let hierarchy = &ws.hierarchy;
        let folder = hierarchy
            .folder(&folder_id)
            .ok_or_else(ApiError::team_not_authorized)?;

        let lists: Vec<Value> = hierarchy
            .lists_in(&ListParent::Folder(folder.id.clone()))
            .map(|list| list_json(hierarchy, list))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "lists": lists })))
    })
}

async fn get_list(
    state: web::Data<SandboxState>,
    list_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(&list_id)?;

    state.with(|ws| {
        let list = ws
            .hierarchy
            .list(&list_id)
            .ok_or_else(ApiError::list_not_found)?;
        Ok(HttpResponse::Ok().json(list_detail_json(&ws.hierarchy, list)))
    })
}

/// Get Tasks as ClickUp serves it: 100 a page (`page`, from 0, `last_page` on the last),
/// subtasks only with `subtasks=true`, closed tasks only with `include_closed=true`, and
/// `date_updated_gt` / `date_created_gt` (Unix ms) keeping later tasks only.
async fn get_tasks(
    state: web::Data<SandboxState>,
    list_id: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    parse_id(&list_id)?;
    let query = ListQuery::parse(request.query_string())?;

    state.with(|ws| {
        ws.hierarchy
            .list(&list_id)
            .ok_or_else(ApiError::list_not_found)?;

        let matching: Vec<Value> = ws
            .hierarchy
            .tasks
            .iter()
            .filter(|task| task.list_id == *list_id)
            .filter(|task| query.subtasks || task.parent.is_none())
            .filter(|task| query.include_closed || task.date_closed.is_none())
            .filter(|task| {
                query
                    .updated_after
                    .is_none_or(|after| task.date_updated > after)
            })
            .filter(|task| {
                query
                    .created_after
                    .is_none_or(|after| task.date_created > after)
            })
            .skip(query.page * PAGE_SIZE)
            .take(PAGE_SIZE + 1)
            .map(|task| render_task(ws, task, Level::Create))
            .collect();
        let last_page = matching.len() <= PAGE_SIZE;
        let tasks: Vec<Value> = matching.into_iter().take(PAGE_SIZE).collect();
        Ok(HttpResponse::Ok().json(json!({ "tasks": tasks, "last_page": last_page })))
    })
}

/// Tasks per page of Get Tasks, as ClickUp serves them.
const PAGE_SIZE: usize = 100;

/// The query of one Get Tasks request.
#[derive(Debug, Default, PartialEq)]
struct ListQuery {
    page: usize,
    subtasks: bool,
    include_closed: bool,
    updated_after: Option<u64>,
    created_after: Option<u64>,
}

impl ListQuery {
    fn parse(query: &str) -> Result<ListQuery, ApiError> {
        let number = |value: &str, name: &str| {
            value
                .parse::<u64>()
                .map_err(|_| ApiError::invalid_value(format!("{name} must be a number")))
        };
        let mut parsed = ListQuery::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "page" => parsed.page = number(&value, "page")? as usize,
                "subtasks" => parsed.subtasks = value.eq_ignore_ascii_case("true"),
                "include_closed" => parsed.include_closed = value.eq_ignore_ascii_case("true"),
                "date_updated_gt" => {
                    parsed.updated_after = Some(number(&value, "date_updated_gt")?)
                }
                "date_created_gt" => {
                    parsed.created_after = Some(number(&value, "date_created_gt")?)
                }
                _ => {}
            }
        }
        Ok(parsed)
    }
}

async fn get_task(
    state: web::Data<SandboxState>,
    task_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let task = tasks::find_task(ws, &task_id)?;
        Ok(HttpResponse::Ok().json(render_task(ws, task, Level::Create)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_tasks_reads_clickups_query_parameters() {
        let cases = [
            ("", Some(ListQuery::default())),
            (
                "page=2&subtasks=true&include_closed=true&date_updated_gt=1700000000000",
                Some(ListQuery {
                    page: 2,
                    subtasks: true,
                    include_closed: true,
                    updated_after: Some(1_700_000_000_000),
                    created_after: None,
                }),
            ),
            (
                "date_created_gt=5&archived=false",
                Some(ListQuery {
                    created_after: Some(5),
                    ..ListQuery::default()
                }),
            ),
            ("page=-1", None),
            ("date_updated_gt=yesterday", None),
        ];
        for (query, expected) in cases {
            assert_eq!(ListQuery::parse(query).ok(), expected, "{query}");
        }
    }
}
