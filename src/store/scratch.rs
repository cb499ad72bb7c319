//! Throwaway databases for test runs: [`ScratchDatabase`] creates a fresh PostgreSQL
//! database in a cluster given by an admin URL and drops it again, so every test (and every
//! test router) has a store of its own, as a fresh SQLite file gives it. The test suites set
//! `TEST_POSTGRES_URL` to run their stores on PostgreSQL (`scripts/test` starts the cluster).

use sqlx::{AnyConnection, Connection, Executor};

use super::StoreError;

/// The environment variable naming the cluster the tests' stores are created in.
pub const TEST_POSTGRES_URL: &str = "TEST_POSTGRES_URL";

/// A database created for one test; dropped (its connections ended) when this is dropped.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// The cluster `TEST_POSTGRES_URL` names, if it is set.
    pub fn admin_url() -> Option<String> {
        std::env::var(TEST_POSTGRES_URL)
            .ok()
            .filter(|url| !url.is_empty())
    }

    /// Creates `cir_test_<uuid>` in the cluster `admin_url` connects to.
    pub async fn create(admin_url: &str) -> Result<Self, StoreError> {
        let name = format!("cir_test_{}", uuid::Uuid::new_v4().simple());
        let mut url = url::Url::parse(admin_url)
            .map_err(|e| StoreError::Url(format!("{TEST_POSTGRES_URL}: {e}")))?;
        url.set_path(&format!("/{name}"));

        sqlx::any::install_default_drivers();
        let mut admin = AnyConnection::connect(admin_url).await?;
        // The name is ours (hex), so it can be written into the statement.
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        admin.close().await?;

        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.into(),
        })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on: another thread
        // with its own runtime drops the database. A failure leaves a database in a
        // throwaway cluster, which is harmless.
        let dropping = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async move {
                    if let Ok(mut admin) = AnyConnection::connect(&admin_url).await {
                        let _ = admin.execute(statement.as_str()).await;
                        let _ = admin.close().await;
                    }
                });
            }
        });
        let _ = dropping.join();
    }
}

/// A test's store: its URL, and what keeps it alive (its SQLite file's folder or its
/// PostgreSQL database).
#[cfg(test)]
pub(crate) struct TestStore {
    url: String,
    _dir: Option<tempfile::TempDir>,
    _database: Option<ScratchDatabase>,
}

#[cfg(test)]
impl TestStore {
    /// A fresh store: on PostgreSQL when `TEST_POSTGRES_URL` is set, else in a SQLite file.
    pub(crate) async fn open() -> (super::Store, TestStore) {
        match ScratchDatabase::admin_url() {
            Some(admin_url) => {
                let database = ScratchDatabase::create(&admin_url)
                    .await
                    .expect("a scratch database in the TEST_POSTGRES_URL cluster");
                let url = database.url().to_owned();
                Self::opened(url, None, Some(database)).await
            }
            None => Self::open_sqlite().await,
        }
    }

    /// A fresh store in a SQLite file whatever `TEST_POSTGRES_URL` says (the embedded bus
    /// engine's tests: it runs on SQLite only).
    pub(crate) async fn open_sqlite() -> (super::Store, TestStore) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self::opened(url, Some(dir), None).await
    }

    /// The store's `DATABASE_URL`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    async fn opened(
        url: String,
        dir: Option<tempfile::TempDir>,
        database: Option<ScratchDatabase>,
    ) -> (super::Store, TestStore) {
        let settings = crate::config::StoreSettings {
            database_url: url.parse().expect("a database URL"),
        };
        let store = super::Store::open(&settings)
            .await
            .expect("a fresh store opens");
        let kept = TestStore {
            url,
            _dir: dir,
            _database: database,
        };
        (store, kept)
    }
}
