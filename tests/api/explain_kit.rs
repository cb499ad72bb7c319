//! What the `rules explain` tests share: running the command off the test's thread, reading
//! the rules it names as responsible, a person to seed, and snapshots of a store (every
//! table's rows, the SQLite files' bytes) and of folders.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Command, Output},
};

use clickup_iam_router::store::{Backend, Store};
use serde_json::{json, Value};
use sqlx::{any::AnyRow, Row};

use crate::{helpers::fixture_json, process::output_of};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/iam");
pub const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");

/// Mark Lee, the person of fixture 04.
const MARK: &str = "user:c0ffee00c0ffee00c0ffee00c0ffee00";

/// What `rules explain` must say about one fixture.
pub struct Expect {
    pub fixture: &'static str,
    /// The rules named as responsible (lines that begin `rule \`name\``), no more, no less.
    pub rules: &'static [&'static str],
    /// Lines, or parts of lines, the output holds.
    pub says: &'static [&'static str],
    /// What it must not say.
    pub never: &'static [&'static str],
}

pub const fn expect(
    fixture: &'static str,
    rules: &'static [&'static str],
    says: &'static [&'static str],
    never: &'static [&'static str],
) -> Expect {
    Expect {
        fixture,
        rules,
        says,
        never,
    }
}

/// Runs `rules explain` on every fixture in `tests/fixtures/iam`, each of which `expected`
/// must describe, and checks what it says.
pub async fn check_every_fixture(expected: &[Expect], cwd: &Path, database: Option<&str>) {
    let mut fixtures: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    fixtures.sort();
    let described: Vec<&str> = expected.iter().map(|e| e.fixture).collect();
    assert_eq!(fixtures, described, "every fixture needs its expectations");

    for expect in expected {
        let text = explain(expect.fixture, cwd, database).await;

        let named = responsible(&text);
        let wanted: BTreeSet<String> = expect.rules.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            named, wanted,
            "{}: responsible rules in:\n{text}",
            expect.fixture
        );
        for says in expect.says {
            assert!(
                text.contains(says),
                "{}: {says:?} missing in:\n{text}",
                expect.fixture
            );
        }
        for never in expect.never {
            assert!(
                !text.contains(never),
                "{}: {never:?} in:\n{text}",
                expect.fixture
            );
        }
    }
}

/// `rules explain --event FIXTURE` in `cwd`, off the test's thread; its output, after
/// checking it succeeded.
pub async fn explain(fixture: &str, cwd: &Path, database: Option<&str>) -> String {
    let output = explain_file(Path::new(&format!("{FIXTURES}/{fixture}")), cwd, database).await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{fixture}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// `rules explain --event FILE` with the shipped rules, in `cwd`, off the test's thread.
pub async fn explain_file(file: &Path, cwd: &Path, database: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
    command
        .args(["rules", "explain", "--event"])
        .arg(file)
        .args(["--rules-dir", RULES])
        .current_dir(cwd)
        .env("RUST_LOG", "off")
        .env("RUST_BACKTRACE", "0")
        .env_remove("DATABASE_URL")
        .env_remove("RULES_DIR");
    if let Some(database) = database {
        command.args(["--database-url", database]);
    }
    output_of(command).await
}

/// The rules an explanation names as responsible: lines that begin `rule \`name\``.
pub fn responsible(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix("rule `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Mark Lee (the person of fixture 04) joins as Jane did.
pub fn mark_joins() -> Value {
    let mut event = fixture_json("iam/01-joiner-employee.json");
    let id = MARK.trim_start_matches("user:");
    event["id"] = json!("explain-seed-mark-joins");
    event["subject"] = json!(MARK);
    event["partitionkey"] = json!(MARK);
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["ids"]["edir_guid_hex"] = json!(id);
    user["dn"] = json!("cn=mlee,ou=users,o=data");
    user["username"] = json!("mlee");
    user["email"] = json!("mark.lee@example.com");
    user["display_name"] = json!("Mark Lee");
    let profile = &mut user["profile"];
    profile["email"] = json!("mark.lee@example.com");
    profile["emails"][0]["value"] = json!("mark.lee@example.com");
    profile["display_name"] = json!("Mark Lee");
    profile["given_name"] = json!("Mark");
    profile["family_name"] = json!("Lee");
    event
}

/// Every table of the store, each row as text (sorted).
pub async fn tables(store: &Store) -> BTreeMap<String, Vec<String>> {
    let (list, columns) = match store.backend() {
        Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table'",
            "SELECT name FROM pragma_table_info($1) ORDER BY cid",
        ),
        Backend::Postgres => (
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        ),
    };
    let names: Vec<String> = sqlx::query_scalar(list)
        .fetch_all(store.pool())
        .await
        .unwrap();

    let mut tables = BTreeMap::new();
    for name in names {
        let columns: Vec<String> = sqlx::query_scalar(columns)
            .bind(&name)
            .fetch_all(store.pool())
            .await
            .unwrap();
        // Every column as text (the Any driver reads no dates, booleans or blobs as such).
        let as_text = |column: &String| match store.backend() {
            Backend::Sqlite => format!("quote(\"{column}\")"),
            Backend::Postgres => format!("CAST(\"{column}\" AS TEXT)"),
        };
        let select: Vec<String> = columns.iter().map(as_text).collect();
        let sql = format!("SELECT {} FROM \"{name}\"", select.join(", "));
        let rows = sqlx::query(&sql).fetch_all(store.pool()).await.unwrap();
        let mut rows: Vec<String> = rows.iter().map(|row| row_text(&columns, row)).collect();
        rows.sort();
        tables.insert(name, rows);
    }
    tables
}

fn row_text(columns: &[String], row: &AnyRow) -> String {
    let cells = columns.iter().enumerate().map(|(index, column)| {
        let value: Option<String> = row.get(index);
        format!("{column}={value:?}")
    });
    cells.collect::<Vec<_>>().join("|")
}

/// The bytes of a SQLite store's file and its write-ahead log (nothing for PostgreSQL).
pub fn file_bytes(database: &str) -> Vec<Vec<u8>> {
    let Some(path) = database.strip_prefix("sqlite://") else {
        return Vec::new();
    };
    let path = path.split('?').next().unwrap_or(path);
    [path.to_owned(), format!("{path}-wal")]
        .iter()
        .map(|file| std::fs::read(file).unwrap_or_default())
        .collect()
}

/// Every file under `dirs`, by path, with its bytes.
pub fn contents(dirs: &[&str]) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for dir in dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path, bytes);
            }
        }
    }
    files
}
