//! The example workspace the shipped rules (`rules/*.yaml`) name: spaces, folders, lists and
//! user groups with fixed ids, for the demo, the tests and `sandbox --seed-examples`.

use super::{fields::CustomFieldType, ListParent, SandboxState};

/// Spaces, by id and name. The campaign space (400) is shared whole with marketing
/// contractors, so the restricted Product launch list lives in a space of its own (800).
const SPACES: [(&str, &str); 7] = [
    ("901100000100", "Company"),
    ("901100000300", "Customers"),
    ("901100000400", "Marketing campaigns"),
    ("901100000500", "Data platform"),
    ("901100000600", "Legal"),
    ("901100000700", "Finance"),
    ("901100000800", "Product"),
];

/// Folders, by id, space and name.
const FOLDERS: [(&str, &str, &str); 2] = [
    ("901100000200", "901100000100", "Process documentation"),
    ("901100000610", "901100000600", "Contracts"),
];

/// The access-request intake List: its statuses and its form's Custom Fields.
pub const INTAKE_LIST: &str = "901100000901";
const INTAKE_STATUSES: [(&str, &str); 5] = [
    ("open", "open"),
    ("pending approval", "custom"),
    ("approved", "custom"),
    ("denied", "done"),
    ("closed", "closed"),
];
/// The areas people may ask for (the shipped `rules/access-requests.yaml` maps each name).
pub const INTAKE_AREAS: [&str; 3] = ["Legal contracts", "Finance close", "Product launch"];
pub const INTAKE_LEVELS: [&str; 4] = ["read", "comment", "edit", "create"];

/// Lists, by id, parent and name.
const LISTS: [(&str, Parent, &str); 13] = [
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
    (
        "901100000710",
        Parent::Space("901100000700"),
        "Quarter close",
    ),
    (
        "901100000430",
        Parent::Space("901100000800"),
        "Product launch",
    ),
    (
        "901100000950",
        Parent::Space("901100000600"),
        "Compliance reviews",
    ),
    (
        "901100000960",
        Parent::Space("901100000100"),
        "Regional operations",
    ),
    (
        "901100000970",
        Parent::Space("901100000100"),
        "Security reviews",
    ),
];

/// The List whose tasks go by region, and the regions its drop-down offers.
pub const REGIONAL_LIST: &str = "901100000960";
pub const REGIONS: [&str; 3] = ["EMEA", "APAC", "AMER"];

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
        for (id, space, name) in FOLDERS {
            self.insert_folder(id, space, name)?;
        }
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
        self.seed_intake()
    }

    /// The intake List's statuses and form: Area and Access level drop-downs, a Duration in
    /// days and a Justification.
    fn seed_intake(&self) -> anyhow::Result<()> {
        self.set_list_statuses(INTAKE_LIST, &INTAKE_STATUSES)?;
        self.add_custom_field(
            INTAKE_LIST,
            "Area",
            CustomFieldType::DropDown,
            &INTAKE_AREAS,
        );
        self.add_custom_field(
            INTAKE_LIST,
            "Access level",
            CustomFieldType::DropDown,
            &INTAKE_LEVELS,
        );
        self.add_custom_field(INTAKE_LIST, "Duration (days)", CustomFieldType::Number, &[]);
        self.add_custom_field(
            INTAKE_LIST,
            "Justification",
            CustomFieldType::ShortText,
            &[],
        );
        self.add_custom_field(REGIONAL_LIST, "Region", CustomFieldType::DropDown, &REGIONS);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{
        rules::{ObjectKind, RuleSet},
        sandbox::SandboxConfig,
    };

    /// The space a seeded folder or list lies in.
    fn space_of(kind: ObjectKind, id: &str) -> Option<&'static str> {
        let folder_space = |folder: &str| {
            FOLDERS
                .iter()
                .find(|(id, _, _)| *id == folder)
                .map(|(_, space, _)| *space)
        };
        match kind {
            ObjectKind::Space => SPACES.iter().find(|(s, _)| *s == id).map(|(s, _)| *s),
            ObjectKind::Folder => folder_space(id),
            ObjectKind::List => match LISTS.iter().find(|(list, _, _)| *list == id)?.1 {
                Parent::Space(space) => Some(space),
                Parent::Folder(folder) => folder_space(folder),
            },
        }
    }

    #[test]
    fn no_access_request_area_lies_in_a_space_a_shipped_rule_shares_whole() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let rules = RuleSet::load_dir(&dir).unwrap();
        let areas: Vec<_> = rules
            .access_policy()
            .map(|policy| policy.areas.iter().map(|a| a.object.clone()).collect())
            .unwrap_or_default();

        let shared_spaces: Vec<_> = rules
            .named_objects()
            .into_iter()
            .filter(|object| object.kind == ObjectKind::Space && !areas.contains(object))
            .collect();

        assert!(!shared_spaces.is_empty(), "the shipped rules share spaces");
        for area in &areas {
            let space = space_of(area.kind, &area.id)
                .unwrap_or_else(|| panic!("{area} is not in the example workspace"));
            let covering = shared_spaces.iter().find(|shared| shared.id == space);
            assert!(
                covering.is_none(),
                "area {area} lies in {covering:?}, which a mapping shares whole"
            );
        }
    }

    #[test]
    fn the_example_workspace_seeds_once() {
        let state = SandboxState::new(&SandboxConfig::default());

        state.seed_examples().unwrap();

        assert_eq!(state.groups().len(), GROUPS.len());
        let fields: Vec<String> = state
            .custom_fields(INTAKE_LIST)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(
            fields,
            ["Area", "Access level", "Duration (days)", "Justification"]
        );
        assert!(
            state.seed_examples().is_err(),
            "ids are taken the second time"
        );
    }
}
