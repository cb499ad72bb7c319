//! The database behind the store, chosen by `DATABASE_URL`: PostgreSQL for a `postgres://`
//! URL, else SQLite in a file. Both are reached through sqlx's `Any` driver, so every query
//! is written once (`$N` placeholders, SQL both read); this module connects, migrates (one
//! folder of migrations per backend, the same versions) and holds the few steps that differ.

use std::str::FromStr;

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
    AnyPool, ConnectOptions, Connection, Executor,
};

use super::StoreError;

/// Connections per process: the receivers', the lanes' and the scheduler's work.
const MAX_CONNECTIONS: u32 = 8;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a store is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `postgres://` or `postgresql://`, else `sqlite:`.
    pub fn of(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme);
        match scheme {
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            Some("sqlite") => Ok(Backend::Sqlite),
            _ => Err(StoreError::Url(
                "DATABASE_URL must start with sqlite:// or postgres://".into(),
            )),
        }
    }

    /// `sqlite` or `postgres`, for logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// Connects to the database at `url` (a SQLite file is created when missing, in WAL mode)
/// and brings its schema up to date.
pub(super) async fn open(url: &str) -> Result<(AnyPool, Backend), StoreError> {
    let backend = Backend::of(url)?;
    if backend == Backend::Sqlite {
        prepare_sqlite_file(url).await?;
    }

    let pool = pool(url, backend, false).await?;
    backend.migrator().run(&pool).await?;
    Ok((pool, backend))
}

/// Connects to an existing database without migrating it; every transaction is read-only.
pub(super) async fn open_read_only(url: &str) -> Result<(AnyPool, Backend), StoreError> {
    let backend = Backend::of(url)?;
    let url = match backend {
        Backend::Sqlite => sqlite_read_only(url),
        Backend::Postgres => url.to_owned(),
    };
    let pool = pool(&url, backend, true).await?;
    // Connect now, so a missing SQLite file is an error here rather than at the first read.
    pool.acquire().await?;
    Ok((pool, backend))
}

async fn pool(url: &str, backend: Backend, read_only: bool) -> Result<AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    let options = AnyConnectOptions::from_str(url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(match read_only {
            true => 1,
            false => MAX_CONNECTIONS,
        })
        .after_connect(move |connection, _| {
            Box::pin(async move {
                for statement in session_settings(backend, read_only) {
                    (&mut *connection).execute(*statement).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// A SQLite URL opened read-only by SQLite itself (`mode=ro`): `query_only` refuses writes,
/// but a connection that may write still checkpoints the write-ahead log into the file and
/// deletes the log when it is the last to close, rewriting the store it was only to read.
fn sqlite_read_only(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let params = query
        .split('&')
        .filter(|param| !param.is_empty() && !param.starts_with("mode="))
        .chain(["mode=ro"]);
    format!("{path}?{}", params.collect::<Vec<_>>().join("&"))
}

/// What every new connection is told first.
fn session_settings(backend: Backend, read_only: bool) -> &'static [&'static str] {
    match (backend, read_only) {
        // WAL is kept by the file; `synchronous` is per connection (NORMAL is safe in WAL).
        (Backend::Sqlite, false) => &["PRAGMA synchronous = NORMAL"],
        (Backend::Sqlite, true) => &["PRAGMA query_only = ON"],
        (Backend::Postgres, false) => &[],
        (Backend::Postgres, true) => &["SET default_transaction_read_only = on"],
    }
}

/// Creates the SQLite file when missing and turns WAL on (kept by the file), through one
/// native connection: the `Any` driver's SQLite URL has no such options.
async fn prepare_sqlite_file(url: &str) -> Result<(), StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let connection = options.connect().await?;
    connection.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        let cases = [
            ("sqlite://clickup-iam-router.db", Some(Backend::Sqlite)),
            ("sqlite::memory:", Some(Backend::Sqlite)),
            ("postgres://router@127.0.0.1/cir", Some(Backend::Postgres)),
            (
                "postgresql://router@127.0.0.1:5433/cir",
                Some(Backend::Postgres),
            ),
            ("mysql://127.0.0.1/cir", None),
            ("clickup-iam-router.db", None),
        ];
        for (url, expected) in cases {
            assert_eq!(Backend::of(url).ok(), expected, "{url}");
        }
    }

    #[test]
    fn a_read_only_sqlite_url_asks_sqlite_for_read_only() {
        let cases = [
            (
                "sqlite:///var/lib/cir/store.db",
                "sqlite:///var/lib/cir/store.db?mode=ro",
            ),
            ("sqlite://store.db?mode=rwc", "sqlite://store.db?mode=ro"),
            (
                "sqlite://store.db?cache=shared&mode=rw",
                "sqlite://store.db?cache=shared&mode=ro",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(sqlite_read_only(url), expected, "{url}");
        }
    }
}
