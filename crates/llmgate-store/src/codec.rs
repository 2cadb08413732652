//! Rows as JSON objects keyed by column name, with the SQL each column type needs on each
//! database. Timestamps travel as milliseconds since the epoch, JSON and arrays as JSON values.

use serde_json::{Map, Value};
use sqlx::Row;

use crate::{Db, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Float,
    Int,
    Bool,
    /// `TIMESTAMP(3)` (PostgreSQL) / UTC text (SQLite); milliseconds in rows.
    Time,
    /// `JSONB` / JSON text.
    Json,
    /// `TEXT[]` / JSON array text.
    Array,
}

pub type Columns = &'static [(&'static str, Kind)];

pub(crate) fn q(col: &str) -> String {
    format!("\"{col}\"")
}

/// The select expression that reads `col` in the row format.
fn select_expr(store: &Store, col: &str, kind: Kind) -> String {
    let c = q(col);
    match (&store.db, kind) {
        (Db::Postgres(_), Kind::Time) => {
            format!("(EXTRACT(EPOCH FROM {c}) * 1000)::BIGINT AS {c}")
        }
        (Db::Postgres(_), Kind::Json) => format!("{c}::TEXT AS {c}"),
        // INTEGER and BIGINT columns both read as i64.
        (Db::Postgres(_), Kind::Int) => format!("{c}::BIGINT AS {c}"),
        (Db::Postgres(_), Kind::Array) => format!("to_json({c})::TEXT AS {c}"),
        (Db::Sqlite(_), Kind::Time) => {
            format!("CAST(ROUND((julianday({c}) - 2440587.5) * 86400000) AS INTEGER) AS {c}")
        }
        _ => c,
    }
}

/// As [`param_expr`], for statements whose parameters appear in binding order: SQLite gets
/// anonymous `?` placeholders, which it binds in constant time each (a numbered `?NNN` costs a
/// scan of every name in the statement, quadratic over a multi-row INSERT).
/// Time parameters go through [`in_order_param_for`].
fn param_expr_in_order(store: &Store, n: usize, kind: Kind) -> String {
    match &store.db {
        Db::Sqlite(_) => "?".into(),
        _ => param_expr(store, n, kind),
    }
}

/// A parameter for a placeholder of [`param_expr_in_order`]: SQLite's timestamps as the text
/// its `strftime` would make of the milliseconds.
pub fn in_order_param_for(sqlite: bool, kind: Kind, p: Param) -> Param {
    match (sqlite, kind, p) {
        (true, Kind::Time, Param::Int(ms)) => Param::Text(ms.map(crate::time::sqlite)),
        (_, _, p) => p,
    }
}

/// The placeholder (with conversion) that writes parameter `n` into a `kind` column.
pub fn param_expr(store: &Store, n: usize, kind: Kind) -> String {
    match (&store.db, kind) {
        (Db::Postgres(_), Kind::Time) => {
            format!("(TIMESTAMP 'epoch' + ${n}::BIGINT * INTERVAL '1 millisecond')")
        }
        (Db::Postgres(_), Kind::Json) => format!("${n}::JSONB"),
        (Db::Postgres(_), Kind::Array) => {
            format!("ARRAY(SELECT json_array_elements_text(${n}::JSON))")
        }
        (Db::Postgres(_), Kind::Float) => format!("${n}::DOUBLE PRECISION"),
        (Db::Postgres(_), Kind::Int) => format!("${n}::BIGINT"),
        (Db::Postgres(_), Kind::Bool) => format!("${n}::BOOLEAN"),
        (Db::Postgres(_), Kind::Text) => format!("${n}::TEXT"),
        (Db::Sqlite(_), Kind::Time) => {
            format!("strftime('%Y-%m-%d %H:%M:%f', ?{n} / 1000.0, 'unixepoch')")
        }
        (Db::Sqlite(_), _) => format!("?{n}"),
    }
}

