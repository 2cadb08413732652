//! Image generation on Google's APIs, as LiteLLM maps `/images/generations`: Gemini image
//! models (`gemini-2.5-flash-image`, ...) through `:generateContent` with an IMAGE response
//! modality, every other model (Imagen) through `:predict` with `instances`/`parameters`.
//! Shared by AI Studio (`gemini/`) and Vertex AI (`vertex_ai/`) through [`Target`].

use llmgate_types::{ImageData, ImageGenerationRequest, ImageResponse};
use serde_json::{json, Map, Value};

use super::{errors, Target};
use crate::providers::http::{header_pairs, json, send};
use crate::providers::Ctx;
use crate::response::Response;
use crate::LlmError;

/// LiteLLM's test: a Gemini model (not Imagen) answers through `generateContent`.
pub fn is_gemini_image_model(model: &str) -> bool {
    model.rsplit('/').next().unwrap_or(model).contains("gemini")
}

/// Imagen's aspect ratios and the closest one to an OpenAI `size` (`1792x1024` → `16:9`).
fn aspect_ratio(size: &str) -> Option<&'static str> {
    const RATIOS: [(&str, f64); 5] = [
        ("1:1", 1.0),
        ("9:16", 9.0 / 16.0),
        ("16:9", 16.0 / 9.0),
        ("3:4", 3.0 / 4.0),
        ("4:3", 4.0 / 3.0),
    ];
    let (w, h) = size
        .to_ascii_lowercase()
        .split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse::<f64>().ok()?, h.trim().parse::<f64>().ok()?)))?;
    if w <= 0.0 || h <= 0.0 {
        return None;
    }
    crate::media::size::nearest_ratio(&RATIOS, w, h)
}

/// The upstream body for `req` (`vertex`: Vertex's Gemini form, with the user role and
/// camel-case keys).
pub fn body(req: &ImageGenerationRequest, vertex: bool) -> Value {
    let prompt = req.prompt.clone().unwrap_or_default();
    // Provider params the client sent as they are (`aspectRatio`, `personGeneration`, ...).
    let passthrough: Map<String, Value> = req
        .extra
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "user" | "style" | "background" | "moderation"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if is_gemini_image_model(&req.model) {
        let mut config = Map::new();
        if vertex {
            config.insert("responseModalities".into(), json!(["IMAGE"]));
        } else {
            config.insert("response_modalities".into(), json!(["IMAGE", "TEXT"]));
        }
        let mut image_config = passthrough
            .get("imageConfig")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(r) = passthrough
            .get("aspectRatio")
            .or(passthrough.get("aspect_ratio"))
            .cloned()
            .or_else(|| req.size.as_deref().and_then(aspect_ratio).map(Value::from))
        {
            image_config.insert("aspectRatio".into(), r);
        }
        if !image_config.is_empty() {
            config.insert("imageConfig".into(), Value::Object(image_config));
        }
        if let Some(n) = req.n {
            config.insert("candidateCount".into(), json!(n));
        }
        let mut parts = json!({"parts": [{"text": prompt}]});
        if vertex {
            parts["role"] = json!("user");
        }
        return json!({"contents": [parts], "generationConfig": config});
    }
    let mut parameters = Map::new();
    parameters.insert("sampleCount".into(), json!(req.n.unwrap_or(1)));
    if let Some(r) = req.size.as_deref().and_then(aspect_ratio) {
        parameters.insert("aspectRatio".into(), json!(r));
    }
    for (k, v) in passthrough {
        parameters.insert(k, v);
    }
    json!({"instances": [{"prompt": prompt}], "parameters": parameters})
}

