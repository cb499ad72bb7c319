//! The page handlers: each admits the session's person (or sends the browser to sign in),
//! checks its query, reads the record and renders its template.

use std::collections::HashMap;

use actix_session::Session;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::{
    html,
    session::{self, Role, SignedIn, ADMIN, AUDIT, REQUESTS},
    signin,
    views::{
        AccessRow, DeadLetterRow, DeadLettersPage, ExpiringPage, GrantRow, IndexPage, Nav,
        ObjectPage, ObjectView, PersonPage, PersonView, RequestRow, RequestsPage,
    },
    UiError, UiState,
};
use crate::timeline::{
    parse_time,
    query::{hierarchy, object_access, person_timeline, Hierarchy, Unread},
    ObjectKey,
};

/// Days the expiring page looks ahead unless told.
const DEFAULT_DAYS: u32 = 14;
const MAX_DAYS: u32 = 365;
/// Dead letters per page.
const PAGE_SIZE: u32 = 50;

/// The page's reader, or the answer instead of the page: a redirect to sign in when there
/// is no current session, 403 when the roles do not fit.
async fn admit(
    state: &UiState,
    session: &Session,
    request: &HttpRequest,
    allowed: &[Role],
) -> Result<Result<SignedIn, HttpResponse>, UiError> {
    let Some(user) = session::signed_in(&state.store, session, Utc::now().timestamp()).await?
    else {
        let next = match request.query_string() {
            "" => request.path().to_owned(),
            query => format!("{}?{query}", request.path()),
        };
        return signin::begin(state, session, &next).await.map(Err);
    };
    if !user.may(allowed) {
        let needed: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        return Err(UiError::Forbidden(format!(
            "This page needs one of the roles {}; you have {}.",
            needed.join(", "),
            match user.roles.is_empty() {
                true => "none".to_owned(),
                false => user.role_names(),
            }
        )));
    }
    Ok(Ok(user))
}

/// Runs `admit` and returns its redirect from the handler when there is one.
macro_rules! admitted {
    ($state:expr, $session:expr, $request:expr, $allowed:expr) => {
        match admit(&$state, &$session, &$request, $allowed).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        }
    };
}

fn page(template: impl Template) -> Result<HttpResponse, UiError> {
    Ok(html(StatusCode::OK, template.render()?))
}

pub(super) async fn index(
    state: web::Data<UiState>,
    session: Session,
    request: HttpRequest,
) -> Result<HttpResponse, UiError> {
    let user = admitted!(state, session, request, REQUESTS);
    page(IndexPage {
        nav: Some(Nav::of(&user)),
    })
}

#[derive(Deserialize)]
pub(super) struct PersonQuery {
    who: Option<String>,
}

pub(super) async fn person(
    state: web::Data<UiState>,
    session: Session,
    request: HttpRequest,
    query: web::Query<PersonQuery>,
) -> Result<HttpResponse, UiError> {
    let user = admitted!(state, session, request, AUDIT);
    let who = query.who.as_deref().unwrap_or_default().trim().to_owned();
    if who.chars().count() > 320 {
        return Err(UiError::BadInput(
            "An email or IAM id is at most 320 characters.".into(),
        ));
    }

    let person = match who.is_empty() {
        true => None,
        false => person_timeline(&state.store, &who)
            .await?
            .map(PersonView::of),
    };
    page(PersonPage {
        nav: Some(Nav::of(&user)),
        who,
        person,
    })
}

#[derive(Deserialize)]
pub(super) struct ObjectQuery {
    object: Option<String>,
    at: Option<String>,
}