/// The select list for `cols`; a column the table lacks reads as NULL.
pub fn select_list(store: &Store, table: &str, cols: Columns) -> String {
    cols.iter()
        .map(|(c, k)| {
            if store.has_column(table, c) {
                select_expr(store, c, *k)
            } else {
                format!("NULL AS {}", q(c))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parameter value for a column; `None` binds SQL NULL.
#[derive(Clone, Debug)]
pub enum Param {
    Text(Option<String>),
    Float(Option<f64>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

/// Converts a row value to the parameter a `kind` column takes.
pub fn param(kind: Kind, v: &Value) -> Param {
    match kind {
        Kind::Text => Param::Text(v.as_str().map(str::to_string)),
        Kind::Float => Param::Float(v.as_f64()),
        Kind::Int | Kind::Time => Param::Int(v.as_i64()),
        Kind::Bool => Param::Bool(v.as_bool()),
        // The JSON columns we write are NOT NULL in LiteLLM's schema: null is the empty value.
        Kind::Json if v.is_null() => Param::Text(Some("{}".into())),
        Kind::Array if v.is_null() => Param::Text(Some("[]".into())),
        Kind::Json | Kind::Array => Param::Text(Some(v.to_string())),
    }
}

/// Runs a statement; returns the rows affected.
pub async fn execute(store: &Store, sql: &str, params: Vec<Param>) -> Result<u64, StoreError> {
    Ok(match &store.db {
        Db::Postgres(p) => bind_all!(sqlx::query(sql), params)
            .execute(p)
            .await?
            .rows_affected(),
        Db::Sqlite(p) => bind_all!(sqlx::query(sql), params)
            .execute(p)
            .await?
            .rows_affected(),
    })
}

fn decode<R: Row>(row: &R, cols: Columns) -> Result<Map<String, Value>, StoreError>
where
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<f64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<bool>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let mut out = Map::new();
    for (i, (col, kind)) in cols.iter().enumerate() {
        let err = |e: sqlx::Error| StoreError::Row(format!("{col}: {e}"));
        let v = match kind {
            Kind::Text => row
                .try_get::<Option<String>, _>(i)
                .map_err(err)?
                .map(Value::String),
            Kind::Float => row
                .try_get::<Option<f64>, _>(i)
                .map_err(err)?
                .map(Value::from),
            Kind::Int | Kind::Time => row
                .try_get::<Option<i64>, _>(i)
                .map_err(err)?
                .map(Value::from),
            Kind::Bool => row
                .try_get::<Option<bool>, _>(i)
                .map_err(err)?
                .map(Value::Bool),
            Kind::Json | Kind::Array => row
                .try_get::<Option<String>, _>(i)
                .map_err(err)?
                .map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t))),
        };
        out.insert(col.to_string(), v.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// Runs a query whose select list is `select_list(store, cols)`.
pub async fn fetch(
    store: &Store,
    sql: &str,
    params: Vec<Param>,
    cols: Columns,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    match &store.db {
        Db::Postgres(p) => {
            let rows = bind_all!(sqlx::query(sql), params).fetch_all(p).await?;
            rows.iter().map(|r| decode(r, cols)).collect()
        }
        Db::Sqlite(p) => {
            let rows = bind_all!(sqlx::query(sql), params).fetch_all(p).await?;
            rows.iter().map(|r| decode(r, cols)).collect()
        }
    }
}

/// `INSERT INTO table (cols) VALUES (...)` for the columns present in `row`.
pub fn insert_sql(
    store: &Store,
    table: &str,
    cols: &[(&str, Kind)],
    row: &Map<String, Value>,
) -> (String, Vec<Param>) {
    let present: Vec<&(&str, Kind)> = cols
        .iter()
        .filter(|(c, _)| row.contains_key(*c) && store.has_column(table, c))
        .collect();
    let names: Vec<String> = present.iter().map(|(c, _)| q(c)).collect();
    let values: Vec<String> = present
        .iter()
        .enumerate()
        .map(|(i, (_, k))| param_expr(store, i + 1, *k))
        .collect();
    let params = present.iter().map(|(c, k)| param(*k, &row[*c])).collect();
    (
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            q(table),
            names.join(", "),
            values.join(", ")
        ),
        params,
    )
}

/// The multi-row `INSERT` of `n` rows over the columns `table` has, and those columns in
/// binding order (each row binds every one).
pub fn insert_many_shape(
    store: &Store,
    table: &str,
    cols: Columns,
    n: usize,
) -> (String, Vec<(&'static str, Kind)>) {
    let present: Vec<(&'static str, Kind)> = cols
        .iter()
        .copied()
        .filter(|(c, _)| store.has_column(table, c))
        .collect();
    let names: Vec<String> = present.iter().map(|(c, _)| q(c)).collect();
    let groups: Vec<String> = (0..n)
        .map(|r| {
            let values: Vec<String> = present
                .iter()
                .enumerate()
                .map(|(i, (_, k))| param_expr_in_order(store, r * present.len() + i + 1, *k))
                .collect();
            format!("({})", values.join(", "))
        })
        .collect();
    (
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            q(table),
            names.join(", "),
            groups.join(", ")
        ),
        present,
    )
}

/// Rows of one table keyed by one column, as typed values (serde over the row objects).
pub struct Table {
    pub name: &'static str,
    pub id: &'static str,
    pub columns: Columns,
    /// Columns an update writes (not the id, the spend or the creation fields).
    pub mutable: &'static [&'static str],
    /// The `ORDER BY` of [`Table::list`] (SQL); empty: by id.
    pub order_by: &'static str,
}

/// A list column read as NULL is an empty list.
pub(crate) fn vec_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(<Option<Vec<String>> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// A JSON-object column read as NULL (or not an object) is an empty object; a string holding
/// a JSON object is that object.
pub(crate) fn object_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Ok(
        match <Option<Value> as serde::Deserialize>::deserialize(d)? {
            Some(v @ Value::Object(_)) => v,
            // LiteLLM writes some JSON columns as a JSON-encoded string.
            Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
                Ok(v @ Value::Object(_)) => v,
                _ => Value::Object(Map::new()),
            },
            _ => Value::Object(Map::new()),
        },
    )
}

pub(crate) fn to_row<T: serde::Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

pub(crate) fn from_row<T: serde::de::DeserializeOwned>(
    m: Map<String, Value>,
) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(m)).map_err(|e| StoreError::Row(e.to_string()))
}

impl Table {
    pub async fn insert<T: serde::Serialize>(
        &self,
        store: &Store,
        row: &T,
    ) -> Result<(), StoreError> {
        let (sql, params) = insert_sql(store, self.name, self.columns, &to_row(row));
        execute(store, &sql, params).await.map(|_| ())
    }

    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = {}",
            select_list(store, self.name, self.columns),
            q(self.name),
            q(self.id),
            param_expr(store, 1, Kind::Text)
        );
        let rows = fetch(
            store,
            &sql,
            vec![Param::Text(Some(id.into()))],
            self.columns,
        )
        .await?;
        rows.into_iter().next().map(from_row).transpose()
    }

    pub async fn update<T: serde::Serialize>(
        &self,
        store: &Store,
        id: &str,
        row: &T,
    ) -> Result<bool, StoreError> {
        let row = to_row(row);
        let cols: Vec<&(&str, Kind)> = self
            .columns
            .iter()
            .filter(|(c, _)| self.mutable.contains(c) && store.has_column(self.name, c))
            .collect();
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, (c, k))| format!("{} = {}", q(c), param_expr(store, i + 1, *k)))
            .collect();
        let mut params: Vec<Param> = cols
            .iter()
            .map(|(c, k)| param(*k, row.get(*c).unwrap_or(&Value::Null)))
            .collect();
        params.push(Param::Text(Some(id.into())));
        let sql = format!(
            "UPDATE {} SET {} WHERE {} = {}",
            q(self.name),
            sets.join(", "),
            q(self.id),
            param_expr(store, cols.len() + 1, Kind::Text)
        );
        Ok(execute(store, &sql, params).await? == 1)
    }

    pub async fn delete(&self, store: &Store, id: &str) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM {} WHERE {} = {}",
            q(self.name),
            q(self.id),
            param_expr(store, 1, Kind::Text)
        );
        Ok(execute(store, &sql, vec![Param::Text(Some(id.into()))]).await? == 1)
    }

    /// Deletes the rows matching every `filters` (column = value); returns how many.
    pub async fn delete_where(
        &self,
        store: &Store,
        filters: &[(&str, String)],
    ) -> Result<u64, StoreError> {
        let conds: Vec<String> = filters
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{} = {}", q(c), param_expr(store, i + 1, Kind::Text)))
            .collect();
        let sql = format!("DELETE FROM {} WHERE {}", q(self.name), conds.join(" AND "));
        let params = filters
            .iter()
            .map(|(_, v)| Param::Text(Some(v.clone())))
            .collect();
        execute(store, &sql, params).await
    }

    /// A page (1-based) of rows matching `filters` (column = value), and the total count.
    pub async fn list<T: serde::de::DeserializeOwned>(
        &self,
        store: &Store,
        filters: &[(&str, String)],
        page: u64,
        size: u64,
    ) -> Result<(Vec<T>, u64), StoreError> {
        self.list_ordered(store, filters, None, page, size).await
    }

    /// As [`Table::list`], ordered by `(column, descending)` when given (the column must be
    /// one of the table's; the id breaks ties).
    pub async fn list_ordered<T: serde::de::DeserializeOwned>(
        &self,
        store: &Store,
        filters: &[(&str, String)],
        order: Option<(&str, bool)>,
        page: u64,
        size: u64,
    ) -> Result<(Vec<T>, u64), StoreError> {
        let order_sql = match order {
            Some((col, desc)) if self.columns.iter().any(|(c, _)| *c == col) => format!(
                "{} {}, {}",
                q(col),
                if desc { "DESC" } else { "ASC" },
                q(self.id)
            ),
            _ if self.order_by.is_empty() => q(self.id),
            _ => self.order_by.to_string(),
        };
        let conds: Vec<String> = filters
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{} = {}", q(c), param_expr(store, i + 1, Kind::Text)))
            .collect();
        let params: Vec<Param> = filters
            .iter()
            .map(|(_, v)| Param::Text(Some(v.clone())))
            .collect();
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let count_cols: Columns = &[("n", Kind::Int)];
        let total = fetch(
            store,
            &format!("SELECT COUNT(*) AS \"n\" FROM {}{filter}", q(self.name)),
            params.clone(),
            count_cols,
        )
        .await?[0]["n"]
            .as_u64()
            .unwrap_or(0);
        let sql = format!(
            "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {size} OFFSET {}",
            select_list(store, self.name, self.columns),
            q(self.name),
            order_sql,
            page.saturating_sub(1) * size
        );
        let rows = fetch(store, &sql, params, self.columns).await?;
        Ok((
            rows.into_iter().map(from_row).collect::<Result<_, _>>()?,
            total,
        ))
    }
}

