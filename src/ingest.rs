//! Ingest: turns signed deliveries from ClickUp and the IAM into bus envelopes.
//!
//! Invariant: nothing here does IO. Signatures are checked on the exact received bytes before
//! anything is parsed, and only a verified body becomes an [`envelope::Envelope`].

pub mod clickup;
pub mod depth;
pub mod envelope;
pub mod iam;
pub mod signature;
