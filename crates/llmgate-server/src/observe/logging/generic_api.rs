//! LiteLLM's `generic_api` callback: batches of `StandardLoggingPayload`s posted to an HTTP
//! endpoint — `callback_settings.<name>: {callback_type: generic_api, endpoint, headers,
//! event_types, log_format}`, or `GENERIC_LOGGER_ENDPOINT` / `GENERIC_LOGGER_HEADERS`
//! (`k1=v1,k2=v2`) for the plain `generic_api` name.

use std::sync::Arc;

use serde_json::Value;

use super::Sink;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    /// One JSON array per batch (LiteLLM's default).
    JsonArray,
    /// One JSON object per line.
    Ndjson,
}

pub struct GenericApi {
    endpoint: String,
    headers: Vec<(String, String)>,
    format: Format,
    /// `llm_api_success` / `llm_api_failure`; None: both.
    pub event_types: Option<Vec<String>>,
}

impl GenericApi {
    pub fn from_settings(s: &Value) -> Result<GenericApi, String> {
        let endpoint = s
            .get("endpoint")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| std::env::var("GENERIC_LOGGER_ENDPOINT").ok())
            .filter(|e| !e.is_empty())
            .ok_or("generic_api: no endpoint (callback_settings.<name>.endpoint or GENERIC_LOGGER_ENDPOINT)")?;
        reqwest::Url::parse(&endpoint)
            .map_err(|e| format!("generic_api: endpoint {endpoint:?} is not a URL: {e}"))?;
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        let mut set = |k: &str, v: String| {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
            headers.push((k.to_string(), v));
        };
        if let Ok(env) = std::env::var("GENERIC_LOGGER_HEADERS") {
            for item in env.split(',') {
                if let Some((k, v)) = item.split_once('=') {
                    set(k.trim(), v.trim().to_string());
                }
            }
        }
        if let Some(h) = s.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                set(k, v);
            }
        }
        let format = match s.get("log_format").and_then(Value::as_str) {
            None | Some("json_array") => Format::JsonArray,
            Some("ndjson") => Format::Ndjson,
            Some(other) => {
                return Err(format!(
                    "generic_api: log_format {other:?} is not supported (json_array or ndjson)"
                ))
            }
        };
        let event_types = s.get("event_types").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        });
        if let Some(bad) = event_types
            .iter()
            .flatten()
            .find(|t| !matches!(t.as_str(), "llm_api_success" | "llm_api_failure"))
        {
            return Err(format!(
                "generic_api: event type {bad:?} is not one of llm_api_success, llm_api_failure"
            ));
        }
        Ok(GenericApi {
            endpoint,
            headers,
            format,
            event_types,
        })
    }
}

impl Sink for GenericApi {
    fn request(&self, http: &reqwest::Client, batch: &[Arc<Value>]) -> reqwest::RequestBuilder {
        let body = match self.format {
            Format::JsonArray => serde_json::to_vec(batch).unwrap_or_default(),
            Format::Ndjson => {
                let mut out = Vec::new();
                for (i, p) in batch.iter().enumerate() {
                    if i > 0 {
                        out.push(b'\n');
                    }
                    out.extend(serde_json::to_vec(p).unwrap_or_default());
                }
                out
            }
        };
        let mut r = http.post(&self.endpoint).body(body);
        for (k, v) in &self.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        r
    }
}
