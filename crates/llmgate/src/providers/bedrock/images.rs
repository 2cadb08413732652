//! `/images/generations` through InvokeModel, as LiteLLM maps it per model family: Stability's
//! SDXL (`text_prompts`, `width`/`height`, `artifacts[].base64` back), Stability 3 and the
//! Stable Image models (`prompt`, `aspect_ratio`, `images[]` and `finish_reasons` back),
//! Amazon Titan Image and Nova Canvas (`taskType`, `textToImageParams`,
//! `imageGenerationConfig`, `images[]` back). Bedrock answers base64 only, so every image is
//! `b64_json`.

use llmgate_types::{ImageData, ImageGenerationRequest, ImageResponse};
use serde_json::{json, Map, Value};

use crate::LlmError;

/// The request and answer shape a Bedrock image model speaks (LiteLLM's `get_config_class`
/// order: Titan, Nova Canvas, Stability 3, then Stability's SDXL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    StabilityXl,
    Stability3,
    Titan,
    NovaCanvas,
}

/// The family of `model` (a model id, a cross-region profile or an ARN); None: not an image
/// model Bedrock serves through `/images/generations`.
pub fn family(model: &str) -> Option<Family> {
    if model.contains("amazon.titan") {
        Some(Family::Titan)
    } else if model.contains("amazon.nova-canvas") {
        Some(Family::NovaCanvas)
    } else if model.contains("sd3") || model.contains("stable-image") {
        Some(Family::Stability3)
    } else if model.contains("stability.") {
        Some(Family::StabilityXl)
    } else {
        None
    }
}

/// The OpenAI params each family takes (LiteLLM's `get_supported_openai_params`, plus
/// `size` → `aspect_ratio` for Stability 3, which LiteLLM refuses).
fn takes(f: Family, param: &str) -> bool {
    match f {
        Family::StabilityXl | Family::Stability3 => param == "size",
        Family::Titan | Family::NovaCanvas => matches!(param, "size" | "n" | "quality"),
    }
}

/// OpenAI image params Bedrock has no field for; a client's other extra fields are the
/// model's own params, passed through.
const OPENAI_ONLY: [&str; 4] = ["style", "background", "moderation", "output_compression"];

/// `1024x1024` as (width, height); `auto` (or no size) is None.
fn dimensions(size: Option<&str>) -> Result<Option<(u64, u64)>, LlmError> {
    let Some(size) = size
        .map(str::trim)
        .filter(|s| !s.eq_ignore_ascii_case("auto"))
    else {
        return Ok(None);
    };
    let parsed = crate::media::size::pixels(size).filter(|(w, h)| *w > 0 && *h > 0);
    match parsed {
        Some(d) => Ok(Some(d)),
        None => Err(LlmError::bad_request(format!(
            "size must be WIDTHxHEIGHT in pixels, such as 1024x1024; got '{size}'"
        ))
        .with_provider(super::NAME)),
    }
}

/// Stability 3's aspect ratios and the one closest to `width`/`height`.
pub(super) fn aspect_ratio(width: u64, height: u64) -> &'static str {
    const RATIOS: [(&str, f64); 9] = [
        ("1:1", 1.0),
        ("16:9", 16.0 / 9.0),
        ("9:16", 9.0 / 16.0),
        ("21:9", 21.0 / 9.0),
        ("9:21", 9.0 / 21.0),
        ("3:2", 1.5),
        ("2:3", 2.0 / 3.0),
        ("5:4", 1.25),
        ("4:5", 0.8),
    ];
    crate::media::size::nearest_ratio(&RATIOS, width as f64, height as f64).unwrap_or("1:1")
}

/// Titan's and Nova Canvas's quality: `premium` or `standard` (`auto` leaves it to the model).
pub(super) fn titan_quality(q: &str) -> Option<&'static str> {
    match q {
        "hd" | "premium" | "high" => Some("premium"),
        "standard" | "medium" | "low" => Some("standard"),
        _ => None,
    }
}

