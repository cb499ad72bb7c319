//! Helpers for webhook tests: an access-request intake List to work on, webhook
//! registration for a receiver, and the checks every history item must pass.

use reqwest::Method;
use serde_json::{json, Value};

use super::{
    super::{CustomFieldType, Role, Sandbox},
    call, register_webhook, Receiver, TEAM,
};

/// An intake List (in a Folder) with ClickUp-like statuses and Custom Fields, a second List
/// elsewhere, a member and a guest.
pub(crate) struct Intake {
    pub space: String,
    pub folder: String,
    pub list: String,
    /// A List in another Space.
    pub other_list: String,
    pub other_space: String,
    pub alice: u64,
    pub carol: u64,
    /// The drop-down "Access Tier" with options Standard (0) and Privileged (1).
    pub tier: String,
    pub standard: String,
    pub privileged: String,
    /// The number field "Ticket Number".
    pub ticket: String,
    /// A field on `other_list`.
    pub other_field: String,
}

pub(crate) fn seed_intake(sandbox: &Sandbox) -> Intake {
    let state = sandbox.state();
    let space = state.add_space("Engineering");
    let folder = state.add_folder(&space, "Platform");
    let list = state.add_list_in_folder(&folder, "Access Requests");
    let other_space = state.add_space("Finance");
    let other_list = state.add_list(&other_space, "Budgets");
    let statuses = [
        ("requested", "open"),
        ("approved", "custom"),
        ("granted", "closed"),
    ];
    state
        .set_list_statuses(&list, &statuses)
        .expect("intake statuses");
    let alice = state.add_member("alice@example.com", "Alice Admin", Role::Admin);
    let carol = state.add_guest("carol@example.com", "Carol Contractor");
    let options = ["Standard", "Privileged"];
    let tier = state.add_custom_field(&list, "Access Tier", CustomFieldType::DropDown, &options);
    let ticket = state.add_custom_field(&list, "Ticket Number", CustomFieldType::Number, &[]);
    let other_field =
        state.add_custom_field(&other_list, "Cost Centre", CustomFieldType::ShortText, &[]);
    let option_ids: Vec<String> = state.custom_fields(&list)[0]
        .options
        .iter()
        .map(|option| option.id.clone())
        .collect();

    Intake {
        space,
        folder,
        list,
        other_list,
        other_space,
        alice,
        carol,
        tier,
        standard: option_ids[0].clone(),
        privileged: option_ids[1].clone(),
        ticket,
        other_field,
    }
}

/// Registers a webhook for the receiver's endpoint (plus `?hook={label}`, so that several
/// hooks with the same events and location can coexist) with `settings` (events and a
/// location), and tells the receiver its secret; returns the webhook id.
pub(crate) async fn hook(
    sandbox: &Sandbox,
    receiver: &Receiver,
    label: &str,
    settings: Value,
) -> String {
    let mut body = settings;
    body["endpoint"] = json!(format!("{}?hook={label}", receiver.url));

    let (id, secret) = register_webhook(sandbox, body).await;
    receiver.expect(&id, &secret);
    id
}

/// `(status, fail_count)` of a webhook as `GET /v2/team/{team_id}/webhook` reports it.
pub(crate) async fn health(sandbox: &Sandbox, id: &str) -> (String, u64) {
    let path = format!("/v2/team/{TEAM}/webhook");
    let reply = call(sandbox, Method::GET, &path, None).await;
    let webhooks = reply.body["webhooks"].as_array().expect("webhooks").clone();
    let webhook = webhooks.iter().find(|w| w["id"] == id).expect("listed");

    let status = webhook["health"]["status"].as_str().expect("status");
    let fail_count = webhook["health"]["fail_count"].as_u64().expect("count");
    (status.to_owned(), fail_count)
}

/// The user object ClickUp puts in history items, spelled out from the user's facts.
pub(crate) fn user_object(id: u64, username: &str, email: &str, initials: &str) -> Value {
    json!({
        "id": id,
        "username": username,
        "email": email,
        "initials": initials,
        "profilePicture": null
    })
}

/// Checks a history item's envelope: a 19-digit numeric id, type 1, a millisecond date
/// string, the List as `parent_id`, a null `source` and the acting user (compared without
/// its colour, which must be a `#` colour). Returns the item id.
pub(crate) fn check_envelope(item: &Value, list_id: &str, actor: &Value) -> String {
    let id = item["id"].as_str().expect("string item id");
    assert_eq!(id.len(), 19, "{item}");
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{item}");
    assert_eq!(item["type"], 1, "{item}");
    let date = item["date"].as_str().expect("string date");
    assert!(
        date.parse::<u64>().is_ok_and(|ms| ms > 1_600_000_000_000),
        "{item}"
    );
    assert_eq!(item["parent_id"], list_id, "{item}");
    assert_eq!(item["source"], Value::Null, "{item}");

    assert_eq!(&uncoloured(&item["user"]), actor, "{item}");
    id.to_owned()
}

/// A user object (one with an `email`) without its `color`, which must be a `#` colour,
/// to compare with [`user_object`]; other values as they are.
pub(crate) fn uncoloured(value: &Value) -> Value {
    let mut value = value.clone();
    let Some(user) = value.as_object_mut().filter(|v| v.contains_key("email")) else {
        return value;
    };

    let color = user.remove("color").unwrap_or_default();
    assert!(
        color.as_str().is_some_and(|c| c.starts_with('#')),
        "{value}"
    );
    value
}

/// The events of deliveries, in order.
pub(crate) fn events(bodies: &[Value]) -> Vec<&str> {
    bodies
        .iter()
        .map(|body| body["event"].as_str().unwrap_or_default())
        .collect()
}
