//! `azure_ai` image generations as LiteLLM 1.110 sends them. Most models (gpt-image, DALL·E,
//! FLUX 1.1 / Kontext) go through its Azure OpenAI image call: the deployment path
//! `{base}/openai/deployments/{model}/images/generations?api-version=` with the request as
//! OpenAI's. MAI models (`MAI-Image-*`) have their own endpoint, `{base}/mai/v1/images/generations`,
//! whose body is `model`, `prompt`, `width`, `height` — one image a call — and whose usage is
//! named its own way. FLUX.2 models go to Black Forest Labs' path,
//! `{base}/providers/blackforestlabs/v1/{flux-2-pro|flux-2-flex}`, with BFL's fields
//! (`num_images`, `width`, `height`, `guidance`, `steps`, ...).

use llmgate_types::ImageGenerationRequest;
use serde_json::{json, Map, Value};

use crate::providers::http::{path_segment, SegmentKind};
use crate::{CallOptions, LlmError};

/// `model` lower-cased without `-`, `_` and `.`, the form LiteLLM matches model families on.
fn squashed(model: &str) -> String {
    model
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect()
}

/// An Azure AI FLUX.2 model (`FLUX.2-pro`, `flux.2-flex`, ...).
pub fn is_flux2(model: &str) -> bool {
    let m = model.to_ascii_lowercase().replace(['.', '_'], "-");
    m.contains("flux-2") || m.contains("flux2")
}

/// An Azure AI MAI image model (`MAI-Image-2.5`, ...).
pub fn is_mai(model: &str) -> bool {
    squashed(model).contains("maiimage")
}

pub(super) fn bad(msg: String) -> LlmError {
    LlmError::bad_request(msg).with_provider("azure_ai")
}

/// The URL of an image generation for `model` under `base`.
pub fn url(base: &str, opts: &CallOptions, model: &str) -> Result<String, LlmError> {
    let version = opts.api_version.as_deref().filter(|v| !v.is_empty());
    if is_mai(model) {
        return Ok(mai_url(base, version, "generations"));
    }
    if is_flux2(model) {
        return Ok(flux2_url(base, model, version));
    }
    let version = version.unwrap_or(super::DEFAULT_API_VERSION);
    let base = base.trim_end_matches('/');
    if base.contains("/openai/deployments/") {
        return Ok(format!("{base}/images/generations?api-version={version}"));
    }
    let model =
        path_segment(model, SegmentKind::Segment).map_err(|e| e.with_provider("azure_ai"))?;
    Ok(format!(
        "{base}/openai/deployments/{model}/images/generations?api-version={version}"
    ))
}

/// MAI's endpoint for `op` (`generations`, `edits`): a base already on a `/mai/` path keeps
/// it (its `/images/...` tail replaced); the base's own query is kept, else `api-version`
/// (default `preview`).
pub(super) fn mai_url(base: &str, version: Option<&str>, op: &str) -> String {
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    let path = path.trim_end_matches('/');
    let path = if path.contains("/mai/") {
        let prefix = path.split("/images/").next().unwrap_or(path);
        format!("{prefix}/images/{op}")
    } else {
        format!("{path}/mai/v1/images/{op}")
    };
    match query {
        Some(q) => format!("{path}?{q}"),
        None => format!("{path}?api-version={}", version.unwrap_or("preview")),
    }
}

/// Black Forest Labs' path for a FLUX.2 model (`flux-2-flex` for the flex models, else
/// `flux-2-pro`); a base already on a `/providers/` path is the endpoint. `api-version`
/// defaults to `preview`.
pub(super) fn flux2_url(base: &str, model: &str, version: Option<&str>) -> String {
    let base = base.trim_end_matches('/');
    let version = version.unwrap_or("preview");
    if base.contains("/providers/") {
        return if base.contains('?') {
            base.to_string()
        } else {
            format!("{base}?api-version={version}")
        };
    }
    let normalized = model.to_ascii_lowercase().replace(['.', '_'], "-");
    let path = if normalized.contains("flux-2-flex") {
        "flux-2-flex"
    } else {
        "flux-2-pro"
    };
    format!("{base}/providers/blackforestlabs/v1/{path}?api-version={version}")
}

