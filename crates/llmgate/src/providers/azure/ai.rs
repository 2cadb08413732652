//! Azure AI Foundry / model inference (`azure_ai/`), as LiteLLM 1.110.2's `AzureAIStudioConfig`
//! calls it: chat at `{base}/models/chat/completions` on a `services.ai.azure.com` resource
//! and `{base}/chat/completions` on any other endpoint (serverless, managed), the base's own
//! query kept and `api_version` added as `api-version`; embeddings at `{base}/embeddings`;
//! the key in `api-key` on `*.services.ai.azure.com` / `*.openai.azure.com` hosts, as a bearer
//! elsewhere; message content lists sent as one string unless they hold an image or audio.
//! Image generations are in `ai_images.rs`.

use llmgate_types::{EmbeddingResponse, Usage};
use serde_json::{Map, Value};

use super::auth::Header;
use crate::CallOptions;

/// `{base}` with `ending` appended, the segments they share written once (LiteLLM's
/// `_add_path_to_api_base`: `…/models` + `models/chat/completions` is `…/models/chat/completions`).
fn add_path(root: &str, ending: &str) -> String {
    let (origin, path) = match root.find("://").map(|i| i + 3) {
        Some(start) => match root[start..].find('/') {
            Some(slash) => root.split_at(start + slash),
            None => (root, ""),
        },
        None => (root, ""),
    };
    let base: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let end: Vec<&str> = ending.split('/').filter(|s| !s.is_empty()).collect();
    let joined: Vec<&str> = (0..base.len())
        .find(|&i| end.starts_with(&base[i..]))
        .map(|i| [&base[..i], &end[..]].concat())
        .unwrap_or_else(|| [&base[..], &end[..]].concat());
    format!("{origin}/{}", joined.join("/"))
}

/// The URL of `path` (`chat/completions`, `embeddings`, `completions`) under `base`.
pub fn url(base: &str, opts: &CallOptions, path: &str) -> String {
    let (root, query) = base.split_once('?').unwrap_or((base, ""));
    let ending = if path == "chat/completions" && base.contains("services.ai.azure.com") {
        "models/chat/completions".to_string()
    } else {
        path.to_string()
    };
    let mut url = add_path(root.trim_end_matches('/'), &ending);
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(v) = opts.api_version.as_deref().filter(|v| !v.is_empty()) {
        if !params.iter().any(|p| p.starts_with("api-version=")) {
            params.push(format!("api-version={v}"));
        }
    }
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params.join("&"));
    }
    url
}

/// The auth header for `key` on `base`'s host.
pub fn header(base: &str, key: String) -> Header {
    let host = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .split(['/', '?', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.ends_with(".services.ai.azure.com") || host.ends_with(".openai.azure.com") {
        Header::ApiKey(key)
    } else {
        Header::Bearer(key)
    }
}

/// LiteLLM's `_transform_messages`: each message's content list as its joined text, unless
/// it holds an image or audio part (sent as it is).
pub fn messages(body: &mut Map<String, Value>) {
    for m in body
        .get_mut("messages")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(parts) = m.get("content").and_then(Value::as_array) else {
            continue;
        };
        let media = parts.iter().any(|p| {
            matches!(
                p.get("type").and_then(Value::as_str),
                Some("image_url" | "input_audio" | "audio_url")
            )
        });
        if media {
            continue;
        }
        let text: String = parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        if !text.is_empty() {
            m["content"] = Value::String(text);
        }
    }
}

/// LiteLLM's `AzureAICohereConfig._transform_response`: an Azure ML endpoint's `num_tokens`
/// header is the prompt's tokens, its `azureml-model-group` the model (Cohere's paygo offer
/// names mapped to the model's).
pub fn embedding_answer(answer: &mut EmbeddingResponse, headers: &[(String, String)]) {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if let Some(n) = header("num_tokens").and_then(|n| n.trim().parse::<u64>().ok()) {
        match answer.usage.as_mut() {
            Some(u) => u.prompt_tokens = n,
            None => {
                answer.usage = Some(Usage {
                    prompt_tokens: n,
                    total_tokens: n,
                    ..Default::default()
                })
            }
        }
    }
    if let Some(group) = header("azureml-model-group").filter(|g| !g.is_empty()) {
        answer.model = match group {
            "offer-cohere-embed-multili-paygo" => "Cohere-embed-v3-multilingual",
            "offer-cohere-embed-english-paygo" => "Cohere-embed-v3-english",
            g => g,
        }
        .to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(version: Option<&str>) -> CallOptions {
        CallOptions {
            api_version: version.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn foundry_resources_get_the_models_path_and_others_the_plain_one() {
        let v = opts(Some("2024-05-01-preview"));
        assert_eq!(
            url("https://r.services.ai.azure.com", &v, "chat/completions"),
            "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
        );
        assert_eq!(
            url("https://r.services.ai.azure.com/models", &v, "chat/completions"),
            "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
        );
        // A full URL given as the base keeps its own version.
        assert_eq!(
            url(
                "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-01-01",
                &v,
                "chat/completions"
            ),
            "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-01-01"
        );
        assert_eq!(
            url(
                "https://m-serverless.eastus2.models.ai.azure.com/",
                &opts(None),
                "chat/completions"
            ),
            "https://m-serverless.eastus2.models.ai.azure.com/chat/completions"
        );
        assert_eq!(
            url(
                "https://r.services.ai.azure.com/models",
                &opts(None),
                "embeddings"
            ),
            "https://r.services.ai.azure.com/models/embeddings"
        );
        assert_eq!(
            url("http://127.0.0.1:9/v1", &opts(None), "embeddings"),
            "http://127.0.0.1:9/v1/embeddings"
        );
    }

    #[test]
    fn azure_hosts_take_api_key_and_others_a_bearer() {
        assert_eq!(
            header("https://r.services.ai.azure.com/models", "k".into()),
            Header::ApiKey("k".into())
        );
        assert_eq!(
            header("https://r.openai.azure.com", "k".into()),
            Header::ApiKey("k".into())
        );
        assert_eq!(
            header("https://m.eastus2.models.ai.azure.com", "k".into()),
            Header::Bearer("k".into())
        );
        assert_eq!(
            header("https://evil.com/x.services.ai.azure.com", "k".into()),
            Header::Bearer("k".into())
        );
    }

    #[test]
    fn azure_ml_headers_give_usage_and_model() {
        let mut a: EmbeddingResponse =
            serde_json::from_value(json!({"object": "list", "data": [], "model": "x"})).unwrap();
        let h = vec![
            ("num_tokens".to_string(), "12".to_string()),
            (
                "azureml-model-group".to_string(),
                "offer-cohere-embed-english-paygo".to_string(),
            ),
        ];
        embedding_answer(&mut a, &h);
        assert_eq!(a.usage.as_ref().unwrap().prompt_tokens, 12);
        assert_eq!(a.model, "Cohere-embed-v3-english");
    }

    #[test]
    fn content_lists_are_joined_unless_they_carry_media() {
        let mut body = json!({"messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "user", "content": [{"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
            {"role": "assistant", "content": "plain"},
        ]});
        messages(body.as_object_mut().unwrap());
        assert_eq!(body["messages"][0]["content"], "ab");
        assert!(body["messages"][1]["content"].is_array());
        assert_eq!(body["messages"][2]["content"], "plain");
    }
}
