//! LiteLLM's `guardrails:`: each entry loaded into a [`Guardrail`], which ones a request
//! runs (`default_on`, the request's `guardrails`, the key's and team's
//! `metadata.guardrails`), and running them in a mode (`run.rs`). The endpoint handler
//! (`routes/endpoint/guarded.rs`) decides when each mode runs; with no `guardrails:` the
//! state holds None and the request path only tests it.
//!
//! Integrations: `content_filter.rs` (`litellm_content_filter`, offline), `generic_api.rs`
//! (`generic_guardrail_api`), `openai_moderation.rs`, `presidio.rs`, `lakera.rs` (`lakera_v2`),
//! `aporia.rs`, `bedrock.rs` (Bedrock Guardrails), `azure.rs` (`azure/text_moderations`,
//! `azure/prompt_shield`). Every other type is named unsupported at start-up
//! (`config/support/tables.rs`) and not loaded.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use crate::config::Config;

pub mod aporia;
pub mod azure;
pub mod bedrock;
pub mod config;
pub mod content_filter;
pub mod generic_api;
pub mod lakera;
pub mod openai_moderation;
pub mod presidio;
pub mod run;

pub use config::{Entry, Mode, OnError};
pub use run::{run, Outcome};

/// Which side of the call a guardrail is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Request,
    Response,
}

impl Input {
    pub fn name(self) -> &'static str {
        match self {
            Input::Request => "request",
            Input::Response => "response",
        }
    }
}

/// What a guardrail decided about the texts it was shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Pass,
    /// The texts (same count and order) with what it masked; counts per entity type.
    Mask {
        texts: Vec<String>,
        counts: Map<String, Value>,
    },
    /// Refused, with what LiteLLM's guardrail raises as its `HTTPException.detail`: a
    /// message, or an object whose `error` is the message and whose fields the 400's
    /// `provider_specific_fields` carry (`error::GatewayError::Guardrail`).
    Block(Value),
    /// Refused, but answered 200 with this text as the assistant's reply instead of an error
    /// (LiteLLM's `ModifyResponseException`: Bedrock's `disable_exception_on_block`).
    Answer(String),
}

/// The guardrail's service could not answer (down, slow, a bad answer).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure(pub String);

/// Sends a guardrail service's request and reads its JSON answer. Any failure (transport, a
/// non-2xx status, a body that does not parse) is a [`Failure`] reading "`what` failed: ...",
/// without the URL (it may carry a key).
async fn send_json<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
    what: &str,
) -> Result<T, Failure> {
    let fail = |e: String| Failure(format!("{what} failed: {e}"));
    let res = req
        .send()
        .await
        .map_err(|e| fail(e.without_url().to_string()))?;
    let status = res.status();
    if !status.is_success() {
        return Err(fail(format!("status {}", status.as_u16())));
    }
    res.json()
        .await
        .map_err(|e| fail(e.without_url().to_string()))
}

/// What a guardrail may know of the call besides its texts.
pub struct Ctx<'a> {
    pub http: &'a reqwest::Client,
    pub call_id: &'a str,
    /// LiteLLM's `user_api_key_*` metadata of the caller.
    pub caller: &'a Map<String, Value>,
}

/// One integration: checks (and may mask) a request's or an answer's texts.
pub trait Guardrail: Send + Sync {
    /// The integration (`litellm_content_filter`): the log's `guardrail_provider`.
    fn provider(&self) -> &'static str;
    fn apply<'a>(
        &'a self,
        texts: &'a [String],
        input: Input,
        ctx: &'a Ctx<'a>,
    ) -> BoxFuture<'a, Result<Verdict, Failure>>;
}

/// A configured guardrail.
pub struct Loaded {
    pub entry: Entry,
    pub imp: Box<dyn Guardrail>,
}

/// Every configured guardrail llmgate implements, in config order.
pub struct Guardrails {
    pub list: Vec<Loaded>,
    /// Every entry as configured (listed by `/guardrails/list`, implemented or not).
    pub entries: Vec<Entry>,
}

/// The guardrail types llmgate runs.
pub const IMPLEMENTED: &[&str] = &[
    "litellm_content_filter",
    "generic_guardrail_api",
    "openai_moderation",
    "presidio",
    "lakera_v2",
    "aporia",
    "bedrock",
    "azure/text_moderations",
    "azure/prompt_shield",
];

