//! Tests of loading the rules folder: what the fingerprint that decides a re-plan covers.

use std::path::Path;

use super::{load_rules, scheduler::fingerprint};
use crate::config::RulesSettings;

fn shipped_rules_into(dir: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for entry in std::fs::read_dir(shipped).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
}

fn fingerprint_of(dir: &Path) -> String {
    let settings = RulesSettings {
        rules_dir: dir.to_path_buf(),
        ..RulesSettings::default()
    };
    fingerprint(&load_rules(&settings).unwrap().sources)
}

#[test]
fn the_fingerprint_follows_the_rules_and_not_the_folder_they_are_in() {
    let (first, second, changed, renamed) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    for dir in [&first, &second, &changed, &renamed] {
        shipped_rules_into(dir.path());
    }
    let employees = changed.path().join("employees.yaml");
    let text = std::fs::read_to_string(&employees).unwrap();
    std::fs::write(&employees, text.replace("level: read", "level: comment")).unwrap();
    std::fs::rename(
        renamed.path().join("employees.yaml"),
        renamed.path().join("staff.yaml"),
    )
    .unwrap();

    let base = fingerprint_of(first.path());

    assert_eq!(fingerprint_of(second.path()), base, "same files elsewhere");
    assert_ne!(fingerprint_of(changed.path()), base, "a changed level");
    assert_ne!(fingerprint_of(renamed.path()), base, "a renamed file");
}
