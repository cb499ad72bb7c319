//! `GET /v2/team/{team_id}/task` (Get Filtered Team Tasks): the workspace's tasks a page of
//! 100 at a time, filtered by `assignees[]`, `list_ids[]`, `statuses[]`, with closed tasks
//! only when `include_closed=true` and subtasks only when `subtasks=true`.
//!
//! Invariant: pages are stable (tasks in creation order), and `last_page` is true on the
//! last one, so a caller that pages until then sees every task once.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    super::{access::Level, errors::ApiError, routes::authorise_team, state::SandboxState},
    render::render_task,
};

/// Tasks per page, as ClickUp serves them.
const PAGE_SIZE: usize = 100;

/// The filters of one request.
#[derive(Debug, Default, PartialEq)]
struct Filters {
    page: usize,
    assignees: Vec<u64>,
    lists: Vec<String>,
    statuses: Vec<String>,
    include_closed: bool,
    subtasks: bool,
}

impl Filters {
    fn parse(query: &str) -> Result<Filters, ApiError> {
        let mut filters = Filters::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "page" => {
                    filters.page = value
                        .parse()
                        .map_err(|_| ApiError::invalid_value("page must be a number"))?
                }
                "assignees[]" | "assignees" => filters.assignees.push(
                    value
                        .parse()
                        .map_err(|_| ApiError::invalid_value("assignees must be user ids"))?,
                ),
                "list_ids[]" | "list_ids" => filters.lists.push(value.into_owned()),
                "statuses[]" | "statuses" => filters.statuses.push(value.to_lowercase()),
                "include_closed" => filters.include_closed = value.eq_ignore_ascii_case("true"),
                "subtasks" => filters.subtasks = value.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        Ok(filters)
    }
}

pub(crate) async fn get_team_tasks(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let filters = Filters::parse(request.query_string())?;

    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let matching: Vec<Value> = ws
            .hierarchy
            .tasks
            .iter()
            .filter(|task| filters.subtasks || task.parent.is_none())
            .filter(|task| filters.include_closed || task.date_closed.is_none())
            .filter(|task| {
                filters.assignees.is_empty()
                    || task.assignees.iter().any(|a| filters.assignees.contains(a))
            })
            .filter(|task| filters.lists.is_empty() || filters.lists.contains(&task.list_id))
            .filter(|task| {
                filters.statuses.is_empty()
                    || filters.statuses.contains(&task.status.to_lowercase())
            })
            .skip(filters.page * PAGE_SIZE)
            .take(PAGE_SIZE + 1)
            .map(|task| render_task(ws, task, Level::Create))
            .collect();
        let last_page = matching.len() <= PAGE_SIZE;
        let tasks: Vec<Value> = matching.into_iter().take(PAGE_SIZE).collect();
        Ok(HttpResponse::Ok().json(json!({ "tasks": tasks, "last_page": last_page })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_from_the_query_as_clickup_names_them() {
        let cases = [
            ("", Filters::default()),
            (
                "page=2&assignees[]=9001004&assignees[]=9001005&include_closed=true",
                Filters {
                    page: 2,
                    assignees: vec![9001004, 9001005],
                    include_closed: true,
                    ..Filters::default()
                },
            ),
            (
                "list_ids[]=901100000950&statuses[]=Open&subtasks=true",
                Filters {
                    lists: vec!["901100000950".into()],
                    statuses: vec!["open".into()],
                    subtasks: true,
                    ..Filters::default()
                },
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(Filters::parse(query).ok(), Some(expected), "{query}");
        }
        assert!(Filters::parse("assignees[]=abc").is_err());
        assert!(Filters::parse("page=-1").is_err());
    }
}
