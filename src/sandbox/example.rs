//! The example workspace the shipped rules (`rules/*.yaml`) name: spaces, folders, lists and
//! user groups with fixed ids, for the demo, the tests and `sandbox --seed-examples`.

use super::{ListParent, SandboxState};

/// Spaces, by id and name.
const SPACES: [(&str, &str); 4] = [
    ("901100000100", "Company"),
    ("901100000300", "Customers"),
    ("901100000400", "Marketing campaigns"),
    ("901100000500", "Data platform"),
];

/// Lists, by id, parent and name.
const LISTS: [(&str, Parent, &str); 8] = [
    (
        "901100000210",
        Parent::Folder("901100000200"),
        "Operations task board",
    ),
    (
        "901100000211",
        Parent::Folder("901100000200"),
        "Operations planning board",
    ),
    (
        "901100000310",
        Parent::Space("901100000300"),
        "Customer handover",
    ),
    (
        "901100000410",
        Parent::Space("901100000400"),
        "Spring campaign",
    ),
    (
        "901100000420",
        Parent::Space("901100000400"),
        "Creative review",
    ),
    (
        "901100000510",
        Parent::Space("901100000500"),
        "Pipeline backlog",
    ),
    (
        "901100000900",
        Parent::Space("901100000100"),
        "Access reminders",
    ),
    (
        "901100000901",
        Parent::Space("901100000100"),
        "Access requests",
    ),
];

/// User groups the shipped rules put people in.
pub const GROUPS: [&str; 4] = ["All staff", "Operations", "Contributors", "Approvers"];

#[derive(Clone, Copy)]
enum Parent {
    Space(&'static str),
    Folder(&'static str),
}

impl SandboxState {
    /// Seeds the example workspace; fails if any of its ids is already taken.
    pub fn seed_examples(&self) -> anyhow::Result<()> {
        for (id, name) in SPACES {
            self.insert_space(id, name)?;
        }
        self.insert_folder("901100000200", "901100000100", "Process documentation")?;
        for (id, parent, name) in LISTS {
            let parent = match parent {
                Parent::Space(space) => ListParent::Space(space.into()),
                Parent::Folder(folder) => ListParent::Folder(folder.into()),
            };
            self.insert_list(id, parent, name)?;
        }
        for group in GROUPS {
            self.add_group(group, &[]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxConfig;

    #[test]
    fn the_example_workspace_seeds_once() {
        let state = SandboxState::new(&SandboxConfig::default());

        state.seed_examples().unwrap();

        assert_eq!(state.groups().len(), GROUPS.len());
        assert!(
            state.seed_examples().is_err(),
            "ids are taken the second time"
        );
    }
}
