//! clickup-iam-router: keeps ClickUp access in step with OpenText IAM.

pub mod sandbox;
