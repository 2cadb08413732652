//! `langfuse`: each call as a trace and its generation, posted in batches to Langfuse's
//! public ingestion API (`POST {LANGFUSE_HOST}/api/public/ingestion`, basic auth with
//! `LANGFUSE_PUBLIC_KEY:LANGFUSE_SECRET_KEY`), shaped as LiteLLM's Langfuse logger fills them:
//! trace `litellm-<call_type>` with the input, output, end user and tags; a generation with
//! the model, parameters, usage, cost, timings and level `ERROR` for a failure.

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};

use super::Sink;
use crate::config::Config;

pub struct Langfuse {
    url: String,
    auth: String,
    default_tags: Vec<String>,
}

impl Langfuse {
    pub fn from_env(cfg: &Config) -> Result<Langfuse, String> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let public =
            var("LANGFUSE_PUBLIC_KEY").ok_or("langfuse: LANGFUSE_PUBLIC_KEY is not set")?;
        let secret =
            var("LANGFUSE_SECRET_KEY").ok_or("langfuse: LANGFUSE_SECRET_KEY is not set")?;
        let host = var("LANGFUSE_HOST")
            .or_else(|| var("LANGFUSE_BASE_URL"))
            .unwrap_or_else(|| "https://cloud.langfuse.com".into());
        let host = if host.starts_with("http://") || host.starts_with("https://") {
            host
        } else {
            format!("http://{host}")
        };
        let url = format!("{}/api/public/ingestion", host.trim_end_matches('/'));
        reqwest::Url::parse(&url).map_err(|e| format!("langfuse: LANGFUSE_HOST: {e}"))?;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{public}:{secret}"));
        Ok(Langfuse {
            url,
            auth: format!("Basic {auth}"),
            default_tags: super::super::payload::Settings::from_config(cfg).langfuse_default_tags,
        })
    }

    /// A payload's trace and generation events.
    fn events(&self, p: &Value, out: &mut Vec<Value>) {
        let iso = |secs: &Value| {
            let ms = (secs.as_f64().unwrap_or(0.0) * 1000.0) as i64;
            llmgate_store::time::iso(ms)
        };
        let id = p["id"].as_str().unwrap_or_default();
        let trace_id = p["trace_id"].as_str().unwrap_or(id);
        let name = format!(
            "litellm-{}",
            p["call_type"].as_str().unwrap_or("completion")
        );
        let mut tags: Vec<Value> = self.default_tags.iter().map(|t| json!(t)).collect();
        tags.extend(p["request_tags"].as_array().into_iter().flatten().cloned());
        let failed = p["status"] == "failure";
        let output = if failed {
            p["error_str"].clone()
        } else {
            p["response"].clone()
        };
        let start = iso(&p["startTime"]);
        let level = if failed { "ERROR" } else { "DEFAULT" };
        let status_message = if failed {
            p["error_str"].clone()
        } else {
            Value::Null
        };
        out.push(json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "timestamp": start,
            "type": "trace-create",
            "body": {
                "id": trace_id,
                "timestamp": start,
                "name": name,
                "userId": p["end_user"],
                "input": p["messages"],
                "output": output,
                "tags": tags,
                "metadata": p["metadata"],
            },
        }));
        out.push(json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "timestamp": start,
            "type": "generation-create",
            "body": {
                "id": id,
                "traceId": trace_id,
                "name": name,
                "startTime": start,
                "endTime": iso(&p["endTime"]),
                "completionStartTime": iso(&p["completionStartTime"]),
                "model": p["model"],
                "modelParameters": p["model_parameters"],
                "input": p["messages"],
                "output": output,
                "usage": {
                    "input": p["prompt_tokens"],
                    "output": p["completion_tokens"],
                    "total": p["total_tokens"],
                    "unit": "TOKENS",
                    "totalCost": p["response_cost"],
                },
                "usageDetails": {
                    "input": p["prompt_tokens"],
                    "output": p["completion_tokens"],
                    "total": p["total_tokens"],
                },
                "costDetails": {"total": p["response_cost"]},
                "metadata": {
                    "model_group": p["model_group"],
                    "model_id": p["model_id"],
                    "api_base": p["api_base"],
                    "cache_hit": p["cache_hit"],
                    "litellm_call_id": id,
                },
                "level": level,
                "statusMessage": status_message,
            },
        }));
    }
}

impl Sink for Langfuse {
    fn request(&self, http: &reqwest::Client, batch: &[Arc<Value>]) -> reqwest::RequestBuilder {
        let mut events = Vec::with_capacity(batch.len() * 2);
        for p in batch {
            self.events(p, &mut events);
        }
        let body = json!({
            "batch": events,
            "metadata": {"batch_size": events.len(), "sdk_name": "llmgate", "public_key": null},
        });
        http.post(&self.url)
            .header("authorization", &self.auth)
            .json(&body)
    }
}
