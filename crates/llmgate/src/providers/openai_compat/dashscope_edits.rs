//! DashScope's image edits (`qwen-image-edit*`) as LiteLLM's `DashScopeImageEditConfig` sends
//! them: JSON to the multimodal-generation endpoint (the same URL as its generations), each
//! uploaded image a data URL in one user message with the prompt's text after them, OpenAI's
//! `n` and `size` (`W*H`) as `parameters`. OpenAI's other edit params are refused
//! (LiteLLM's `UnsupportedParamsError`) unless `drop_params`. The answer is the generations'
//! (image URLs as OpenAI's `url`, returned as DashScope gives them, not fetched).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::dashscope::NAME;
use crate::media::{image_mime, Form};
use crate::LlmError;

/// OpenAI's edit params DashScope has no field for.
const UNSUPPORTED: [&str; 10] = [
    "background",
    "input_fidelity",
    "mask",
    "quality",
    "response_format",
    "output_format",
    "output_compression",
    "partial_images",
    "stream",
    "moderation",
];

/// DashScope's body for an edit of `form`'s images by `model`.
pub(super) fn body(form: &Form, model: &str, drop_params: bool) -> Result<Value, LlmError> {
    let refused: Vec<&str> = UNSUPPORTED
        .into_iter()
        .filter(|k| form.field(k).is_some() || form.file(k).is_some())
        .collect();
    if !refused.is_empty() && !drop_params {
        return Err(LlmError::unsupported_params(NAME, &refused, model));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut content: Vec<Value> = form
        .images()
        .map(|f| {
            let url = format!(
                "data:{};base64,{}",
                image_mime(&f.data),
                b64.encode(&f.data)
            );
            json!({"image": url})
        })
        .collect();
    if content.is_empty() {
        return Err(
            LlmError::bad_request("DashScope image edit requires at least one image.")
                .with_provider(NAME),
        );
    }
    if let Some(p) = form.field("prompt").filter(|p| !p.is_empty()) {
        content.push(json!({"text": p}));
    }
    let mut params = Map::new();
    if let Some(n) = form.scalar("n") {
        params.insert("n".into(), n);
    }
    if let Some(size) = form.field("size") {
        params.insert("size".into(), json!(size.replace('x', "*")));
    }
    Ok(json!({
        "model": model,
        "input": {"messages": [{"role": "user", "content": content}]},
        "parameters": params,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::FilePart;
    use bytes::Bytes;

    fn form(fields: &[(&str, &str)], images: usize) -> Form {
        Form {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: (0..images)
                .map(|i| FilePart {
                    name: "image[]".into(),
                    filename: format!("{i}.jpg"),
                    content_type: None,
                    data: Bytes::from_static(&[0xFF, 0xD8, 0xFF, 0xE0]),
                })
                .collect(),
        }
    }

    #[test]
    fn bodies_as_litellm_sends_them() {
        let f = form(
            &[("prompt", "make it blue"), ("n", "2"), ("size", "1024x768")],
            2,
        );
        assert_eq!(
            body(&f, "qwen-image-edit-plus", false).unwrap(),
            json!({"model": "qwen-image-edit-plus",
                   "input": {"messages": [{"role": "user", "content": [
                       {"image": "data:image/jpeg;base64,/9j/4A=="},
                       {"image": "data:image/jpeg;base64,/9j/4A=="},
                       {"text": "make it blue"}]}]},
                   "parameters": {"n": 2, "size": "1024*768"}})
        );
        let f = form(&[("prompt", "p"), ("quality", "hd")], 1);
        let e = body(&f, "qwen-image-edit", false).unwrap_err();
        assert!(e.message.contains("'quality'"), "{}", e.message);
        assert!(body(&f, "qwen-image-edit", true).is_ok());
        assert_eq!(
            body(&form(&[], 0), "qwen-image-edit", false)
                .unwrap_err()
                .status,
            400
        );
    }
}