/// OpenAI fields LiteLLM drops for FLUX.2 without a word (BFL has nothing like them).
const FLUX2_DROPPED: &[&str] = &[
    "background",
    "moderation",
    "output_compression",
    "quality",
    "user",
];
/// BFL's fields a client may send as they are (numbers sent as strings are parsed).
pub(super) const FLUX2_FIELDS: &[&str] = &[
    "output_format",
    "seed",
    "safety_tolerance",
    "aspect_ratio",
    "width",
    "height",
    "num_images",
    "guidance",
    "steps",
];

/// The FLUX.2 request for `req`: `n` as `num_images`, `size` as `width` and `height`
/// (`auto` left out), BFL's own fields passed on, OpenAI's `quality`, `user`, `background`,
/// `moderation` and `output_compression` dropped; anything else a 400 unless `drop_params`.
pub fn flux2_body(req: &ImageGenerationRequest, drop_params: bool) -> Result<Value, LlmError> {
    let model = &req.model;
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("prompt".into(), json!(req.prompt));
    if let Some(n) = req.n {
        body.insert("num_images".into(), json!(n));
    }
    if let Some(size) = req
        .size
        .as_deref()
        .filter(|s| !s.eq_ignore_ascii_case("auto"))
    {
        let parsed = crate::media::size::pixels(size);
        let Some((w, h)) = parsed else {
            return Err(bad(format!(
                "Invalid size format '{size}'. Expected 'WxH', for example '1024x1024'."
            )));
        };
        body.insert("width".into(), json!(w));
        body.insert("height".into(), json!(h));
    }
    let mut unsupported = Vec::new();
    if req.response_format.is_some() {
        unsupported.push("response_format".to_string());
    }
    for (k, v) in &req.extra {
        if FLUX2_DROPPED.contains(&k.as_str()) {
            continue;
        }
        if !FLUX2_FIELDS.contains(&k.as_str()) {
            unsupported.push(k.clone());
            continue;
        }
        let v = match (k.as_str(), v.as_str()) {
            ("guidance", Some(s)) => s.parse::<f64>().map(|f| json!(f)).unwrap_or(v.clone()),
            ("aspect_ratio" | "output_format", _) | (_, None) => v.clone(),
            (_, Some(s)) => s.parse::<i64>().map(|i| json!(i)).unwrap_or(v.clone()),
        };
        body.insert(k.clone(), v);
    }
    if !unsupported.is_empty() && !drop_params {
        return Err(bad(format!(
            "Parameters {unsupported:?} are not supported for model {model}. Supported parameters are n, size, {}. Set drop_params to drop unsupported parameters.",
            FLUX2_FIELDS.join(", ")
        )));
    }
    Ok(Value::Object(body))
}

/// The smallest side MAI takes and the most pixels, checked on `size` (as LiteLLM does) so a
/// size MAI would refuse is a 400 that names the bound.
const MAI_MIN_SIDE: u64 = 768;
const MAI_MAX_PIXELS: u64 = 1024 * 1024;

