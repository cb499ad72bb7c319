//! `rules explain` for the approvals lane: an access request's decision taken in the IAM's
//! workflow is not an identity event and changes no rules plan; what the lane would do with
//! it depends on the request the router opened in the IAM, read from the record when given.

use serde_json::Value;

use super::record::Record;
use crate::{
    rules::{DecideIn, RuleSet},
    store::RequestState,
};

pub(super) async fn explain(rules: &RuleSet, record: &Record, data: &Value) -> anyhow::Result<()> {
    println!(
        "Not an identity event: it changes no identity rules plan. The approvals lane only decides \
         the access request the router opened in the IAM for it."
    );
    let decided = &data["request"];
    let request_id = decided["request_id"].as_str().unwrap_or_default();
    let text = |value: &Value| value.as_str().unwrap_or("?").to_owned();
    let approver = &decided["approver"];
    let approver = approver["email"]
        .as_str()
        .or(approver["display_name"].as_str())
        .or(approver["dn"].as_str())
        .unwrap_or("?");
    println!(
        "the event says: request {request_id} ({}, confirmation {}) {} by {approver} at {}",
        text(&decided["item"]["name"]),
        text(&decided["confirmation_number"]),
        text(&decided["decision"]),
        text(&decided["decided_at"]),
    );

    let Some(store) = record.store() else {
        println!(
            "Without --database-url, whether the router opened request {request_id} is not known.\n"
        );
        return Ok(());
    };
    let Some(request) = store.request_by_iam_id(request_id).await? else {
        println!(
            "The router opened no request {request_id} in the IAM: the lane records the event as ignored.\n"
        );
        return Ok(());
    };

    let area = request.area.as_deref().unwrap_or("?");
    println!(
        "on record: access request task {} (area {area}, {} at {}), state {}",
        request.task_id,
        request.object.as_deref().unwrap_or("?"),
        request.level.as_deref().unwrap_or("?"),
        request.state.as_str()
    );
    let decided_in_iam = rules
        .access_policy()
        .and_then(|policy| policy.areas.iter().find(|a| a.name == area))
        .is_some_and(|a| a.decide_in == DecideIn::Iam);
    if request.state == RequestState::Pending && decided_in_iam {
        println!(
            "It waits for the IAM: the lane reads the IAM's request history for the decision (the \
             event is only a signal); approved, the request's access is granted, time-bound, by the \
             same planner as the rules.\n"
        );
    } else {
        println!(
            "It is not waiting for the IAM's decision: the lane records the event as ignored.\n"
        );
    }
    Ok(())
}
