//! Webhook management as ClickUp offers it: `POST|GET /v2/team/{team_id}/webhook` and
//! `PUT|DELETE /v2/webhook/{webhook_id}`, with the webhook object, its secret and health.
//!
//! Invariants: a webhook belongs to the token owner; one endpoint, event set and location
//! can be registered once (`OAUTH_171`); only the most specific location given is kept, and
//! location ids come back as strings although the create body takes integers. Which
//! webhooks hear a task event is decided here too ([`WebhookRecord::hears`]).

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::{
    body::Body,
    errors::ApiError,
    hierarchy::TaskScope,
    routes::{authorise_team, resource},
    state::{random_code, SandboxState, Workspace},
};

/// Every event ClickUp can send, besides `"*"` for all of them.
pub(crate) const EVENTS: [&str; 28] = [
    "taskCreated",
    "taskUpdated",
    "taskDeleted",
    "taskPriorityUpdated",
    "taskStatusUpdated",
    "taskAssigneeUpdated",
    "taskDueDateUpdated",
    "taskTagUpdated",
    "taskMoved",
    "taskCommentPosted",
    "taskCommentUpdated",
    "taskTimeEstimateUpdated",
    "taskTimeTrackedUpdated",
    "listCreated",
    "listUpdated",
    "listDeleted",
    "folderCreated",
    "folderUpdated",
    "folderDeleted",
    "spaceCreated",
    "spaceUpdated",
    "spaceDeleted",
    "goalCreated",
    "goalUpdated",
    "goalDeleted",
    "keyResultCreated",
    "keyResultUpdated",
    "keyResultDeleted",
];

/// A webhook's health, as ClickUp reports it in `health.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    Active,
    Failing,
    Suspended,
}

impl Health {
    fn as_str(self) -> &'static str {
        match self {
            Health::Active => "active",
            Health::Failing => "failing",
            Health::Suspended => "suspended",
        }
    }
}

/// Where a webhook listens; at most one field is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Location {
    pub task_id: Option<String>,
    pub list_id: Option<String>,
    pub folder_id: Option<String>,
    pub space_id: Option<String>,
}

impl Location {
    /// Reads the location fields and keeps the most specific one given.
    fn from_body(body: &Body) -> Result<Self, ApiError> {
        let task_id = body.optional_str("task_id")?.map(str::to_owned);
        let list_id = body.optional_integer("list_id")?.map(|id| id.to_string());
        let folder_id = body.optional_integer("folder_id")?.map(|id| id.to_string());
        let space_id = body.optional_integer("space_id")?.map(|id| id.to_string());

        let location = match (task_id, list_id, folder_id, space_id) {
            (Some(task_id), ..) => Location {
                task_id: Some(task_id),
                ..Location::default()
            },
            (None, Some(list_id), ..) => Location {
                list_id: Some(list_id),
                ..Location::default()
            },
            (None, None, Some(folder_id), _) => Location {
                folder_id: Some(folder_id),
                ..Location::default()
            },
            (None, None, None, space_id) => Location {
                space_id,
                ..Location::default()
            },
        };
        Ok(location)
    }

