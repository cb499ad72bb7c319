//! Every delivered message has its `event.received` row: a lane's handler is wrapped so the
//! worker records the acceptance itself when the receiver did not (the broker confirmed
//! after the receiver had answered 503, or delivered before the receiver marked it).

use std::sync::Arc;

use async_trait::async_trait;
use tracing::{error, info};

use crate::{
    bus::{Disposition, Handler},
    ingest::envelope::Envelope,
    store::{correlation::received, Store},
};

/// A lane's handler, preceded by the receipt check.
pub struct Received {
    store: Store,
    inner: Arc<dyn Handler>,
}

impl Received {
    pub fn wrap(store: &Store, inner: Arc<dyn Handler>) -> Arc<dyn Handler> {
        Arc::new(Received {
            store: store.clone(),
            inner,
        })
    }
}

#[async_trait]
impl Handler for Received {
    async fn handle(&self, envelope: Envelope, redelivered: bool) -> Disposition {
        match self
            .store
            .adopt_receipt(&received(&envelope, "worker"))
            .await
        {
            Ok(true) => info!(
                event_id = %envelope.id,
                "event accepted without the receiver's record; recorded on delivery"
            ),
            Ok(false) => {}
            Err(e) => {
                error!(error = %e, "store unavailable; the event goes back to the queue");
                return Disposition::Retry;
            }
        }
        self.inner.handle(envelope, redelivered).await
    }
}