pub(super) async fn object(
    state: web::Data<UiState>,
    session: Session,
    request: HttpRequest,
    query: web::Query<ObjectQuery>,
) -> Result<HttpResponse, UiError> {
    let user = admitted!(state, session, request, AUDIT);
    let text = query
        .object
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let at_text = query.at.as_deref().unwrap_or_default().trim().to_owned();
    let at = match at_text.is_empty() {
        true => None,
        false => Some(parse_time(&at_text).map_err(|e| UiError::BadInput(e.to_string()))?),
    };
    if text.is_empty() {
        return page(ObjectPage {
            nav: Some(Nav::of(&user)),
            object: text,
            at: at_text,
            found: None,
        });
    }
    let key: ObjectKey = text
        .parse()
        .map_err(|e: crate::timeline::ObjectKeyError| UiError::BadInput(e.to_string()))?;

    // Unlike the API, the page goes on when ClickUp fails, and says what is not counted.
    let hierarchy = hierarchy(state.clickup.as_ref(), &key)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "ui: hierarchy not read");
            Hierarchy::Unknown {
                reason: Unread::ClickupUnavailable,
            }
        });
    let found = object_access(&state.store, &key, hierarchy, at).await?;
    let name = |iam_id: &str| found.emails.get(iam_id).cloned();
    let heading = match at {
        Some(at) => format!(
            "Who had access to {} at {}",
            found.object,
            super::views::time(at)
        ),
        None => format!("Every access to {}", found.object),
    };
    let rows = found
        .access
        .iter()
        .map(|access| AccessRow::of(access, &name))
        .collect();
    page(ObjectPage {
        nav: Some(Nav::of(&user)),
        object: text,
        at: at_text,
        found: Some(ObjectView {
            heading,
            hierarchy_note: found.note.unwrap_or_default().to_owned(),
            rows,
        }),
    })
}

pub(super) async fn requests(
    state: web::Data<UiState>,
    session: Session,
    request: HttpRequest,
) -> Result<HttpResponse, UiError> {
    let user = admitted!(state, session, request, REQUESTS);
    let open = state.store.open_requests().await?;
    let mut people: Vec<String> = open
        .iter()
        .flat_map(|r| r.iam_id.iter().chain(&r.approver_iam_ids))
        .cloned()
        .collect();
    people.sort();
    people.dedup();
    let emails = state.store.emails_of(&people).await?;
    page(RequestsPage {
        nav: Some(Nav::of(&user)),
        rows: open.iter().map(|r| RequestRow::of(r, &emails)).collect(),
    })
}

#[derive(Deserialize)]
pub(super) struct ExpiringQuery {
    days: Option<String>,
}

pub(super) async fn expiring(
    state: web::Data<UiState>,
    session: Session,
    request: HttpRequest,
    query: web::Query<ExpiringQuery>,
) -> Result<HttpResponse, UiError> {
    let user = admitted!(state, session, request, AUDIT);
    let days = match query.days.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_DAYS,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|days| (1..=MAX_DAYS).contains(days))
            .ok_or_else(|| {
                UiError::BadInput(format!("days must be a whole number from 1 to {MAX_DAYS}"))
            })?,
    };

    let horizon = Utc::now() + Duration::days(i64::from(days));
    let grants = state
        .store
        .grants_ending_before(horizon.timestamp_millis())
        .await?;
    let mut people: Vec<String> = grants.iter().map(|g| g.iam_id.clone()).collect();
    people.sort();
    people.dedup();
    let emails: HashMap<String, String> = state.store.emails_of(&people).await?;
    page(ExpiringPage {
        nav: Some(Nav::of(&user)),
        days,
        rows: grants.iter().map(|g| GrantRow::of(g, &emails)).collect(),
    })
}

#[derive(Deserialize)]
pub(super) struct DeadLetterQuery {
    after: Option<String>,
}

pub(super) async fn dead_letters(
    state: web::Data<UiState>,
    session: Session,
    request: HttpRequest,
    query: web::Query<DeadLetterQuery>,
) -> Result<HttpResponse, UiError> {
    let user = admitted!(state, session, request, ADMIN);
    let after = match query.after.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| UiError::BadInput("after must be the id of a dead letter".into()))?,
        ),
    };

    let letters = state.store.dead_letters(PAGE_SIZE, after, None).await?;
    let next = match letters.len() == PAGE_SIZE as usize {
        true => letters.last().map(|letter| letter.id),
        false => None,
    };
    page(DeadLettersPage {
        nav: Some(Nav::of(&user)),
        after,
        next,
        rows: letters.iter().map(DeadLetterRow::of).collect(),
    })
}

pub(super) async fn not_found() -> Result<HttpResponse, UiError> {
    Err(UiError::NotFound)
}