    /// Whether a task in `scope` is in this location; no location is the whole workspace.
    pub fn contains(&self, scope: &TaskScope) -> bool {
        let same = |mine: &Option<String>, theirs: Option<&str>| mine.as_deref() == theirs;

        match self {
            Location {
                task_id: Some(_), ..
            } => same(&self.task_id, Some(&scope.task_id)),
            Location {
                list_id: Some(_), ..
            } => same(&self.list_id, Some(&scope.list_id)),
            Location {
                folder_id: Some(_), ..
            } => same(&self.folder_id, scope.folder_id.as_deref()),
            Location {
                space_id: Some(_), ..
            } => same(&self.space_id, scope.space_id.as_deref()),
            _ => true,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct WebhookRecord {
    pub id: String,
    pub userid: u64,
    pub endpoint: String,
    pub events: Vec<String>,
    pub location: Location,
    pub health: Health,
    pub fail_count: u32,
    pub secret: String,
}

impl WebhookRecord {
    fn to_json(&self, ws: &Workspace) -> Value {
        json!({
            "id": self.id,
            "userid": self.userid,
            "team_id": ws.team_id,
            "endpoint": self.endpoint,
            "client_id": ws.client_id,
            "events": self.events,
            "task_id": self.location.task_id,
            "list_id": self.location.list_id,
            "folder_id": self.location.folder_id,
            "space_id": self.location.space_id,
            "health": { "status": self.health.as_str(), "fail_count": self.fail_count },
            "secret": self.secret
        })
    }

    /// Whether this webhook is sent `event` for a task in `scope`: it must not be suspended,
    /// must subscribe to the event or to `"*"`, and its location must contain the task.
    pub fn hears(&self, event: &str, scope: &TaskScope) -> bool {
        self.health != Health::Suspended
            && self
                .events
                .iter()
                .any(|wanted| wanted == "*" || wanted == event)
            && self.location.contains(scope)
    }

    fn same_config(&self, endpoint: &str, events: &[String], location: &Location) -> bool {
        let mut mine = self.events.clone();
        let mut theirs = events.to_vec();
        mine.sort();
        theirs.sort();

        self.endpoint == endpoint && mine == theirs && self.location == *location
    }
}

impl SandboxState {
    /// Sets a webhook's health as failed deliveries would leave it (`active`, `failing`,
    /// `suspended`), for tests; `false` when there is no such webhook or status.
    pub fn set_webhook_health(&self, id: &str, status: &str, fail_count: u32) -> bool {
        let health = match status {
            "active" => Health::Active,
            "failing" => Health::Failing,
            "suspended" => Health::Suspended,
            _ => return false,
        };
        self.with(|ws| match ws.webhooks.iter_mut().find(|w| w.id == id) {
            Some(webhook) => {
                webhook.health = health;
                webhook.fail_count = fail_count;
                true
            }
            None => false,
        })
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v2/team/{team_id}/webhook")
            .route(web::post().to(create_webhook))
            .route(web::get().to(list_webhooks)),
    )
    .service(
        resource("/v2/webhook/{webhook_id}")
            .route(web::put().to(update_webhook))
            .route(web::delete().to(delete_webhook)),
    );
}

fn checked_endpoint(body: &Body) -> Result<String, ApiError> {
    let endpoint = body.required_str("endpoint")?.trim();
    if endpoint.is_empty() {
        return Err(ApiError::invalid_value("Endpoint invalid"));
    }
    // Unlike ClickUp, the stand-in takes only endpoints it may deliver to: loopback.
    if super::delivery::loopback_url(endpoint).is_err() {
        return Err(ApiError::invalid_value(
            "Endpoint invalid: the sandbox delivers to loopback addresses only",
        ));
    }
    Ok(endpoint.to_owned())
}

fn checked_events(body: &Body, star_string_allowed: bool) -> Result<Vec<String>, ApiError> {
    let events = body.required_str_list("events", star_string_allowed)?;
    if events.is_empty() {
        return Err(ApiError::invalid_value("At least one event is required"));
    }

    match events
        .iter()
        .find(|event| *event != "*" && !EVENTS.contains(&event.as_str()))
    {
        Some(unknown) => Err(ApiError::invalid_value(format!("Invalid event: {unknown}"))),
        None => Ok(events),
    }
}

async fn create_webhook(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let body = Body::parse(&bytes)?;
        let endpoint = checked_endpoint(&body)?;
        let events = checked_events(&body, false)?;
        let location = Location::from_body(&body)?;

        let owner_id = ws.owner_id;
        let duplicate = ws.webhooks.iter().any(|webhook| {
            webhook.userid == owner_id && webhook.same_config(&endpoint, &events, &location)
        });
        if duplicate {
            return Err(ApiError::webhook_exists());
        }

        let webhook = WebhookRecord {
            id: uuid::Uuid::new_v4().to_string(),
            userid: owner_id,
            endpoint,
            events,
            location,
            health: Health::Active,
            fail_count: 0,
            secret: random_code(64),
        };
        let answer = json!({ "id": webhook.id, "webhook": webhook.to_json(ws) });
        tracing::debug!(webhook_id = %webhook.id, "clickup sandbox created a webhook");
        ws.webhooks.push(webhook);
        Ok(HttpResponse::Ok().json(answer))
    })
}

/// Lists the webhooks the calling user created (every token belongs to the owner).
async fn list_webhooks(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let webhooks: Vec<Value> = ws
            .webhooks
            .iter()
            .filter(|webhook| webhook.userid == ws.owner_id)
            .map(|webhook| webhook.to_json(ws))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "webhooks": webhooks })))
    })
}

/// Replaces endpoint and events; `status: "active"` also resets the health, which is how
/// a suspended webhook is brought back.
async fn update_webhook(
    state: web::Data<SandboxState>,
    webhook_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let body = Body::parse(&bytes)?;
        let endpoint = checked_endpoint(&body)?;
        let events = checked_events(&body, true)?;
        let health = match body.required_str("status")? {
            "active" => Health::Active,
            "suspended" => Health::Suspended,
            other => return Err(ApiError::invalid_value(format!("Invalid status: {other}"))),
        };

        let webhook = ws
            .webhooks
            .iter_mut()
            .find(|webhook| webhook.id == *webhook_id)
            .ok_or_else(ApiError::webhook_not_found)?;
        webhook.endpoint = endpoint;
        webhook.events = events;
        webhook.health = health;
        if health == Health::Active {
            webhook.fail_count = 0;
        }

        let webhook = webhook.clone();
        Ok(HttpResponse::Ok().json(json!({ "id": webhook.id, "webhook": webhook.to_json(ws) })))
    })
}

async fn delete_webhook(
    state: web::Data<SandboxState>,
    webhook_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let before = ws.webhooks.len();
        ws.webhooks.retain(|webhook| webhook.id != *webhook_id);

        if ws.webhooks.len() == before {
            return Err(ApiError::webhook_not_found());
        }
        Ok(HttpResponse::Ok().json(json!({})))
    })
}

#[cfg(test)]
mod tests;