impl Guardrails {
    /// The `guardrails:` section; None when there is none. A bad entry refuses the start.
    pub fn from_config(cfg: &Config) -> Result<Option<Arc<Guardrails>>, String> {
        let Some(Value::Array(items)) = cfg.extra.get("guardrails") else {
            return Ok(None);
        };
        if items.is_empty() {
            return Ok(None);
        }
        let mut list = Vec::new();
        let mut entries = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let entry = Entry::parse(i, v)?;
            entries.push(entry.clone());
            let imp: Box<dyn Guardrail> = match entry.kind.as_str() {
                "litellm_content_filter" => {
                    Box::new(content_filter::ContentFilter::from_entry(&entry)?)
                }
                "generic_guardrail_api" => Box::new(generic_api::GenericApi::from_entry(&entry)?),
                "openai_moderation" => Box::new(openai_moderation::Moderation::from_entry(&entry)?),
                "presidio" => Box::new(presidio::Presidio::from_entry(&entry)?),
                "lakera_v2" => Box::new(lakera::Lakera::from_entry(&entry)?),
                "aporia" => Box::new(aporia::Aporia::from_entry(&entry)?),
                "bedrock" => Box::new(bedrock::Bedrock::from_entry(&entry)?),
                "azure/text_moderations" | "azure/prompt_shield" => {
                    Box::new(azure::ContentSafety::from_entry(&entry)?)
                }
                // Named unsupported at start-up (`config::support`).
                _ => continue,
            };
            list.push(Loaded { entry, imp });
        }
        Ok(Some(Arc::new(Guardrails { list, entries })))
    }

    /// The guardrails a call runs: `default_on` ones, those the request names, and those
    /// in the key's or team's `metadata.guardrails`. Indexes into `list`, config order.
    pub fn select(&self, requested: &[String], key_meta: &Value, team_meta: &Value) -> Vec<usize> {
        let named = |name: &str| {
            requested.iter().any(|r| r == name)
                || names(key_meta.get("guardrails")).any(|n| n == name)
                || names(team_meta.get("guardrails")).any(|n| n == name)
        };
        self.list
            .iter()
            .enumerate()
            .filter(|(_, g)| g.entry.default_on || named(&g.entry.name))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Guardrail names in a `guardrails` field: a list of names, or LiteLLM's
/// `{"name": {...dynamic params}}` form.
pub fn names(v: Option<&Value>) -> Box<dyn Iterator<Item = &str> + '_> {
    match v {
        Some(Value::Array(a)) => Box::new(a.iter().filter_map(|n| match n {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.keys().next().map(String::as_str),
            _ => None,
        })),
        Some(Value::Object(o)) => Box::new(o.keys().map(String::as_str)),
        _ => Box::new(std::iter::empty()),
    }
}

/// The names a request asks for: the body's `guardrails` and `metadata.guardrails`.
pub fn requested(extra: &Map<String, Value>, metadata: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = names(extra.get("guardrails")).map(str::to_string).collect();
    for m in [metadata, extra.get("metadata")].into_iter().flatten() {
        out.extend(names(m.get("guardrails")).map(str::to_string));
    }
    out
}

/// `/guardrails/list`'s entry for one guardrail (LiteLLM's `GuardrailInfoResponse`):
/// the type, mode and `default_on` only — never a credential.
pub fn list_entry(e: &Entry, v2: bool) -> Value {
    let mut out = json!({
        "guardrail_name": e.name,
        "litellm_params": {"guardrail": e.kind, "mode": e.mode_value(), "default_on": e.default_on},
        "guardrail_info": e.info,
    });
    if v2 {
        out["guardrail_id"] = Value::Null;
        out["guardrail_definition_location"] = json!("config");
        out["created_at"] = Value::Null;
        out["updated_at"] = Value::Null;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::support::{Support, GUARDRAIL_TYPES};

    /// The support table says `yes` for exactly the types `from_config` loads.
    #[test]
    fn support_table_matches_what_loads() {
        let yes: Vec<&str> = GUARDRAIL_TYPES
            .iter()
            .filter(|r| matches!(r.support, Support::Yes))
            .map(|r| r.key)
            .collect();
        let mut want = IMPLEMENTED.to_vec();
        let mut got = yes.clone();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        let cfg: Config = serde_norway::from_str(
            "guardrails:\n  - guardrail_name: a\n    litellm_params: {guardrail: litellm_content_filter}\n  - guardrail_name: b\n    litellm_params: {guardrail: generic_guardrail_api, api_base: 'http://127.0.0.1:9'}\n  - guardrail_name: c\n    litellm_params: {guardrail: openai_moderation, api_key: k}\n  - guardrail_name: d\n    litellm_params: {guardrail: presidio, presidio_analyzer_api_base: 'http://127.0.0.1:9', presidio_anonymizer_api_base: 'http://127.0.0.1:9'}\n  - guardrail_name: e\n    litellm_params: {guardrail: lakera_v2}\n  - guardrail_name: g\n    litellm_params: {guardrail: aporia, api_base: 'http://127.0.0.1:9'}\n  - guardrail_name: h\n    litellm_params: {guardrail: bedrock, guardrailIdentifier: g1, guardrailVersion: DRAFT}\n  - guardrail_name: i\n    litellm_params: {guardrail: azure/text_moderations, api_key: k, api_base: 'http://127.0.0.1:9'}\n  - guardrail_name: j\n    litellm_params: {guardrail: azure/prompt_shield, api_key: k, api_base: 'http://127.0.0.1:9'}\n  - guardrail_name: f\n    litellm_params: {guardrail: lakera}\n",
        )
        .unwrap();
        let gs = Guardrails::from_config(&cfg).unwrap().unwrap();
        let loaded: Vec<&str> = gs.list.iter().map(|l| l.entry.kind.as_str()).collect();
        assert_eq!(loaded, IMPLEMENTED);
        assert_eq!(gs.entries.len(), 10);
    }
}