/// The MAI request for `req`, and the width and height it asks for. `n` above 1 and any
/// parameter MAI has no field for are a 400 unless `drop_params` (then left out); `width` and
/// `height` sent by the client pass through; the default is 1024×1024.
pub fn mai_body(
    req: &ImageGenerationRequest,
    drop_params: bool,
) -> Result<(Value, (u64, u64)), LlmError> {
    let model = &req.model;
    let refuse = |what: &str| -> Result<(), LlmError> {
        if drop_params {
            Ok(())
        } else {
            Err(bad(format!(
                "{what} is not supported for model {model}: the Azure AI MAI image endpoint takes prompt, size (or width and height) and one image a call. Set drop_params to drop it."
            )))
        }
    };
    if req.n.is_some_and(|n| n > 1) {
        refuse(&format!("n={}", req.n.unwrap_or_default()))?;
    }
    for (name, set) in [
        ("quality", req.quality.is_some()),
        ("response_format", req.response_format.is_some()),
        ("user", req.user.is_some()),
    ] {
        if set {
            refuse(name)?;
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("prompt".into(), json!(req.prompt));
    let (mut width, mut height) = (1024, 1024);
    if let Some(size) = req.size.as_deref().filter(|s| !s.is_empty()) {
        (width, height) = mai_size(size)?;
    }
    for (k, v) in &req.extra {
        match (k.as_str(), v.as_u64()) {
            ("width", Some(w)) => width = w,
            ("height", Some(h)) => height = h,
            _ => refuse(k)?,
        }
    }
    body.insert("width".into(), json!(width));
    body.insert("height".into(), json!(height));
    Ok((Value::Object(body), (width, height)))
}

pub(super) fn mai_size(size: &str) -> Result<(u64, u64), LlmError> {
    let parsed = crate::media::size::pixels(size);
    let Some((w, h)) = parsed else {
        return Err(bad(format!(
            "Invalid size format: '{size}'. Expected format 'WIDTHxHEIGHT' (e.g., '1024x1024')."
        )));
    };
    if w < MAI_MIN_SIDE || h < MAI_MIN_SIDE {
        return Err(bad(format!(
            "Unsupported size value: '{size}'. Azure AI MAI image models require width and height of at least {MAI_MIN_SIDE} pixels."
        )));
    }
    if w * h > MAI_MAX_PIXELS {
        return Err(bad(format!(
            "Unsupported size value: '{size}'. Azure AI MAI image models accept at most {MAI_MAX_PIXELS} total pixels ({w}x{h} is {})."
        , w * h)));
    }
    Ok((w, h))
}

/// MAI's usage in OpenAI's image usage shape: text and image input tokens from
/// `num_input_text_tokens` / `num_input_image_tokens` (or `input_tokens_details`), output
/// from `output_tokens`, `num_output_tokens` or `output_image_tokens`; totals filled in.
pub fn mai_answer(v: &mut Value) {
    let Some(u) = v.get_mut("usage").and_then(Value::as_object_mut) else {
        return;
    };
    let num = |u: &Map<String, Value>, k: &str| u.get(k).and_then(Value::as_u64);
    let details = u
        .get("input_tokens_details")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let text = num(u, "num_input_text_tokens")
        .or_else(|| num(&details, "text_tokens"))
        .or_else(|| num(u, "input_tokens"))
        .unwrap_or(0);
    let image = num(u, "num_input_image_tokens")
        .or_else(|| num(&details, "image_tokens"))
        .unwrap_or(0);
    let output = num(u, "output_tokens")
        .or_else(|| num(u, "num_output_tokens"))
        .or_else(|| num(u, "output_image_tokens"))
        .unwrap_or(0);
    let input = num(u, "input_tokens").unwrap_or(text + image);
    let total = num(u, "total_tokens").unwrap_or(input + output);
    u.insert("input_tokens".into(), json!(input));
    u.insert(
        "input_tokens_details".into(),
        json!({"text_tokens": text, "image_tokens": image}),
    );
    u.insert("output_tokens".into(), json!(output));
    u.insert("total_tokens".into(), json!(total));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(version: Option<&str>) -> CallOptions {
        CallOptions {
            api_version: version.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn urls_by_model_family() {
        let base = "https://r.services.ai.azure.com/";
        assert_eq!(
            url(base, &opts(None), "FLUX-1.1-pro").unwrap(),
            "https://r.services.ai.azure.com/openai/deployments/FLUX-1.1-pro/images/generations?api-version=2024-10-21"
        );
        assert_eq!(
            url("https://r.services.ai.azure.com/openai/deployments/d", &opts(Some("preview")), "x").unwrap(),
            "https://r.services.ai.azure.com/openai/deployments/d/images/generations?api-version=preview"
        );
        assert_eq!(
            url(base, &opts(None), "MAI-Image-2.5").unwrap(),
            "https://r.services.ai.azure.com/mai/v1/images/generations?api-version=preview"
        );
        assert_eq!(
            url(
                "https://r.example/mai/v1/images/edits?x=1",
                &opts(Some("v")),
                "mai_image_2"
            )
            .unwrap(),
            "https://r.example/mai/v1/images/generations?x=1"
        );
        assert_eq!(
            url(base, &opts(None), "FLUX.2-pro").unwrap(),
            "https://r.services.ai.azure.com/providers/blackforestlabs/v1/flux-2-pro?api-version=preview"
        );
        assert_eq!(
            url(base, &opts(Some("2025-04-01")), "flux.2-flex").unwrap(),
            "https://r.services.ai.azure.com/providers/blackforestlabs/v1/flux-2-flex?api-version=2025-04-01"
        );
        assert_eq!(
            url(
                "https://r.example/providers/blackforestlabs/v1/flux-2-pro",
                &opts(None),
                "FLUX.2-pro"
            )
            .unwrap(),
            "https://r.example/providers/blackforestlabs/v1/flux-2-pro?api-version=preview"
        );
        assert!(url(base, &opts(None), "../x").is_err());
    }

    fn req(v: Value) -> ImageGenerationRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn mai_bodies_take_sizes_and_refuse_what_mai_has_no_field_for() {
        let r = req(json!({"model": "MAI-Image-2.5", "prompt": "p", "size": "1024x768", "n": 1}));
        let (body, wh) = mai_body(&r, false).unwrap();
        assert_eq!(
            body,
            json!({"model": "MAI-Image-2.5", "prompt": "p", "width": 1024, "height": 768})
        );
        assert_eq!(wh, (1024, 768));
        let (body, _) = mai_body(&req(json!({"model": "m", "prompt": "p"})), false).unwrap();
        assert_eq!(
            (body["width"].clone(), body["height"].clone()),
            (json!(1024), json!(1024))
        );
        for (r, says) in [
            (json!({"model": "m", "prompt": "p", "n": 2}), "n=2"),
            (
                json!({"model": "m", "prompt": "p", "quality": "hd"}),
                "quality",
            ),
            (
                json!({"model": "m", "prompt": "p", "size": "512x512"}),
                "at least 768",
            ),
            (
                json!({"model": "m", "prompt": "p", "size": "1792x1024"}),
                "at most",
            ),
            (
                json!({"model": "m", "prompt": "p", "size": "big"}),
                "WIDTHxHEIGHT",
            ),
        ] {
            let e = mai_body(&req(r), false).unwrap_err();
            assert!(e.message.contains(says), "{says}: {}", e.message);
        }
        let dropped = req(json!({"model": "m", "prompt": "p", "n": 3, "style": "vivid"}));
        let (body, _) = mai_body(&dropped, true).unwrap();
        assert!(body.get("n").is_none() && body.get("style").is_none());
    }

    #[test]
    fn flux2_bodies_use_bfls_fields() {
        let r = req(
            json!({"model": "FLUX.2-flex", "prompt": "a fox", "n": 2, "size": "1536x1024",
                           "guidance": "4.5", "steps": 32, "output_format": "jpeg", "quality": "hd"}),
        );
        assert_eq!(
            flux2_body(&r, false).unwrap(),
            json!({"model": "FLUX.2-flex", "prompt": "a fox", "num_images": 2, "width": 1536,
                   "height": 1024, "guidance": 4.5, "steps": 32, "output_format": "jpeg"})
        );
        let auto = req(json!({"model": "FLUX.2-pro", "prompt": "p", "size": "auto"}));
        assert_eq!(
            flux2_body(&auto, false).unwrap(),
            json!({"model": "FLUX.2-pro", "prompt": "p"})
        );
        let bad_size = req(json!({"model": "FLUX.2-pro", "prompt": "p", "size": "large"}));
        assert!(flux2_body(&bad_size, false)
            .unwrap_err()
            .message
            .contains("Expected 'WxH'"));
        let style = req(json!({"model": "FLUX.2-pro", "prompt": "p", "style": "vivid"}));
        assert!(flux2_body(&style, false)
            .unwrap_err()
            .message
            .contains("style"));
        assert_eq!(
            flux2_body(&style, true).unwrap(),
            json!({"model": "FLUX.2-pro", "prompt": "p"})
        );
    }

    #[test]
    fn mai_usage_becomes_openais() {
        let mut v =
            json!({"data": [], "usage": {"num_input_text_tokens": 9, "num_output_tokens": 1056}});
        mai_answer(&mut v);
        assert_eq!(
            v["usage"],
            json!({"num_input_text_tokens": 9, "num_output_tokens": 1056, "input_tokens": 9,
                   "input_tokens_details": {"text_tokens": 9, "image_tokens": 0},
                   "output_tokens": 1056, "total_tokens": 1065})
        );
    }
}
