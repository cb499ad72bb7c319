//! SQL assembled at run time (optional filters, `IN` lists) with numbered `$N` placeholders,
//! which SQLite and PostgreSQL both read. sqlx's `QueryBuilder` writes `?` for the `Any`
//! driver, which PostgreSQL refuses, hence this small one.

use std::fmt::Write;

use sqlx::{
    any::{AnyArguments, AnyRow},
    query::{Query, QueryAs},
    Any, Arguments, Encode, FromRow, Type,
};

use super::StoreError;

/// A statement being written and its bound values, numbered in order of binding.
pub struct Sql<'args> {
    sql: String,
    arguments: Option<AnyArguments<'args>>,
    bound: usize,
    /// The first value that could not be bound (none of the store's types fail).
    error: Option<sqlx::error::BoxDynError>,
}

impl<'args> Sql<'args> {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            arguments: Some(AnyArguments::default()),
            bound: 0,
            error: None,
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: impl AsRef<str>) -> &mut Self {
        self.sql.push_str(sql.as_ref());
        self
    }

    /// Appends the next placeholder and binds `value` to it.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        self.bound += 1;
        let _ = write!(self.sql, "${}", self.bound);
        if let Some(arguments) = &mut self.arguments {
            if let Err(error) = arguments.add(value) {
                self.error.get_or_insert(error);
            }
        }
        self
    }

    /// Appends `$a, $b, ...`, one placeholder per value.
    pub fn push_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.push_bind(value);
        }
        self
    }

    /// The statement with its values (once: the values move into it).
    pub fn build(&mut self) -> Result<Query<'_, Any, AnyArguments<'_>>, StoreError> {
        let arguments = self.take_arguments()?;
        Ok(sqlx::query_with(&self.sql, arguments))
    }

    /// [`Sql::build`] reading each row as a `T`.
    pub fn build_query_as<T>(&mut self) -> Result<QueryAs<'_, Any, T, AnyArguments<'_>>, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let arguments = self.take_arguments()?;
        Ok(sqlx::query_as_with(&self.sql, arguments))
    }

    fn take_arguments(&mut self) -> Result<AnyArguments<'args>, StoreError> {
        if let Some(error) = self.error.take() {
            return Err(StoreError::Database(sqlx::Error::Encode(error)));
        }
        self.arguments.take().ok_or_else(|| {
            StoreError::Database(sqlx::Error::Protocol(
                "a built statement was built again".into(),
            ))
        })
    }

    /// The SQL written so far.
    #[cfg(test)]
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order_of_binding() {
        let cases: [(&[&str], Option<i64>, &str); 3] = [
            (&[], None, "SELECT 1 WHERE x IN () LIMIT $1"),
            (
                &["a"],
                Some(3),
                "SELECT 1 WHERE x IN ($1) AND y > $2 LIMIT $3",
            ),
            (
                &["a", "b", "c"],
                None,
                "SELECT 1 WHERE x IN ($1, $2, $3) LIMIT $4",
            ),
        ];
        for (list, after, expected) in cases {
            let mut sql = Sql::new("SELECT 1 WHERE x IN (");
            sql.push_list(list.iter().copied()).push(")");
            if let Some(after) = after {
                sql.push(" AND y > ").push_bind(after);
            }
            sql.push(" LIMIT ").push_bind(10_i64);

            assert_eq!(sql.sql(), expected);
        }
    }
}