/// Rows of `table` whose budget period ended by `now_ms`: (id, budget_duration).
pub async fn due_resets(
    store: &Store,
    table: &str,
    id_col: &str,
    now_ms: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    if !store.has_column(table, "budget_reset_at") {
        return Ok(Vec::new());
    }
    let cols: Columns = &[("id", Kind::Text), ("budget_duration", Kind::Text)];
    let sql = format!(
        "SELECT {} AS \"id\", \"budget_duration\" FROM {} WHERE \"budget_duration\" IS NOT NULL AND \"budget_reset_at\" IS NOT NULL AND \"budget_reset_at\" <= {}",
        q(id_col),
        q(table),
        param_expr(store, 1, Kind::Time)
    );
    let rows = fetch(store, &sql, vec![Param::Int(Some(now_ms))], cols).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r["id"].as_str()?.to_string(),
                r["budget_duration"].as_str()?.to_string(),
            ))
        })
        .collect())
}

/// Starts a new budget period: spend back to 0, the next reset at `next_ms`.
pub async fn reset_spend(
    store: &Store,
    table: &str,
    id_col: &str,
    id: &str,
    next_ms: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE {} SET \"spend\" = 0, \"budget_reset_at\" = {} WHERE {} = {}",
        q(table),
        param_expr(store, 1, Kind::Time),
        q(id_col),
        param_expr(store, 2, Kind::Text)
    );
    execute(
        store,
        &sql,
        vec![Param::Int(Some(next_ms)), Param::Text(Some(id.into()))],
    )
    .await
    .map(|_| ())
}

