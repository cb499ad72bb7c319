//! Declares the topology: exchanges, quorum queues with a delivery limit and at-least-once
//! dead-lettering, and their bindings; one delay queue per retry tier (message TTL, then
//! dead-lettered back to the events exchange; no consumer). Every declaration is idempotent.
//!
//! A queue that already exists with other arguments (say, another delivery limit) is kept as
//! it is, with a warning: the broker refuses to change arguments, and refusing to start over
//! it would stop every webhook. Change such settings with a policy or by recreating the queue.

use std::time::Duration;

use lapin::{
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
    Channel, Connection, ExchangeKind,
};
use tracing::warn;

use crate::{
    bus::topology::{Lane, Names},
    config::BusSettings,
};

/// Declares everything; returns an open channel (a fresh one if a refused declaration
/// closed the first).
pub(super) async fn topology(
    connection: &Connection,
    names: &Names,
    settings: &BusSettings,
) -> lapin::Result<Channel> {
    let delivery_limit = settings.delivery_limit;
    let mut channel = connection.create_channel().await?;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for exchange in [names.events_exchange(), names.dead_exchange()] {
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
    }

    queue(&mut channel, connection, &names.dead_queue(), quorum()).await?;
    bind(&channel, &names.dead_queue(), &names.dead_exchange(), "#").await?;

    for lane in Lane::ALL {
        let name = names.queue(lane);
        queue(
            &mut channel,
            connection,
            &name,
            work_queue(names, delivery_limit),
        )
        .await?;
        for pattern in lane.bindings() {
            bind(&channel, &name, &names.events_exchange(), pattern).await?;
        }
    }

    for tier in settings.retry_tiers.tiers() {
        let name = names.retry_queue(*tier);
        queue(&mut channel, connection, &name, delay_queue(names, *tier)).await?;
    }
    Ok(channel)
}

fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args
}

fn work_queue(names: &Names, delivery_limit: u32) -> FieldTable {
    let mut args = quorum();
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongUInt(delivery_limit),
    );
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(names.dead_exchange().into()),
    );
    args.insert(
        "x-dead-letter-strategy".into(),
        AMQPValue::LongString("at-least-once".into()),
    );
    args.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    args
}

/// A retry tier: each copy waits `tier`, then goes back to the events exchange under its
/// routing keys (the copy's original key travels as `CC`).
fn delay_queue(names: &Names, tier: Duration) -> FieldTable {
    let mut args = quorum();
    let ttl = u32::try_from(tier.as_millis()).unwrap_or(u32::MAX);
    args.insert("x-message-ttl".into(), AMQPValue::LongUInt(ttl));
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(names.events_exchange().into()),
    );
    args.insert(
        "x-dead-letter-strategy".into(),
        AMQPValue::LongString("at-least-once".into()),
    );
    args.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    args
}

async fn queue(
    channel: &mut Channel,
    connection: &Connection,
    name: &str,
    args: FieldTable,
) -> lapin::Result<()> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let Err(error) = channel.queue_declare(name.into(), durable, args).await else {
        return Ok(());
    };

    warn!(queue = name, error = %error, "queue exists with other arguments; keeping them");
    *channel = connection.create_channel().await?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    channel
        .queue_declare(name.into(), passive, FieldTable::default())
        .await
        .map(|_| ())
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, pattern: &str) -> lapin::Result<()> {
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            pattern.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}
