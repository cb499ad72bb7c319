//! Task deletion and where a task sits, as webhook location filters see it.
//!
//! Deleting a task removes its subtasks with it, as ClickUp does, and remembers every
//! removed id so that reads can tell a deleted task from one that never existed.

use super::{Hierarchy, ListParent, Task};

/// Where a task sits: the ids a webhook's `task_id`, `list_id`, `folder_id` or `space_id`
/// can name. A folderless List's folder is its Space's hidden folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskScope {
    pub task_id: String,
    pub list_id: String,
    pub folder_id: Option<String>,
    pub space_id: Option<String>,
}

impl Hierarchy {
    /// The ids around a task; Folder and Space are `None` when the List is not seeded.
    pub fn scope_of(&self, task: &Task) -> TaskScope {
        let list = self.list(&task.list_id);
        let space = list.and_then(|list| self.space_of(list));
        let folder_id = match list.map(|list| &list.parent) {
            Some(ListParent::Folder(folder_id)) => Some(folder_id.clone()),
            Some(ListParent::Space(_)) => space.map(|space| space.hidden_folder_id.clone()),
            None => None,
        };

        TaskScope {
            task_id: task.id.clone(),
            list_id: task.list_id.clone(),
            folder_id,
            space_id: space.map(|space| space.id.clone()),
        }
    }

    /// Removes a task and its subtasks (at any depth); returns the removed tasks, the task
    /// first and then its subtasks top-down, or nothing when the task does not exist.
    pub fn remove_task(&mut self, id: &str) -> Vec<Task> {
        if self.task(id).is_none() {
            return Vec::new();
        }

        let mut doomed = vec![id.to_owned()];
        let mut next = 0;
        while next < doomed.len() {
            let parent = doomed[next].clone();
            let children: Vec<String> = self
                .tasks
                .iter()
                .filter(|task| task.parent.as_deref() == Some(parent.as_str()))
                .map(|task| task.id.clone())
                .filter(|id| !doomed.contains(id))
                .collect();
            doomed.extend(children);
            next += 1;
        }

        let removed: Vec<Task> = doomed
            .iter()
            .filter_map(|id| self.task(id).cloned())
            .collect();
        self.tasks.retain(|task| !doomed.contains(&task.id));
        self.deleted_tasks.extend(doomed);
        removed
    }

    /// Whether a task with this id existed and was deleted.
    pub fn was_deleted(&self, id: &str) -> bool {
        self.deleted_tasks.iter().any(|deleted| deleted == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hierarchy() -> (Hierarchy, String, String) {
        let mut hierarchy = Hierarchy::default();
        let space = hierarchy.add_space("Engineering");
        let folder = hierarchy.add_folder(&space, "Platform");
        (hierarchy, space, folder)
    }

    #[test]
    fn scopes_name_the_list_folder_and_space_of_a_task() {
        let (mut hierarchy, space, folder) = hierarchy();
        let in_folder = hierarchy.add_list(ListParent::Folder(folder.clone()), "Requests");
        let folderless = hierarchy.add_list(ListParent::Space(space.clone()), "Inbox");
        let hidden = hierarchy.spaces[0].hidden_folder_id.clone();
        let cases = [
            (in_folder.clone(), Some(folder), Some(space.clone())),
            (folderless.clone(), Some(hidden), Some(space)),
            ("90119999999".to_owned(), None, None),
        ];

        for (list, folder_id, space_id) in cases {
            let id = hierarchy.add_task(&list, "Grant VPN", 1, 0);
            let task = hierarchy.task(&id).expect("added").clone();

            let scope = hierarchy.scope_of(&task);

            let expected = TaskScope {
                task_id: id,
                list_id: list.clone(),
                folder_id,
                space_id,
            };
            assert_eq!(scope, expected, "{list}");
        }
    }

    #[test]
    fn removing_a_task_takes_its_subtasks_and_its_id_is_never_reused() {
        let (mut hierarchy, _, folder) = hierarchy();
        let list = hierarchy.add_list(ListParent::Folder(folder), "Requests");
        let root = hierarchy.add_task(&list, "Onboard", 1, 0);
        let child = hierarchy.add_task(&list, "VPN", 1, 0);
        let grandchild = hierarchy.add_task(&list, "Token", 1, 0);
        let other = hierarchy.add_task(&list, "Audit", 1, 0);
        for (id, parent) in [(&child, &root), (&grandchild, &child)] {
            hierarchy.task_mut(id).expect("added").parent = Some(parent.clone());
        }

        let removed = hierarchy.remove_task(&root);

        let removed: Vec<&str> = removed.iter().map(|task| task.id.as_str()).collect();
        assert_eq!(removed, [&root, &child, &grandchild]);
        for id in [&root, &child, &grandchild] {
            assert!(hierarchy.task(id).is_none(), "{id}");
            assert!(hierarchy.was_deleted(id), "{id}");
        }
        assert!(hierarchy.task(&other).is_some());
        assert!(!hierarchy.was_deleted(&other));
        assert!(hierarchy.remove_task(&root).is_empty(), "already gone");
        let fresh = hierarchy.add_task(&list, "Later", 1, 0);
        assert!(![&root, &child, &grandchild, &other].contains(&&fresh));
    }
}
