//! ClickUp stand-in that follows the public API contract, for tests and `demo`.
