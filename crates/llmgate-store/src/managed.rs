//! `LiteLLM_ManagedFileTable` and `LiteLLM_ManagedObjectTable`, as LiteLLM stores them: every
//! file uploaded and batch created through the gateway, with who made it (`created_by`: the
//! key's user, else the key's hash; `team_id`), the provider object(s) it stands for
//! (`model_mappings`: deployment id → provider file id; `model_object_id`: the provider's batch
//! id) and, for a batch, whether its cost has been charged (`batch_processed`, set once).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{self, object_or_null, param_expr, q, vec_or_null, Kind, Param, Table};
use crate::{Store, StoreError};

pub const FILES: Table = Table {
    name: "LiteLLM_ManagedFileTable",
    id: "unified_file_id",
    columns: &[
        ("id", Kind::Text),
        ("unified_file_id", Kind::Text),
        ("file_object", Kind::Json),
        ("model_mappings", Kind::Json),
        ("flat_model_file_ids", Kind::Array),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("team_id", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
    ],
    mutable: &["file_object", "updated_at", "updated_by"],
    order_by: "\"created_at\" DESC",
};

pub const OBJECTS: Table = Table {
    name: "LiteLLM_ManagedObjectTable",
    id: "unified_object_id",
    columns: &[
        ("id", Kind::Text),
        ("unified_object_id", Kind::Text),
        ("model_object_id", Kind::Text),
        ("file_object", Kind::Json),
        ("file_purpose", Kind::Text),
        ("status", Kind::Text),
        ("batch_processed", Kind::Bool),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("team_id", Kind::Text),
        ("org_id", Kind::Text),
        ("api_key", Kind::Text),
        ("request_tags", Kind::Json),
        ("end_user_id", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
    ],
    mutable: &["file_object", "status", "updated_at", "updated_by"],
    order_by: "\"created_at\" DESC",
};

/// One managed file; times are milliseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManagedFile {
    pub id: String,
    /// The id the client is given.
    pub unified_file_id: String,
    #[serde(default, deserialize_with = "object_or_null")]
    pub file_object: Value,
    /// Deployment id (or `provider:<name>`) → the provider's file id.
    #[serde(default, deserialize_with = "object_or_null")]
    pub model_mappings: Value,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub flat_model_file_ids: Vec<String>,
    pub created_at: Option<i64>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// One managed batch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManagedObject {
    pub id: String,
    pub unified_object_id: String,
    pub model_object_id: String,
    /// The batch object as last seen.
    #[serde(default, deserialize_with = "object_or_null")]
    pub file_object: Value,
    pub file_purpose: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub batch_processed: Option<bool>,
    pub created_at: Option<i64>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
    #[serde(default)]
    pub org_id: Option<String>,
    /// The hashed key that created it (charged for its cost).
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub request_tags: Value,
    #[serde(default)]
    pub end_user_id: Option<String>,
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

impl Store {
    pub async fn insert_managed_file(&self, row: &ManagedFile) -> Result<(), StoreError> {
        FILES.insert(self, row).await
    }

    pub async fn managed_file(&self, unified_id: &str) -> Result<Option<ManagedFile>, StoreError> {
        FILES.get(self, unified_id).await
    }

    pub async fn delete_managed_file(&self, unified_id: &str) -> Result<bool, StoreError> {
        FILES.delete(self, unified_id).await
    }

    /// The files whose `column` (`created_by` or `team_id`) is `value`, newest first.
    pub async fn managed_files_by(
        &self,
        column: &str,
        value: &str,
        limit: u64,
    ) -> Result<Vec<ManagedFile>, StoreError> {
        Ok(FILES
            .list(self, &[(column, value.to_string())], 1, limit)
            .await?
            .0)
    }

    /// The managed file a provider's file id belongs to (a batch's output file).
    pub async fn managed_file_by_provider_id(
        &self,
        provider_id: &str,
    ) -> Result<Option<ManagedFile>, StoreError> {
        // The flat list is an array column; its JSON text (SQLite) or elements (PostgreSQL).
        let sql = match self.db {
            crate::Db::Postgres(_) => format!(
                "SELECT {} FROM {} WHERE {} = ANY(\"flat_model_file_ids\") LIMIT 1",
                codec::select_list(self, FILES.name, FILES.columns),
                q(FILES.name),
                param_expr(self, 1, Kind::Text)
            ),
            crate::Db::Sqlite(_) => format!(
                "SELECT {} FROM {} WHERE EXISTS (SELECT 1 FROM json_each(\"flat_model_file_ids\") WHERE value = {}) LIMIT 1",
                codec::select_list(self, FILES.name, FILES.columns),
                q(FILES.name),
                param_expr(self, 1, Kind::Text)
            ),
        };
        let rows = codec::fetch(
            self,
            &sql,
            vec![Param::Text(Some(provider_id.into()))],
            FILES.columns,
        )
        .await?;
        rows.into_iter().next().map(codec::from_row).transpose()
    }

    pub async fn insert_managed_object(&self, row: &ManagedObject) -> Result<(), StoreError> {
        OBJECTS.insert(self, row).await
    }

    pub async fn managed_object(
        &self,
        unified_id: &str,
    ) -> Result<Option<ManagedObject>, StoreError> {
        OBJECTS.get(self, unified_id).await
    }

    /// The latest object seen and its status.
    pub async fn update_managed_object(&self, row: &ManagedObject) -> Result<bool, StoreError> {
        OBJECTS.update(self, &row.unified_object_id, row).await
    }

    pub async fn managed_objects_by(
        &self,
        column: &str,
        value: &str,
        limit: u64,
    ) -> Result<Vec<ManagedObject>, StoreError> {
        Ok(OBJECTS
            .list(self, &[(column, value.to_string())], 1, limit)
            .await?
            .0)
    }

    /// Marks the batch's cost as charged; true for the one caller (on any instance) that did.
    pub async fn claim_batch_cost(&self, unified_id: &str) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {} SET \"batch_processed\" = TRUE WHERE \"unified_object_id\" = {} AND \"batch_processed\" = FALSE",
            q(OBJECTS.name),
            param_expr(self, 1, Kind::Text)
        );
        Ok(codec::execute(self, &sql, vec![Param::Text(Some(unified_id.into()))]).await? == 1)
    }
}
