//! A person's latest IAM state, kept as the `data.user` JSON of their events merged in order.
//!
//! Full snapshots replace what is stored; partial ones overlay their fields (profile keys one
//! by one); membership events add or remove one group; lifecycle types set the status.

use serde_json::{json, Map, Value};

/// The state after applying one event of `event_type` with `data` to `stored`.
pub fn merge(stored: Option<&Value>, event_type: &str, data: &Value) -> Value {
    let incoming = data.get("user").cloned().unwrap_or_else(|| json!({}));
    let full = data.get("snapshot").and_then(Value::as_str) == Some("full");

    let mut person = match stored {
        Some(stored) if !full => overlay(stored.clone(), &incoming),
        _ => incoming,
    };

    if let Some(group) = data.get("group") {
        if event_type.contains(".membership.added.") {
            change_groups(&mut person, group, true);
        } else if event_type.contains(".membership.removed.") {
            change_groups(&mut person, group, false);
        }
    }
    if let Some(status) = status_of(event_type) {
        profile_mut(&mut person).insert("status".into(), json!(status));
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

fn overlay(mut stored: Value, incoming: &Value) -> Value {
    let Some(fields) = incoming.as_object() else {
        return stored;
    };
    for (key, value) in fields {
        if key == "profile" {
            if let Some(profile) = value.as_object() {
                let target = profile_mut(&mut stored);
                for (name, field) in profile {
                    target.insert(name.clone(), field.clone());
                }
            }
        } else if let Some(target) = stored.as_object_mut() {
            target.insert(key.clone(), value.clone());
        }
    }
    stored
}

fn profile_mut(person: &mut Value) -> &mut Map<String, Value> {
    if !person.is_object() {
        *person = json!({});
    }
    let object = person.as_object_mut().expect("made an object above");
    let profile = object.entry("profile").or_insert_with(|| json!({}));
    if !profile.is_object() {
        *profile = json!({});
    }
    profile.as_object_mut().expect("made an object above")
}

fn change_groups(person: &mut Value, group: &Value, add: bool) {
    let same = |a: &Value, b: &Value| {
        let id = |v: &Value| v.get("id").or(v.get("name")).cloned();
        id(a).is_some() && id(a) == id(b)
    };
    let profile = profile_mut(person);
    let groups = profile.entry("groups").or_insert_with(|| json!([]));
    if !groups.is_array() {
        *groups = json!([]);
    }
    let Some(list) = groups.as_array_mut() else {
        return;
    };
    list.retain(|existing| !same(existing, group));
    if add {
        list.push(group.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_events_overlay_and_full_ones_replace() {
        let stored = json!({"id": "u1", "email": "a@example.com",
            "profile": {"title": "Engineer", "department": "R&D", "status": "active"}});
        let cases = [
            (
                "partial title change",
                "com.example.iam.user.updated.v1",
                json!({"snapshot": "partial", "user": {"id": "u1", "profile": {"title": "Lead"}}}),
                json!({"id": "u1", "email": "a@example.com",
                    "profile": {"title": "Lead", "department": "R&D", "status": "active"}}),
            ),
            (
                "full snapshot",
                "com.example.iam.user.created.v1",
                json!({"snapshot": "full", "user": {"id": "u1", "profile": {"title": "New"}}}),
                json!({"id": "u1", "profile": {"title": "New"}}),
            ),
            (
                "terminated",
                "com.example.iam.user.terminated.v1",
                json!({"user": {"id": "u1"}}),
                json!({"id": "u1", "email": "a@example.com",
                    "profile": {"title": "Engineer", "department": "R&D", "status": "terminated"}}),
            ),
            (
                "group added",
                "com.example.iam.membership.added.v1",
                json!({"user": {"id": "u1"}, "group": {"id": "g1", "name": "Ops"}}),
                json!({"id": "u1", "email": "a@example.com",
                    "profile": {"title": "Engineer", "department": "R&D", "status": "active",
                        "groups": [{"id": "g1", "name": "Ops"}]}}),
            ),
        ];
        for (name, event_type, data, expected) in cases {
            assert_eq!(merge(Some(&stored), event_type, &data), expected, "{name}");
        }
    }

    #[test]
    fn a_removed_group_disappears_and_an_added_one_is_not_doubled() {
        let stored = json!({"id": "u1", "profile": {"groups": [{"id": "g1"}, {"id": "g2"}]}});
        let added = merge(
            Some(&stored),
            "x.iam.membership.added.v1",
            &json!({"group": {"id": "g1"}}),
        );
        let removed = merge(
            Some(&added),
            "x.iam.membership.removed.v1",
            &json!({"group": {"id": "g2"}}),
        );

        assert_eq!(removed["profile"]["groups"], json!([{"id": "g1"}]));
        assert_eq!(merge(None, "x.iam.user.created.v1", &json!({})), json!({}));
    }
}
