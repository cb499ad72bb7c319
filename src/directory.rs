//! The directory: every identity on record, in memory, indexed by the attributes assignment
//! rules filter on, so choosing among 100,000 people stays well under a millisecond.
//!
//! Invariants: every identity on record is kept (so `get` answers for leavers too), but only
//! active people with a readable identity and a ClickUp account are indexed and selectable;
//! values are matched case-insensitively; selections come out in `iam_id` order. The directory
//! does no IO but [`load`]; the worker wraps it in a `RwLock` and upserts after each merge.

mod index;
mod postings;
pub mod resync;

pub use index::Directory;

// The worker shares one directory between its consumers behind a `RwLock`.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<Directory>();
};

use crate::{
    rules::Identity,
    store::{Store, StoreError},
};

/// An attribute assignment rules filter on by equality (case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    Department,
    Location,
    Title,
    Group,
    EmploymentType,
    Division,
    CostCenter,
    Role,
}

impl Attribute {
    pub const ALL: [Attribute; 8] = [
        Attribute::Department,
        Attribute::Location,
        Attribute::Title,
        Attribute::Group,
        Attribute::EmploymentType,
        Attribute::Division,
        Attribute::CostCenter,
        Attribute::Role,
    ];

    /// The attribute of a rule's name (`department`, `cost_center`, ...), in any case.
    pub fn parse(name: &str) -> Option<Attribute> {
        let name = name.trim();
        Attribute::ALL
            .into_iter()
            .find(|attribute| attribute.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Attribute::Department => "department",
            Attribute::Location => "location",
            Attribute::Title => "title",
            Attribute::Group => "group",
            Attribute::EmploymentType => "employment_type",
            Attribute::Division => "division",
            Attribute::CostCenter => "cost_center",
            Attribute::Role => "role",
        }
    }

    /// The person's values of this attribute (several for groups and roles).
    fn values(self, identity: &Identity) -> Vec<&str> {
        match self {
            Attribute::Department => single(&identity.department),
            Attribute::Location => single(&identity.location),
            Attribute::Title => single(&identity.title),
            Attribute::EmploymentType => single(&identity.employment_type),
            Attribute::Division => single(&identity.division),
            Attribute::CostCenter => single(&identity.cost_center),
            Attribute::Group => identity.groups.iter().map(String::as_str).collect(),
            Attribute::Role => identity.roles.iter().map(String::as_str).collect(),
        }
    }
}

fn single(value: &Option<String>) -> Vec<&str> {
    value.iter().map(String::as_str).collect()
}

/// One filter of a selection: the attribute equals the value (`Group` and `Role`: the person
/// has that group or role).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub attribute: Attribute,
    pub value: String,
}

impl Condition {
    pub fn new(attribute: Attribute, value: impl Into<String>) -> Condition {
        Condition {
            attribute,
            value: value.into(),
        }
    }
}

/// A person as the directory keeps them.
#[derive(Clone, Debug)]
pub struct Person {
    pub iam_id: String,
    /// The linked ClickUp account; `0` when there is none (ClickUp ids start at 1), which only
    /// people that are never selected can have.
    pub clickup_user_id: u64,
    /// The attributes rules see; for a record whose attributes cannot be read, only the id and
    /// the status on record.
    pub identity: Identity,
}

/// The form a value is indexed and looked up in.
fn normalise(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Every identity on record, indexed.
pub async fn load(store: &Store) -> Result<Directory, StoreError> {
    let (records, _) = store.identities_changed_since(0).await?;
    Ok(Directory::from_records(records))
}

#[cfg(test)]
mod change_tests;
#[cfg(test)]
mod resync_tests;
#[cfg(test)]
mod tests;
