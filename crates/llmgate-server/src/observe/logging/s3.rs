//! `s3`: each call's `StandardLoggingPayload` as one JSON object in an S3 bucket (or any
//! S3-compatible store: `s3_endpoint_url`), SigV4-signed PUTs as LiteLLM's `S3Logger` (s3_v2)
//! makes them: key `{s3_path}/{team alias/}{key alias/}YYYY-MM-DD/time-HH-MM-SS-ffffff_{id}.json`,
//! path-style URLs on an endpoint (`s3_use_virtual_hosted_style` for the bucket in the host),
//! `https://{bucket}.s3.{region}.amazonaws.com` without one. Settings from
//! `litellm_settings.s3_callback_params` (`os.environ/` values resolved); keys from there, else
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`.

use std::sync::Arc;
use std::time::SystemTime;

use llmgate::providers::aws::{self, Keys};
use serde_json::Value;

use super::Sink;
use crate::config::Config;

pub struct S3 {
    bucket: String,
    region: String,
    endpoint: Option<String>,
    path: Option<String>,
    virtual_hosted: bool,
    team_prefix: bool,
    key_prefix: bool,
    keys: Keys,
    pub batch_size: Option<usize>,
    pub flush_interval: Option<f64>,
}

/// The params LiteLLM's S3Logger reads and llmgate does not (named at start).
pub const UNSUPPORTED: &[&str] = &[
    "s3_aws_role_name",
    "s3_aws_session_name",
    "s3_aws_profile_name",
    "s3_aws_web_identity_token",
    "s3_aws_sts_endpoint",
    "s3_strip_base64_files",
    "s3_server_side_encryption",
    "s3_sse_kms_key_id",
    "s3_config",
];

/// `os.environ/NAME` → the variable (LiteLLM's `get_secret`); other values as they are.
fn resolved(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    match s.strip_prefix("os.environ/") {
        Some(name) => std::env::var(name).ok(),
        None => Some(s),
    }
    .filter(|s| !s.is_empty())
}

impl S3 {
    pub fn from_config(cfg: &Config) -> Result<S3, String> {
        let params = cfg
            .litellm_settings
            .extra
            .get("s3_callback_params")
            .cloned()
            .unwrap_or(Value::Null);
        let get = |k: &str| resolved(&params[k]);
        let flag = |k: &str| get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let bucket = get("s3_bucket_name")
            .ok_or("s3: litellm_settings.s3_callback_params.s3_bucket_name is required")?;
        let region = get("s3_region_name")
            .or_else(|| aws::env("AWS_REGION"))
            .or_else(|| aws::env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let region = aws::checked_region(region).map_err(|e| format!("s3: {}", e.message))?;
        let endpoint = get("s3_endpoint_url").map(|e| e.trim_end_matches('/').to_string());
        if let Some(e) = &endpoint {
            let u = reqwest::Url::parse(e).map_err(|err| format!("s3: s3_endpoint_url: {err}"))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err("s3: s3_endpoint_url must be http(s)".into());
            }
        }
        let keys = match (
            get("s3_aws_access_key_id"),
            get("s3_aws_secret_access_key"),
        ) {
            (Some(key_id), Some(secret)) => Keys {
                key_id,
                secret,
                token: get("s3_aws_session_token"),
            },
            _ => aws::keys_from_env().ok_or(
                "s3: no AWS keys (s3_aws_access_key_id / s3_aws_secret_access_key, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
            )?,
        };
        if let Some(map) = params.as_object() {
            for k in map.keys().filter(|k| UNSUPPORTED.contains(&k.as_str())) {
                tracing::warn!(
                    "not supported by llmgate, ignored: litellm_settings.s3_callback_params.{k}"
                );
            }
        }
        Ok(S3 {
            bucket,
            region,
            endpoint,
            path: get("s3_path"),
            virtual_hosted: flag("s3_use_virtual_hosted_style"),
            team_prefix: flag("s3_use_team_prefix"),
            key_prefix: flag("s3_use_key_prefix"),
            keys,
            batch_size: get("s3_batch_size").and_then(|v| v.parse().ok()),
            flush_interval: get("s3_flush_interval").and_then(|v| v.parse().ok()),
        })
    }

    /// The object's key, as LiteLLM's `get_s3_object_key` builds it.
    pub fn object_key(&self, p: &Value) -> String {
        let mut key = String::new();
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            key.push_str(path.trim_end_matches('/'));
            key.push('/');
        }
        let meta = &p["metadata"];
        for (on, field) in [
            (self.team_prefix, "user_api_key_team_alias"),
            (self.key_prefix, "user_api_key_alias"),
        ] {
            if let Some(v) = meta[field].as_str().filter(|v| on && !v.is_empty()) {
                key.push_str(v);
                key.push('/');
            }
        }
        let start = p["startTime"].as_f64().unwrap_or(0.0);
        let ms = (start * 1000.0) as i64;
        let iso = llmgate_store::time::iso(ms); // YYYY-MM-DDTHH:MM:SS.mmmZ
        let micros = ((start.fract() * 1_000_000.0).round() as u64).min(999_999);
        let id = p["id"].as_str().unwrap_or_default();
        let name = format!(
            "time-{}-{}-{}-{micros:06}_{id}",
            &iso[11..13],
            &iso[14..16],
            &iso[17..19]
        );
        key.push_str(&iso[..10]);
        key.push('/');
        key.push_str(&name.replace(['/', ':'], "_"));
        key.push_str(".json");
        key
    }

    /// Where the object goes: the key percent-encoded once (`/` kept), as LiteLLM sends it.
    fn url(&self, key: &str) -> String {
        let encoded: String = key
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        match &self.endpoint {
            Some(e) if self.virtual_hosted => {
                let (scheme, host) = e.split_once("://").unwrap_or(("https", e));
                format!("{scheme}://{}.{host}/{encoded}", self.bucket)
            }
            Some(e) => format!("{e}/{}/{encoded}", self.bucket),
            None => format!(
                "https://{}.s3.{}.amazonaws.com/{encoded}",
                self.bucket, self.region
            ),
        }
    }
}

impl Sink for S3 {
    /// The PUT of the batch's first payload: S3 has no batch write, so every payload is its
    /// own request ([`Sink::per_event`]).
    fn request(&self, http: &reqwest::Client, batch: &[Arc<Value>]) -> reqwest::RequestBuilder {
        let p = batch.first().map(|p| &**p).unwrap_or(&Value::Null);
        let key = self.object_key(p);
        let url = self.url(&key);
        let body = serde_json::to_vec(p).unwrap_or_default();
        let id = p["id"]
            .as_str()
            .unwrap_or_default()
            .replace(['/', '"'], "_");
        let disposition = format!("inline; filename=\"{}\"", key_file_name(&key, &id));
        let plain = [
            ("content-type", "application/json"),
            ("content-language", "en"),
            (
                "cache-control",
                "private, immutable, max-age=31536000, s-maxage=0",
            ),
        ];
        let mut req = http.put(&url);
        let mut signed: Vec<(&str, &str)> = plain.to_vec();
        signed.push(("content-disposition", &disposition));
        match aws::sigv4_sign(
            "PUT",
            &url,
            &body,
            &self.region,
            "s3",
            &self.keys,
            &signed,
            SystemTime::now(),
        ) {
            Ok(auth) => {
                for (k, v) in signed.iter().map(|(k, v)| (k.to_string(), v.to_string())) {
                    req = req.header(k, v);
                }
                for (k, v) in auth {
                    req = req.header(k, v);
                }
            }
            // Unsigned, S3 refuses it: counted as the callback's failure.
            Err(e) => tracing::warn!(error = %e.message, "s3: could not sign the upload"),
        }
        req.body(body)
    }

    fn per_event(&self) -> bool {
        true
    }
}

/// The `Content-Disposition` file name LiteLLM gives an object: `time-<date>T<time>_<id>.json`.
fn key_file_name(key: &str, id: &str) -> String {
    // The key's last segment is `time-HH-MM-SS-ffffff_<id>.json`, its parent the date.
    let mut parts = key.rsplit('/');
    let file = parts.next().unwrap_or_default();
    let date = parts.next().unwrap_or_default();
    let time = file
        .strip_prefix("time-")
        .and_then(|f| f.split('_').next())
        .unwrap_or_default();
    format!("time-{date}T{time}_{id}.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3(path: Option<&str>, endpoint: Option<&str>, virtual_hosted: bool) -> S3 {
        S3 {
            bucket: "logs".into(),
            region: "eu-west-1".into(),
            endpoint: endpoint.map(str::to_string),
            path: path.map(str::to_string),
            virtual_hosted,
            team_prefix: true,
            key_prefix: false,
            keys: Keys {
                key_id: "AKID".into(),
                secret: "secret".into(),
                token: None,
            },
            batch_size: None,
            flush_interval: None,
        }
    }

    #[test]
    fn object_keys_and_urls_are_litellms() {
        let p = json!({"id": "chatcmpl-1", "startTime": 1767225600.25,
            "metadata": {"user_api_key_team_alias": "team a"}});
        let k = s3(Some("llm/"), None, false).object_key(&p);
        assert_eq!(
            k,
            "llm/team a/2026-01-01/time-00-00-00-250000_chatcmpl-1.json"
        );
        assert_eq!(
            s3(None, None, false).url(&k),
            "https://logs.s3.eu-west-1.amazonaws.com/llm/team%20a/2026-01-01/time-00-00-00-250000_chatcmpl-1.json"
        );
        assert!(s3(None, Some("http://127.0.0.1:9000"), false)
            .url("a/b.json")
            .starts_with("http://127.0.0.1:9000/logs/a/b.json"));
        assert_eq!(
            s3(None, Some("http://minio:9000"), true).url("a.json"),
            "http://logs.minio:9000/a.json"
        );
        assert_eq!(
            key_file_name("x/2026-01-01/time-00-00-00-250000_id.json", "id"),
            "time-2026-01-01T00-00-00-250000_id.json"
        );
    }
}