/// What a call sends: the InvokeModel body and the guardrail headers LiteLLM lifts out of the
/// params (`guardrailIdentifier`, `guardrailVersion`).
#[derive(Debug, PartialEq)]
pub struct Call {
    pub family: Family,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

/// The InvokeModel call for `req` on `model` (the Bedrock model id). OpenAI params the family
/// does not take are refused (LiteLLM's `UnsupportedParamsError`) unless `drop_params`.
pub fn build(
    req: &ImageGenerationRequest,
    model: &str,
    drop_params: bool,
) -> Result<Call, LlmError> {
    let Some(f) = family(model) else {
        return Err(LlmError::bad_request(format!(
            "Bedrock image generation supports Stability (stability.*), Amazon Titan Image (amazon.titan-image-*) and Nova Canvas (amazon.nova-canvas-*) models, not {model}"
        ))
        .with_provider(super::NAME));
    };
    if req.response_format.as_deref() == Some("url") && !drop_params {
        return Err(LlmError::bad_request(
            "Bedrock returns generated images as base64 only: response_format 'url' is not available, ask for 'b64_json' (with drop_params the answer is b64_json)",
        )
        .with_provider(super::NAME));
    }
    let mut refused = Vec::new();
    let mut given = |name: &'static str, present: bool| {
        if present && !takes(f, name) {
            refused.push(name);
        }
    };
    // One image is what Stability makes anyway.
    given("n", req.n.is_some_and(|n| n != 1));
    given("size", req.size.is_some());
    given("quality", req.quality.is_some());
    for k in OPENAI_ONLY {
        given(k, req.extra.get(k).is_some_and(|v| !v.is_null()));
    }
    if !refused.is_empty() && !drop_params {
        return Err(LlmError::unsupported_params(super::NAME, &refused, model));
    }
    let size = if takes(f, "size") {
        dimensions(req.size.as_deref())?
    } else {
        None
    };
    // The model's own params; credentials and LiteLLM's internal keys never reach the body.
    let mut params: Map<String, Value> = req
        .extra
        .iter()
        .filter(|(k, v)| {
            !v.is_null()
                && !k.starts_with("aws_")
                && k.as_str() != "model_id"
                && !OPENAI_ONLY.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut headers = Vec::new();
    for (key, header) in [
        ("guardrailIdentifier", "x-amz-bedrock-guardrail-identifier"),
        ("guardrailVersion", "x-amz-bedrock-guardrail-version"),
    ] {
        if let Some(v) = params.remove(key) {
            headers.push((
                header,
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            ));
        }
    }
    let prompt = req.prompt.clone().unwrap_or_default();
    let body = match f {
        Family::StabilityXl => {
            let mut b = Map::new();
            // LiteLLM sends the prompt on one line.
            b.insert(
                "text_prompts".into(),
                json!([{"text": prompt.replace('\n', " "), "weight": 1}]),
            );
            if let Some((w, h)) = size {
                b.insert("width".into(), json!(w));
                b.insert("height".into(), json!(h));
            }
            b.extend(params);
            Value::Object(b)
        }
        Family::Stability3 => {
            let mut b = Map::new();
            b.insert("prompt".into(), json!(prompt));
            if let Some((w, h)) = size {
                b.insert("aspect_ratio".into(), json!(aspect_ratio(w, h)));
            }
            b.extend(params);
            Value::Object(b)
        }
        Family::Titan | Family::NovaCanvas => amazon_body(req, prompt, size, params)?,
    };
    Ok(Call {
        family: f,
        body,
        headers,
    })
}

/// Titan Image and Nova Canvas: the task's params object (`{"text": prompt}` with the
/// client's own fields) and `imageGenerationConfig` from `n`/`size`/`quality`, the client's
/// `imageGenerationConfig`, and every other param given at the top level (`seed`, `cfgScale`).
fn amazon_body(
    req: &ImageGenerationRequest,
    prompt: String,
    size: Option<(u64, u64)>,
    mut params: Map<String, Value>,
) -> Result<Value, LlmError> {
    let task = match params.remove("taskType") {
        Some(Value::String(t)) => t,
        _ => "TEXT_IMAGE".to_string(),
    };
    let task_key = match task.as_str() {
        "TEXT_IMAGE" => "textToImageParams",
        "COLOR_GUIDED_GENERATION" => "colorGuidedGenerationParams",
        // AWS spells it `inPaintingParams` (LiteLLM's generation sends `inpaintingParams`,
        // which Bedrock refuses as an extraneous key); a client's params under either name.
        "INPAINTING" => "inPaintingParams",
        other => {
            return Err(LlmError::bad_request(format!(
                "taskType {other} is not an image generation task: use TEXT_IMAGE, COLOR_GUIDED_GENERATION or INPAINTING"
            ))
            .with_provider(super::NAME))
        }
    };
    let mut task_params = Map::new();
    task_params.insert("text".into(), json!(prompt));
    if let Some(n) = params.remove("negativeText") {
        task_params.insert("negativeText".into(), n);
    }
    let keys: &[&str] = if task == "INPAINTING" {
        &[task_key, "inpaintingParams"]
    } else {
        &[task_key]
    };
    for key in keys {
        if let Some(Value::Object(own)) = params.remove(*key) {
            task_params.extend(own);
        }
    }
    let mut config = Map::new();
    if let Some(n) = req.n {
        config.insert("numberOfImages".into(), json!(n));
    }
    if let Some((w, h)) = size {
        config.insert("width".into(), json!(w));
        config.insert("height".into(), json!(h));
    }
    if let Some(q) = req.quality.as_deref().and_then(titan_quality) {
        config.insert("quality".into(), json!(q));
    }
    if let Some(Value::Object(own)) = params.remove("imageGenerationConfig") {
        config.extend(own);
    }
    config.extend(params);
    Ok(json!({"taskType": task, task_key: task_params, "imageGenerationConfig": config}))
}

/// An InvokeModel answer as OpenAI's. Stability 3's `finish_reasons` and Titan/Nova's
/// `error` (a filtered prompt or image) are a 400, as LiteLLM raises them.
pub fn answer(f: Family, v: &Value, created: u64) -> Result<ImageResponse, LlmError> {
    let refused = |m: String| Err(LlmError::bad_request(m).with_provider(super::NAME));
    let images: Vec<&str> = match f {
        Family::StabilityXl => v["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["base64"].as_str())
            .collect(),
        Family::Stability3 | Family::Titan | Family::NovaCanvas => {
            let reasons: Vec<&str> = v["finish_reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if !reasons.is_empty() {
                return refused(reasons.join("; "));
            }
            if let Some(e) = v["error"].as_str().filter(|e| !e.is_empty()) {
                return refused(e.to_string());
            }
            v["images"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        }
    };
    Ok(ImageResponse {
        created,
        data: images
            .into_iter()
            .map(|b64| ImageData {
                b64_json: Some(b64.to_string()),
                ..Default::default()
            })
            .collect(),
        usage: None,
        extra: Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> ImageGenerationRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn families_in_litellms_order() {
        assert_eq!(
            family("stability.stable-diffusion-xl-v1"),
            Some(Family::StabilityXl)
        );
        assert_eq!(family("stability.sd3-large-v1:0"), Some(Family::Stability3));
        assert_eq!(
            family("us.stability.stable-image-ultra-v1:1"),
            Some(Family::Stability3)
        );
        assert_eq!(
            family("stability.stable-image-core-v1:0"),
            Some(Family::Stability3)
        );
        assert_eq!(
            family("amazon.titan-image-generator-v2:0"),
            Some(Family::Titan)
        );
        assert_eq!(family("amazon.nova-canvas-v1:0"), Some(Family::NovaCanvas));
        assert_eq!(family("anthropic.claude-3-5-sonnet-20240620-v1:0"), None);
    }

    #[test]
    fn stability_xl_body() {
        let r = req(
            json!({"model": "m", "prompt": "a cat\non a mat", "size": "1024x1024",
            "cfg_scale": 10, "steps": 60, "seed": 7, "user": "u1", "aws_region_name": "us-east-1"}),
        );
        let c = build(&r, "stability.stable-diffusion-xl-v1", false).unwrap();
        assert_eq!(
            c.body,
            json!({"text_prompts": [{"text": "a cat on a mat", "weight": 1}], "width": 1024,
                "height": 1024, "cfg_scale": 10, "steps": 60, "seed": 7})
        );
        assert!(c.headers.is_empty());
        // n and quality are not Stability params: refused, or dropped with drop_params.
        let r = req(json!({"model": "m", "prompt": "p", "n": 2, "quality": "hd"}));
        let e = build(&r, "stability.stable-diffusion-xl-v1", false).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::UnsupportedParams);
        assert!(e.message.contains("['n', 'quality']"), "{}", e.message);
        let c = build(&r, "stability.stable-diffusion-xl-v1", true).unwrap();
        assert_eq!(
            c.body,
            json!({"text_prompts": [{"text": "p", "weight": 1}]})
        );
    }

    #[test]
    fn stability_3_body() {
        let r = req(json!({"model": "m", "prompt": "a fox", "size": "1792x1024",
            "output_format": "jpeg", "negative_prompt": "blur", "guardrailIdentifier": "gr-1",
            "guardrailVersion": "2"}));
        let c = build(&r, "stability.sd3-large-v1:0", false).unwrap();
        assert_eq!(
            c.body,
            json!({"prompt": "a fox", "aspect_ratio": "16:9", "output_format": "jpeg",
                "negative_prompt": "blur"})
        );
        assert_eq!(
            c.headers,
            vec![
                ("x-amz-bedrock-guardrail-identifier", "gr-1".to_string()),
                ("x-amz-bedrock-guardrail-version", "2".to_string())
            ]
        );
        // A client's aspect_ratio wins over the size's.
        let r =
            req(json!({"model": "m", "prompt": "p", "size": "1024x1024", "aspect_ratio": "21:9"}));
        let c = build(&r, "stability.stable-image-ultra-v1:0", false).unwrap();
        assert_eq!(c.body["aspect_ratio"], "21:9");
    }

    #[test]
    fn titan_and_nova_bodies() {
        let r = req(
            json!({"model": "m", "prompt": "a boat", "n": 2, "size": "512x768",
            "quality": "hd", "seed": 42, "cfgScale": 8.5, "negativeText": "people"}),
        );
        let want = json!({"taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a boat", "negativeText": "people"},
            "imageGenerationConfig": {"numberOfImages": 2, "width": 512, "height": 768,
                "quality": "premium", "seed": 42, "cfgScale": 8.5}});
        assert_eq!(
            build(&r, "amazon.titan-image-generator-v2:0", false)
                .unwrap()
                .body,
            want
        );
        assert_eq!(
            build(&r, "amazon.nova-canvas-v1:0", false).unwrap().body,
            want
        );
        // The client's own config and task params merge over the mapped ones.
        let r = req(json!({"model": "m", "prompt": "p", "quality": "standard",
            "taskType": "COLOR_GUIDED_GENERATION",
            "colorGuidedGenerationParams": {"colors": ["#ff0000"]},
            "imageGenerationConfig": {"quality": "premium", "numberOfImages": 1}}));
        let c = build(&r, "amazon.nova-canvas-v1:0", false).unwrap();
        assert_eq!(
            c.body,
            json!({"taskType": "COLOR_GUIDED_GENERATION",
                "colorGuidedGenerationParams": {"text": "p", "colors": ["#ff0000"]},
                "imageGenerationConfig": {"quality": "premium", "numberOfImages": 1}})
        );
        // Inpainting under AWS's key, the client's params read under LiteLLM's name too.
        let r = req(
            json!({"model": "m", "prompt": "p", "taskType": "INPAINTING",
            "inpaintingParams": {"image": "aW1n", "maskPrompt": "sky"}}),
        );
        let c = build(&r, "amazon.nova-canvas-v1:0", false).unwrap();
        assert_eq!(
            c.body,
            json!({"taskType": "INPAINTING",
                "inPaintingParams": {"text": "p", "image": "aW1n", "maskPrompt": "sky"},
                "imageGenerationConfig": {}})
        );
        let r = req(json!({"model": "m", "prompt": "p", "taskType": "BACKGROUND_REMOVAL"}));
        assert!(build(&r, "amazon.nova-canvas-v1:0", false).is_err());
    }

    #[test]
    fn bad_input_is_a_400() {
        for size in ["big", "0x512", "1024"] {
            let r = req(json!({"model": "m", "prompt": "p", "size": size}));
            let e = build(&r, "amazon.titan-image-generator-v1", false).unwrap_err();
            assert_eq!(e.kind.status(), 400, "{size}");
        }
        let r = req(json!({"model": "m", "prompt": "p", "response_format": "url"}));
        let e = build(&r, "amazon.nova-canvas-v1:0", false).unwrap_err();
        assert!(e.message.contains("base64 only"), "{}", e.message);
        assert!(build(&r, "amazon.nova-canvas-v1:0", true).is_ok());
        let r = req(json!({"model": "m", "prompt": "p", "response_format": "b64_json"}));
        assert!(build(&r, "amazon.nova-canvas-v1:0", false).is_ok());
        let e = build(&r, "meta.llama3-8b-instruct-v1:0", false).unwrap_err();
        assert_eq!(e.kind.status(), 400);
    }

    #[test]
    fn answers() {
        let a = answer(
            Family::StabilityXl,
            &json!({"result": "success", "artifacts": [{"seed": 1, "base64": "AAA=", "finishReason": "SUCCESS"}]}),
            5,
        )
        .unwrap();
        assert_eq!(a.created, 5);
        assert_eq!(a.data[0].b64_json.as_deref(), Some("AAA="));
        let a = answer(
            Family::Stability3,
            &json!({"seeds": [1, 2], "finish_reasons": [null, null], "images": ["AAA=", "BBB="]}),
            5,
        )
        .unwrap();
        assert_eq!(a.data.len(), 2);
        let e = answer(
            Family::Stability3,
            &json!({"seeds": [1], "finish_reasons": ["Filter reason: prompt"], "images": []}),
            5,
        )
        .unwrap_err();
        assert_eq!(e.kind.status(), 400);
        assert!(e.message.contains("Filter reason: prompt"));
        let a = answer(
            Family::NovaCanvas,
            &json!({"images": ["AAA="], "error": null}),
            5,
        )
        .unwrap();
        assert_eq!(a.data.len(), 1);
        assert!(answer(Family::Titan, &json!({"images": [], "error": "blocked"}), 5).is_err());
    }
}
