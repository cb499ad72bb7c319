//! Reconciliation of the router's world with ClickUp: `drift` compares the desired access
//! with what ClickUp shows and repairs the difference.

pub mod drift;