/// Gemini's `usageMetadata` as an image answer's usage (LiteLLM's `ImageUsage`).
fn usage(u: &Value) -> Value {
    let modality = |key: &str, m: &str| -> u64 {
        u[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["modality"] == m)
            .filter_map(|d| d["tokenCount"].as_u64())
            .sum()
    };
    let input = u["promptTokenCount"].as_u64().unwrap_or(0);
    let output = u["candidatesTokenCount"].as_u64().unwrap_or(0);
    let mut out_details = json!({"image_tokens": output});
    if u["candidatesTokensDetails"].is_array() {
        let image = modality("candidatesTokensDetails", "IMAGE");
        out_details = json!({"image_tokens": image, "text_tokens": output.saturating_sub(image)});
    }
    json!({
        "input_tokens": input,
        "input_tokens_details": {
            "text_tokens": input.saturating_sub(modality("promptTokensDetails", "IMAGE")),
            "image_tokens": modality("promptTokensDetails", "IMAGE"),
        },
        "output_tokens": output,
        "output_tokens_details": out_details,
        "total_tokens": u["totalTokenCount"].as_u64().unwrap_or(input + output),
    })
}

/// The upstream's answer as OpenAI's: every inline image (`candidates[].content.parts[]`)
/// or prediction (`predictions[].bytesBase64Encoded`) as `b64_json`.
pub fn answer(v: &Value, created: u64) -> ImageResponse {
    let mut data = Vec::new();
    for c in v["candidates"].as_array().into_iter().flatten() {
        for p in c["content"]["parts"].as_array().into_iter().flatten() {
            if let Some(b64) = p["inlineData"]["data"].as_str() {
                data.push(ImageData {
                    b64_json: Some(b64.to_string()),
                    ..Default::default()
                });
            }
        }
    }
    for p in v["predictions"].as_array().into_iter().flatten() {
        if let Some(b64) = p["bytesBase64Encoded"].as_str() {
            let mut d = ImageData {
                b64_json: Some(b64.to_string()),
                ..Default::default()
            };
            if let Some(rp) = p["prompt"].as_str() {
                d.revised_prompt = Some(rp.to_string());
            }
            data.push(d);
        }
    }
    ImageResponse {
        created,
        data,
        usage: v.get("usageMetadata").map(usage),
        extra: Map::new(),
    }
}

pub async fn generate(
    cx: &Ctx<'_>,
    req: ImageGenerationRequest,
    t: &Target,
    vertex: bool,
) -> Result<Response<ImageResponse>, LlmError> {
    let method = if is_gemini_image_model(&req.model) {
        "generateContent"
    } else {
        "predict"
    };
    let body = body(&req, vertex);
    let res = send(t.post(cx, method, &body), t.provider, cx.opts.timeout, true)
        .await
        .map_err(errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, t.provider).await?;
    Ok(Response {
        body: answer(&v, crate::now_secs()),
        headers,
        api_base: t.model_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imagen_and_gemini_bodies() {
        let req = ImageGenerationRequest {
            model: "imagen-3.0-generate-002".into(),
            prompt: Some("a cat".into()),
            n: Some(2),
            size: Some("1792x1024".into()),
            ..Default::default()
        };
        assert_eq!(
            body(&req, true),
            json!({"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 2, "aspectRatio": "16:9"}})
        );
        let g = ImageGenerationRequest {
            model: "gemini-2.5-flash-image".into(),
            ..req
        };
        let b = body(&g, true);
        assert_eq!(
            b["generationConfig"]["responseModalities"],
            json!(["IMAGE"])
        );
        assert_eq!(b["generationConfig"]["imageConfig"]["aspectRatio"], "16:9");
        assert_eq!(b["contents"][0]["role"], "user");
        let a = answer(
            &json!({"candidates": [{"content": {"parts": [{"text": "here"}, {"inlineData": {"mimeType": "image/png", "data": "AAA="}}]}}],
                    "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 1290, "totalTokenCount": 1297}}),
            1,
        );
        assert_eq!(a.data.len(), 1);
        assert_eq!(
            a.usage.unwrap()["output_tokens_details"]["image_tokens"],
            1290
        );
    }
}
