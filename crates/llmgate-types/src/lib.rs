//! OpenAI-format wire types, serde only.
//!
//! Every struct keeps the fields it does not model in `extra` (`#[serde(flatten)]`), so a
//! parameter we have never heard of still reaches the provider that understands it.

pub mod chat;
pub mod completion;
pub mod embedding;
pub mod error;
pub mod media;
pub mod models;
pub mod rerank;
pub mod responses;

pub use chat::*;
pub use completion::*;
pub use embedding::*;
pub use error::*;
pub use media::*;
pub use models::*;
pub use rerank::*;
pub use responses::*;

/// Unknown fields, kept verbatim.
pub type Extra = serde_json::Map<String, serde_json::Value>;
