//! SCIM 2.0 service provider (RFC 7643, RFC 7644) without IO: the schemas as data (`schema`),
//! filters (`filter`), PATCH paths and operations (`path`, `patch`), normalising input and
//! projecting output (`resource`), the error body (`error`), and the identity events a write
//! becomes (`events`). The HTTP side is `http::scim`, the rows `store::scim`.

pub mod error;
pub mod events;
pub mod filter;
pub mod patch;
pub mod path;
pub mod resource;
pub mod schema;

pub use error::{ScimError, ScimType};
