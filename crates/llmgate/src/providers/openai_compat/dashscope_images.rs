//! DashScope's image generation (`qwen-image-*`) as LiteLLM's `DashScopeImageGenerationConfig`
//! sends it: `POST` to the multimodal-generation endpoint (`api_base` when it is not the chat
//! row's `/compatible-mode/v1`, else `DASHSCOPE_API_BASE_IMAGE`, else DashScope's
//! international URL), a bearer key, the prompt as one user message's text and OpenAI's `n`
//! and `size` (`WxH` written `W*H`) as `parameters`; OpenAI's other fields have no DashScope
//! counterpart and are left out. The image URLs in the answer's choices become OpenAI's
//! `data`; an answer with a `code` and no `output` is DashScope's error.

use llmgate_types::{ImageData, ImageGenerationRequest, ImageResponse};
use serde_json::{json, Map, Value};

use crate::{ErrorKind, LlmError};

const DEFAULT_URL: &str =
    "https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/multimodal-generation/generation";

/// The endpoint of images (generations and edits) for a deployment's `api_base`.
pub(super) fn url(api_base: Option<&str>) -> String {
    multimodal_url(api_base, "DASHSCOPE_API_BASE_IMAGE")
}

/// The multimodal-generation endpoint: `api_base` unless it is the chat row's
/// `/compatible-mode/v1`, else the env var `env` (images and speech each have one), else
/// DashScope's international URL.
pub(super) fn multimodal_url(api_base: Option<&str>, env: &str) -> String {
    api_base
        .filter(|b| !b.is_empty() && !b.trim_end_matches('/').ends_with("/compatible-mode/v1"))
        .map(str::to_string)
        .or_else(|| std::env::var(env).ok())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// DashScope's body for `req`.
pub(super) fn body(req: &ImageGenerationRequest) -> Value {
    let mut params = Map::new();
    if let Some(n) = req.n {
        params.insert("n".into(), json!(n));
    }
    if let Some(size) = &req.size {
        params.insert("size".into(), json!(size.replace('x', "*")));
    }
    json!({
        "model": req.model,
        "input": {"messages": [{"role": "user", "content": [{"text": req.prompt.as_deref().unwrap_or("")}]}]},
        "parameters": params,
    })
}

/// DashScope's answer as OpenAI's.
pub(super) fn answer(v: &Value) -> Result<ImageResponse, LlmError> {
    if v.get("code").is_some() && v.get("output").is_none() {
        let msg = v
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| v.to_string(), str::to_string);
        return Err(LlmError::new(ErrorKind::BadRequest, msg).with_provider(super::dashscope::NAME));
    }
    let data = v["output"]["choices"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["message"]["content"].as_array().into_iter().flatten())
        .filter_map(|item| item["image"].as_str())
        .filter(|u| !u.is_empty())
        .map(|u| ImageData {
            url: Some(u.to_string()),
            ..Default::default()
        })
        .collect();
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(ImageResponse {
        created,
        data,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_as_litellm_maps_them() {
        let req: ImageGenerationRequest = serde_json::from_value(json!({
            "model": "qwen-image-2.0", "prompt": "a cat", "n": 2, "size": "1024x1024",
            "quality": "hd", "style": "vivid"}))
        .unwrap();
        assert_eq!(
            body(&req),
            json!({"model": "qwen-image-2.0",
                   "input": {"messages": [{"role": "user", "content": [{"text": "a cat"}]}]},
                   "parameters": {"n": 2, "size": "1024*1024"}})
        );
        let a = answer(&json!({"output": {"choices": [
            {"message": {"content": [{"image": "https://x/1.png"}, {"text": "t"}]}},
            {"message": {"content": [{"image": "https://x/2.png"}]}}]}}))
        .unwrap();
        let urls: Vec<_> = a.data.iter().map(|d| d.url.as_deref().unwrap()).collect();
        assert_eq!(urls, ["https://x/1.png", "https://x/2.png"]);
        let e = answer(&json!({"code": "InvalidParameter", "message": "Size not supported"}))
            .unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (400, "Size not supported"));
    }

    #[test]
    fn the_chat_base_is_not_the_image_endpoint() {
        let custom = "http://127.0.0.1:9/api/v1/services/aigc/multimodal-generation/generation";
        assert_eq!(url(Some(custom)), custom);
        if std::env::var("DASHSCOPE_API_BASE_IMAGE").is_err() {
            assert_eq!(
                url(Some(
                    "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/"
                )),
                DEFAULT_URL
            );
            assert_eq!(url(None), DEFAULT_URL);
        }
    }
}
