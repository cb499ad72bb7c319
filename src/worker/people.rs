//! A person's latest IAM state, kept as the `data.user` JSON of their events merged field by
//! field in event-time order.
//!
//! Events cross lanes and sources, so they may arrive out of order. Each field (top-level user
//! fields, profile keys one by one, each group) remembers the time of the event that last set
//! it, in `_times` and `_groups`; an older event never overwrites a newer value, and a newer
//! one always does. A full snapshot also clears fields it leaves out, when it is newer than
//! them. Lifecycle types set the status, and so do a re-enable's or a rehire's lifecycle when
//! the type and the profile do not (a rehire is a `user.created`), a rehire also dropping the
//! earlier employment's end; membership events add or remove one group.

use serde_json::{json, Map, Value};

/// Bookkeeping keys in the stored JSON (not IAM attributes).
const TIMES: &str = "_times";
const GROUPS: &str = "_groups";

/// The state after applying one event of `event_type` at `time` (epoch ms) to `stored`.
pub fn merge(stored: Option<&Value>, event_type: &str, data: &Value, time: i64) -> Value {
    let mut person = stored
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let incoming = data.get("user").cloned().unwrap_or_else(|| json!({}));
    let full = data.get("snapshot").and_then(Value::as_str) == Some("full");

    if let Some(fields) = incoming.as_object() {
        for (key, value) in fields {
            match (key.as_str(), value.as_object()) {
                ("profile", Some(profile)) => {
                    for (name, field) in profile {
                        set(&mut person, &format!("profile.{name}"), field, time);
                    }
                }
                _ => set(&mut person, key, value, time),
            }
        }
        if full {
            clear_missing(&mut person, &incoming, time);
        }
    }

    if let Some(group) = data.get("group") {
        if event_type.contains(".membership.added.") {
            change_group(&mut person, group, true, time);
        } else if event_type.contains(".membership.removed.") {
            change_group(&mut person, group, false, time);
        }
    }
    if let Some(status) = status_of(event_type) {
        set(&mut person, "profile.status", &json!(status), time);
    } else if let Some(status) = status_of_lifecycle(data, &incoming) {
        set(&mut person, "profile.status", &json!(status), time);
    }
    if data.get("lifecycle").and_then(Value::as_str) == Some("rehire") {
        clear_earlier_ends(&mut person, &incoming, time);
    }
    person
}

/// The status an event type implies, when it implies one.
pub fn status_of(event_type: &str) -> Option<&'static str> {
    let kinds = [
        (".user.terminated.", "terminated"),
        (".user.disabled.", "disabled"),
        (".user.deleted.", "deleted"),
        (".user.enabled.", "active"),
    ];
    kinds
        .iter()
        .find(|(kind, _)| event_type.contains(kind))
        .map(|(_, status)| *status)
}

/// The status a re-enable or a rehire implies when its type does not (a rehire comes as
/// `user.created`) and its profile carries no status of its own: active again.
fn status_of_lifecycle(data: &Value, incoming: &Value) -> Option<&'static str> {
    let lifecycle = data.get("lifecycle").and_then(Value::as_str)?;
    let carried = incoming["profile"]
        .as_object()
        .is_some_and(|profile| profile.contains_key("status"));
    (matches!(lifecycle, "enable" | "rehire") && !carried).then_some("active")
}

/// A rehire starts a new employment: the end of the earlier one (`end_date`, `end_at` set
/// before the rehire) does not carry over unless the rehire sends it again.
fn clear_earlier_ends(person: &mut Value, incoming: &Value, time: i64) {
    for name in ["end_date", "end_at"] {
        let path = format!("profile.{name}");
        let sent = incoming["profile"]
            .as_object()
            .is_some_and(|profile| profile.contains_key(name));
        let earlier = person[TIMES][&path].as_i64().is_some_and(|set| set < time);
        if !sent && earlier {
            let (container, key) = slot(person, &path);
            container.remove(key);
            stamp(person, &path, time);
        }
    }
}

/// Sets `path` (`key` or `profile.key`) unless a newer event set it already.
fn set(person: &mut Value, path: &str, value: &Value, time: i64) {
    if !newer(person, path, time) || removal_kept(person, path, value, time) {
        return;
    }
    let (container, key) = slot(person, path);
    container.insert(key.to_string(), value.clone());
    if path == "profile.groups" {
        // A full group list replaces what membership events said before it.
        if let Some(groups) = person.get_mut(GROUPS).and_then(Value::as_object_mut) {
            groups.retain(|_, entry| entry["t"].as_i64().unwrap_or(0) > time);
        }
    }
    stamp(person, path, time);
}

/// A newer full snapshot clears the profile fields it leaves out.
fn clear_missing(person: &mut Value, incoming: &Value, time: i64) {
    let present: Vec<String> = incoming["profile"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let stored: Vec<String> = person["profile"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for name in stored.into_iter().filter(|name| !present.contains(name)) {
        let path = format!("profile.{name}");
        if newer(person, &path, time) {
            let (container, key) = slot(person, &path);
            container.remove(key);
            stamp(person, &path, time);
        }
    }
}

fn change_group(person: &mut Value, group: &Value, member: bool, time: i64) {
    let Some(id) = group
        .get("id")
        .or(group.get("name"))
        .and_then(Value::as_str)
        .map(String::from)
    else {
        return;
    };
    let groups = object_at(person, GROUPS);
    let known = groups
        .get(&id)
        .and_then(|entry| entry["t"].as_i64())
        .unwrap_or(i64::MIN);
    if known > time {
        return;
    }
    groups.insert(id.clone(), json!({ "t": time, "member": member }));

    let (profile, _) = slot(person, "profile.groups");
    let list = profile.entry("groups").or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(list) = list.as_array_mut() {
        list.retain(|existing| {
            existing
                .get("id")
                .or(existing.get("name"))
                .and_then(Value::as_str)
                != Some(id.as_str())
        });
        if member {
            list.push(group.clone());
        }
    }
}

/// Whether a status of the same event time must not replace the removal on record: when the
/// IAM cannot order a joiner and a leaver (one millisecond), the person stays removed rather
/// than keep access they may have lost.
fn removal_kept(person: &Value, path: &str, value: &Value, time: i64) -> bool {
    let removal =
        |status: Option<&str>| matches!(status, Some("terminated" | "disabled" | "deleted"));
    path == "profile.status"
        && person[TIMES][path].as_i64() == Some(time)
        && removal(person["profile"]["status"].as_str())
        && !removal(value.as_str())
}

fn newer(person: &Value, path: &str, time: i64) -> bool {
    person[TIMES][path]
        .as_i64()
        .is_none_or(|known| time >= known)
}

fn stamp(person: &mut Value, path: &str, time: i64) {
    object_at(person, TIMES).insert(path.to_string(), json!(time));
}

/// The object holding `path`'s value, and the key within it.
fn slot<'a>(person: &'a mut Value, path: &'a str) -> (&'a mut Map<String, Value>, &'a str) {
    match path.strip_prefix("profile.") {
        Some(key) => (object_at(person, "profile"), key),
        None => (root(person), path),
    }
}

fn root(person: &mut Value) -> &mut Map<String, Value> {
    if !person.is_object() {
        *person = json!({});
    }
    match person {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

fn object_at<'a>(person: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    let entry = root(person).entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    match entry {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

#[cfg(test)]
mod tests;
