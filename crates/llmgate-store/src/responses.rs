//! `LLMGate_ResponsesTable` (llmgate's own; LiteLLM keeps no such table): `/v1/responses`
//! answers stored with the items that led to them, so that `previous_response_id` continues a
//! conversation on any provider, and `GET`/`DELETE /v1/responses/{id}` find them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{Kind, Table};
use crate::{Store, StoreError};

pub const RESPONSES: Table = Table {
    name: "LLMGate_ResponsesTable",
    id: "response_id",
    columns: &[
        ("response_id", Kind::Text),
        ("api_key", Kind::Text),
        ("model", Kind::Text),
        ("previous_response_id", Kind::Text),
        ("context", Kind::Json),
        ("input_items", Kind::Json),
        ("response", Kind::Json),
        ("created_at", Kind::Time),
    ],
    mutable: &[],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub response_id: String,
    /// The hashed key that made it (only it, or an admin, reads or deletes it).
    pub api_key: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// The conversation's items before this request (the previous responses' inputs and
    /// outputs), as a list.
    #[serde(default)]
    pub context: Value,
    /// This request's input items.
    #[serde(default)]
    pub input_items: Value,
    /// The response object as it was answered.
    #[serde(default)]
    pub response: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
}

impl StoredResponse {
    /// The items a follow-up continues from: context, input, then the output.
    pub fn conversation(&self) -> Vec<Value> {
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let mut items = list(&self.context);
        items.extend(list(&self.input_items));
        items.extend(list(self.response.get("output").unwrap_or(&Value::Null)));
        items
    }
}

pub async fn insert(store: &Store, row: &StoredResponse) -> Result<(), StoreError> {
    RESPONSES.insert(store, row).await
}

pub async fn get(store: &Store, id: &str) -> Result<Option<StoredResponse>, StoreError> {
    RESPONSES.get(store, id).await
}

pub async fn delete(store: &Store, id: &str) -> Result<bool, StoreError> {
    RESPONSES.delete(store, id).await
}
