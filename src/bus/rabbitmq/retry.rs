//! Retry tiers on the wire: a transiently failed delivery is copied (same body, properties
//! and message id, the attempt counted in `x-cir-retry`) to the next tier's delay queue
//! through the default exchange, its routing key kept as `CC` so that the broker brings it
//! back to its lane when the delay ends. When the tiers are used up, or when a copy fails for
//! good, it is published to the dead-letter exchange with the reason and the count in
//! headers the dead-letter reader understands. The original is acked only after the broker
//! confirmed the copy.

use std::time::Duration;

use lapin::{
    message::Delivery,
    options::BasicPublishOptions,
    types::{AMQPValue, FieldArray, FieldTable, LongString},
    BasicProperties, Channel, Confirmation,
};
use tokio::time::timeout;

use super::death::integer;
use crate::bus::topology::Names;
pub(super) use crate::bus::topology::{next, Next};

/// Retries a copy has had (absent: none).
pub(super) const RETRY_HEADER: &str = "x-cir-retry";
/// The routing key the message was first published with.
pub(super) const ROUTING_KEY_HEADER: &str = "x-cir-routing-key";
/// Why the router dead-lettered the message itself (`retries_exhausted`, `rejected`).
pub(super) const DEAD_REASON_HEADER: &str = "x-cir-dead-reason";
/// The lane's queue the message was consumed from when it was dead-lettered.
pub(super) const DEAD_QUEUE_HEADER: &str = "x-cir-dead-queue";
/// When the router dead-lettered it (ms since the epoch).
pub(super) const DEAD_AT_HEADER: &str = "x-cir-dead-at";

/// Why a copy was not confirmed; the original then goes back to its queue.
#[derive(Debug, thiserror::Error)]
pub(super) enum RepublishError {
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker did not confirm the copy in time")]
    Timeout,
    #[error("the broker refused or could not route the copy")]
    Refused,
}

/// Retries the delivery has had, from its header.
pub(super) fn retries_of(delivery: &Delivery) -> u32 {
    delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(RETRY_HEADER))
        .and_then(integer)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

/// The routing key the message was first published with.
pub(super) fn original_routing_key(delivery: &Delivery) -> String {
    delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(ROUTING_KEY_HEADER))
        .and_then(|value| match value {
            AMQPValue::LongString(s) => Some(s.to_string()),
            AMQPValue::ShortString(s) => Some(s.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| delivery.routing_key.to_string())
}

/// Copies the delivery to the delay queue of `tier` as retry number `retry`.
pub(super) async fn delay(
    channel: &Channel,
    queue: &str,
    delivery: &Delivery,
    retry: u32,
    bound: Duration,
) -> Result<(), RepublishError> {
    let key = original_routing_key(delivery);
    let mut headers = headers_of(delivery, retry, &key);
    headers.insert(
        "CC".into(),
        AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::LongString(
            LongString::from(key.as_str()),
        )])),
    );
    let properties = delivery.properties.clone().with_headers(headers);
    publish(channel, "", queue, delivery, properties, bound).await
}

/// Publishes the delivery to the dead-letter exchange under its original routing key, saying
/// why (`reason`), from which lane queue and after how many retries.
pub(super) async fn dead_letter(
    channel: &Channel,
    names: &Names,
    lane_queue: &str,
    delivery: &Delivery,
    reason: &str,
    bound: Duration,
) -> Result<(), RepublishError> {
    let key = original_routing_key(delivery);
    let mut headers = headers_of(delivery, retries_of(delivery), &key);
    let text = |value: &str| AMQPValue::LongString(LongString::from(value));
    headers.insert(DEAD_REASON_HEADER.into(), text(reason));
    headers.insert(DEAD_QUEUE_HEADER.into(), text(lane_queue));
    headers.insert(
        DEAD_AT_HEADER.into(),
        AMQPValue::LongLongInt(chrono::Utc::now().timestamp_millis()),
    );
    let properties = delivery.properties.clone().with_headers(headers);
    let exchange = names.dead_exchange();
    publish(channel, &exchange, &key, delivery, properties, bound).await
}

/// The delivery's headers without a `CC` list, with the retry count and the original key.
fn headers_of(delivery: &Delivery, retry: u32, key: &str) -> FieldTable {
    let mut headers = FieldTable::default();
    if let Some(existing) = delivery.properties.headers() {
        for (name, value) in existing.inner() {
            if name.as_str() != "CC" {
                headers.insert(name.clone(), value.clone());
            }
        }
    }
    headers.insert(
        RETRY_HEADER.into(),
        AMQPValue::LongLongInt(i64::from(retry)),
    );
    headers.insert(
        ROUTING_KEY_HEADER.into(),
        AMQPValue::LongString(LongString::from(key)),
    );
    headers
}

async fn publish(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    delivery: &Delivery,
    properties: BasicProperties,
    bound: Duration,
) -> Result<(), RepublishError> {
    let options = BasicPublishOptions {
        mandatory: true,
        immediate: false,
    };
    let confirmed = async {
        channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                options,
                &delivery.data,
                properties,
            )
            .await?
            .await
    };
    match timeout(bound, confirmed).await {
        Err(_) => Err(RepublishError::Timeout),
        Ok(Err(e)) => Err(e.into()),
        Ok(Ok(Confirmation::Ack(None))) => Ok(()),
        Ok(Ok(_)) => Err(RepublishError::Refused),
    }
}
