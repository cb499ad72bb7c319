//! clickup-iam-router: keeps ClickUp access in step with OpenText IAM.
//!
//! Data path: signed deliveries reach the receivers in [`http`], are verified and normalised
//! by [`ingest`], published with confirms by [`bus`], consumed by the [`worker`], which calls
//! ClickUp through [`clickup`] and records outcomes and audit rows in [`store`]. [`app`] wires
//! the parts; [`metrics`] counts what they do; [`sandbox`] stands in for ClickUp in tests and
//! the [`demo`].

pub mod app;
pub mod auth;
pub mod bus;
pub mod cli;
pub mod clickup;
pub mod config;
pub mod demo;
pub mod directory;
pub mod http;
pub mod iam;
pub mod ingest;
pub mod metrics;
pub mod operator;
pub mod reconcile;
pub mod rules;
pub mod sandbox;
pub mod scim;
pub mod shutdown;
pub mod sso;
pub mod store;
pub mod telemetry;
pub mod timeline;
pub mod worker;