/// Sets one row's spend (an admin's `spend` on an update); false when there is no such row.
pub async fn set_spend(
    store: &Store,
    table: &str,
    id_col: &str,
    id: &str,
    spend: f64,
) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE {} SET \"spend\" = {} WHERE {} = {}",
        q(table),
        param_expr(store, 1, Kind::Float),
        q(id_col),
        param_expr(store, 2, Kind::Text)
    );
    let params = vec![Param::Float(Some(spend)), Param::Text(Some(id.into()))];
    Ok(execute(store, &sql, params).await? == 1)
}

/// Zeroes the spend of every row of `table` that uses budget `budget_id`; returns their ids.
pub async fn reset_spend_by_budget(
    store: &Store,
    table: &str,
    id_col: &str,
    budget_id: &str,
) -> Result<Vec<String>, StoreError> {
    if !store.has_column(table, "budget_id") {
        return Ok(Vec::new());
    }
    let cols: Columns = &[("id", Kind::Text)];
    let p = param_expr(store, 1, Kind::Text);
    let ids = fetch(
        store,
        &format!(
            "SELECT {} AS \"id\" FROM {} WHERE \"budget_id\" = {p}",
            q(id_col),
            q(table)
        ),
        vec![Param::Text(Some(budget_id.into()))],
        cols,
    )
    .await?;
    execute(
        store,
        &format!(
            "UPDATE {} SET \"spend\" = 0 WHERE \"budget_id\" = {p}",
            q(table)
        ),
        vec![Param::Text(Some(budget_id.into()))],
    )
    .await?;
    Ok(ids
        .into_iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect())
}

/// Moves a budget's next reset to `next_ms`.
pub async fn set_budget_reset(
    store: &Store,
    budget_id: &str,
    next_ms: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE \"LiteLLM_BudgetTable\" SET \"budget_reset_at\" = {} WHERE \"budget_id\" = {}",
        param_expr(store, 1, Kind::Time),
        param_expr(store, 2, Kind::Text)
    );
    execute(
        store,
        &sql,
        vec![
            Param::Int(Some(next_ms)),
            Param::Text(Some(budget_id.into())),
        ],
    )
    .await
    .map(|_| ())
}
