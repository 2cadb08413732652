//! `datadog`: each call as a Datadog log, batched to the logs intake (`POST /api/v2/logs`,
//! gzipped, `DD-API-KEY`), as LiteLLM's `DataDogLogger` sends them: `message` is the
//! `StandardLoggingPayload` as JSON, `status` `info` (`error` for a failure), `ddsource`
//! (`DD_SOURCE`, default `litellm`), `service` (`DD_SERVICE`, default `litellm-server`),
//! `hostname` (`HOSTNAME`) and `ddtags` (`env`, `service`, `version`, `HOSTNAME`, `POD_NAME`,
//! the request's tags and its team).
//!
//! Where: `https://http-intake.logs.{DD_SITE}/api/v2/logs` (`DD_API_KEY` and `DD_SITE`
//! required), or a Datadog agent (`LITELLM_DD_AGENT_HOST`, `LITELLM_DD_AGENT_PORT` default
//! 10518, the key optional); `DD_BASE_URL` overrides either, as LiteLLM's does.

use std::io::Write;
use std::sync::Arc;

use serde_json::{json, Value};

use super::Sink;

pub struct Datadog {
    url: String,
    api_key: Option<String>,
    source: String,
    service: String,
    hostname: String,
    base_tags: String,
    /// `DD_BATCH_SIZE` (at most LiteLLM's `DD_MAX_BATCH_SIZE`, 1000).
    pub batch_size: Option<usize>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Datadog {
    pub fn from_env() -> Result<Datadog, String> {
        let (mut url, api_key) = match var("LITELLM_DD_AGENT_HOST") {
            Some(host) => {
                let port = var("LITELLM_DD_AGENT_PORT").unwrap_or_else(|| "10518".into());
                (
                    format!("http://{host}:{port}/api/v2/logs"),
                    var("DD_API_KEY"),
                )
            }
            None => {
                let key = var("DD_API_KEY").ok_or("datadog: DD_API_KEY is not set")?;
                let site = var("DD_SITE").ok_or("datadog: DD_SITE is not set")?;
                (
                    format!("https://http-intake.logs.{site}/api/v2/logs"),
                    Some(key),
                )
            }
        };
        if let Some(base) = var("DD_BASE_URL") {
            url = format!("{}/api/v2/logs", base.trim_end_matches('/'));
        }
        reqwest::Url::parse(&url).map_err(|e| format!("datadog: intake URL {url:?}: {e}"))?;
        let service = var("DD_SERVICE").unwrap_or_else(|| "litellm-server".into());
        let hostname = var("HOSTNAME").unwrap_or_default();
        let base_tags = [
            ("env", var("DD_ENV").unwrap_or_else(|| "unknown".into())),
            ("service", service.clone()),
            (
                "version",
                var("DD_VERSION").unwrap_or_else(|| "unknown".into()),
            ),
            ("HOSTNAME", hostname.clone()),
            (
                "POD_NAME",
                var("POD_NAME").unwrap_or_else(|| "unknown".into()),
            ),
        ]
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(",");
        Ok(Datadog {
            url,
            api_key,
            source: var("DD_SOURCE").unwrap_or_else(|| "litellm".into()),
            service,
            hostname,
            base_tags,
            batch_size: var("DD_BATCH_SIZE")
                .and_then(|v| v.parse::<usize>().ok())
                .map(|n| n.clamp(1, 1000)),
        })
    }

    /// One payload as a Datadog log entry.
    fn entry(&self, p: &Value) -> Value {
        let mut tags = self.base_tags.clone();
        for t in p["request_tags"].as_array().into_iter().flatten() {
            if let Some(t) = t.as_str() {
                tags.push_str(",request_tag:");
                tags.push_str(t);
            }
        }
        let m = &p["metadata"];
        let team = [
            "user_api_key_team_alias",
            "team_alias",
            "user_api_key_team_id",
            "team_id",
        ]
        .iter()
        .find_map(|k| m[*k].as_str().filter(|v| !v.is_empty()));
        if let Some(team) = team {
            tags.push_str(",team:");
            tags.push_str(team);
        }
        let status = if p["status"] == "failure" {
            "error"
        } else {
            "info"
        };
        json!({
            "ddsource": self.source,
            "ddtags": tags,
            "hostname": self.hostname,
            "message": p.to_string(),
            "service": self.service,
            "status": status,
        })
    }
}

/// `bytes` gzipped (Datadog asks for compressed logs).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec does not fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

impl Sink for Datadog {
    fn request(&self, http: &reqwest::Client, batch: &[Arc<Value>]) -> reqwest::RequestBuilder {
        let entries: Vec<Value> = batch.iter().map(|p| self.entry(p)).collect();
        let body = gzip(&serde_json::to_vec(&entries).unwrap_or_default());
        let mut req = http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip");
        if let Some(k) = &self.api_key {
            req = req.header("dd-api-key", k);
        }
        req.body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn entries_carry_litellms_fields_and_tags() {
        let dd = Datadog {
            url: "http://x/api/v2/logs".into(),
            api_key: None,
            source: "litellm".into(),
            service: "litellm-server".into(),
            hostname: "h".into(),
            base_tags: "env:unknown".into(),
            batch_size: None,
        };
        let p = json!({"id": "1", "status": "failure", "request_tags": ["a"],
            "metadata": {"user_api_key_team_id": "t1"}});
        let e = dd.entry(&p);
        assert_eq!(e["status"], "error");
        assert_eq!(e["ddtags"], "env:unknown,request_tag:a,team:t1");
        assert_eq!(
            serde_json::from_str::<Value>(e["message"].as_str().unwrap()).unwrap(),
            p
        );
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gzip(b"hello")[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello");
    }
}
