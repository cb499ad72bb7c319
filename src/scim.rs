//! SCIM 2.0 service provider: the resources an identity provider keeps here, and the identity
//! events its writes become.

pub mod events;
