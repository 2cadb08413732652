//! `azure_ai` image edits as LiteLLM sends them, by model family (its
//! `get_azure_ai_image_edit_config`): MAI models (`MAI-Image-*`) as a form to
//! `{base}/mai/v1/images/edits` (`prompt`, `n`, `size` — default `1024x1024` — and one image);
//! FLUX.2 as JSON to Black Forest Labs' path, the same endpoint as its generations, the image
//! base64 in the body; any other FLUX model (FLUX.1 Kontext) as OpenAI's form on the Azure
//! OpenAI deployment path `{base}/openai/deployments/{model}/images/edits?api-version=`, where
//! the version is required. Other models are refused: LiteLLM edits no other Azure AI model.
//! Every family takes the key in `api-key`.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::ai_images::{self, bad, is_flux2, is_mai};
use crate::media::Form;
use crate::providers::http::{path_segment, SegmentKind};
use crate::{CallOptions, LlmError};

/// How a model's edits are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// MAI's edit endpoint, a form.
    Mai,
    /// BFL's FLUX.2 path, JSON with the image inlined.
    Flux2,
    /// The Azure OpenAI deployment path, OpenAI's form.
    Flux,
}

/// The family of `model`, or LiteLLM's refusal of a model it does not edit.
pub fn family(model: &str) -> Result<Family, LlmError> {
    if is_mai(model) {
        return Ok(Family::Mai);
    }
    if is_flux2(model) {
        return Ok(Family::Flux2);
    }
    let squashed = model.to_ascii_lowercase().replace(['-', '_'], "");
    if squashed.is_empty() || squashed.contains("flux") {
        return Ok(Family::Flux);
    }
    Err(bad(format!(
        "Model {model} is not supported for Azure AI image editing: LiteLLM edits FLUX and MAI models."
    )))
}

/// `api_version`, else `AZURE_AI_API_VERSION`.
fn version(opts: &CallOptions) -> Option<String> {
    opts.api_version
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("AZURE_AI_API_VERSION").ok())
        .filter(|v| !v.is_empty())
}

/// The URL of an edit of `model` under `base`.
pub fn url(base: &str, opts: &CallOptions, model: &str) -> Result<String, LlmError> {
    let v = version(opts);
    match family(model)? {
        Family::Mai => Ok(ai_images::mai_url(base, v.as_deref(), "edits")),
        Family::Flux2 => Ok(ai_images::flux2_url(base, model, v.as_deref())),
        Family::Flux => {
            let Some(v) = v else {
                return Err(bad(
                    "Azure API version is required for Azure AI image edits: set api_version in litellm_params or AZURE_AI_API_VERSION.".into(),
                ));
            };
            let v = crate::providers::http::percent_encode(&v, b"");
            let base = base.split('?').next().unwrap_or(base).trim_end_matches('/');
            if base.contains("/openai/deployments/") {
                return Ok(format!("{base}/images/edits?api-version={v}"));
            }
            let model = path_segment(model, SegmentKind::Segment)
                .map_err(|e| e.with_provider("azure_ai"))?;
            Ok(format!(
                "{base}/openai/deployments/{model}/images/edits?api-version={v}"
            ))
        }
    }
}

/// What MAI's edit form carries besides the image: LiteLLM's supported params.
const MAI_FIELDS: &[&str] = &["model", "prompt", "n", "size"];

/// MAI's form from the client's: `size` checked as `WIDTHxHEIGHT` and defaulted to
/// `1024x1024`; any other field a 400 unless `drop_params` (then left out); only the first
/// image sent, as `image` (a mask is not MAI's).
pub fn mai_form(form: &mut Form, model: &str, drop_params: bool) -> Result<(), LlmError> {
    let others: Vec<String> = form
        .fields
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| !MAI_FIELDS.contains(&k.as_str()))
        .collect();
    if let Some(k) = others.first().filter(|_| !drop_params) {
        return Err(bad(format!(
            "Parameter {k} is not supported for model {model}. Supported parameters are {MAI_FIELDS:?} and image. Set drop_params to drop unsupported parameters."
        )));
    }
    form.fields
        .retain(|(k, _)| MAI_FIELDS.contains(&k.as_str()));
    match form.field("size").filter(|s| !s.is_empty()) {
        Some(size) if crate::media::size::pixels(size).is_none() => {
            return Err(bad(format!(
                "Invalid size format: '{size}'. Expected format 'WIDTHxHEIGHT' (e.g., '1024x1024')."
            )));
        }
        Some(_) => {}
        None => form.set_field("size", "1024x1024".into()),
    }
    let first = form
        .files
        .iter()
        .position(|f| f.name == "image" || f.name == "image[]");
    let mut image = first.map(|i| form.files.swap_remove(i));
    form.files.clear();
    if let Some(mut f) = image.take() {
        f.name = "image".into();
        form.files.push(f);
    }
    Ok(())
}

/// FLUX.2's edit body: `prompt`, `model` and the first image as base64 (`image`), `n` and
/// `size` as the same endpoint's generations take them (`num_images`, `width`/`height`), BFL's
/// own fields (`seed`, `guidance`, ...) passed on; anything else left out, as LiteLLM does.
pub fn flux2_body(form: &Form, model: &str) -> Result<Value, LlmError> {
    let Some(prompt) = form.field("prompt") else {
        return Err(bad("FLUX 2 image edit requires a prompt.".into()));
    };
    let Some(image) = form.images().next() else {
        return Err(bad("FLUX 2 image edit requires an image.".into()));
    };
    let mut body = Map::new();
    body.insert("prompt".into(), json!(prompt));
    body.insert(
        "image".into(),
        json!(base64::engine::general_purpose::STANDARD.encode(&image.data)),
    );
    body.insert("model".into(), json!(model));
    if let Some(n) = form.field("n").and_then(|n| n.trim().parse::<u64>().ok()) {
        body.insert("num_images".into(), json!(n));
    }
    if let Some(size) = form
        .field("size")
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("auto"))
    {
        let Some((w, h)) = crate::media::size::pixels(size) else {
            return Err(bad(format!(
                "Invalid size format '{size}'. Expected 'WxH', for example '1024x1024'."
            )));
        };
        body.insert("width".into(), json!(w));
        body.insert("height".into(), json!(h));
    }
    for (k, _) in &form.fields {
        if !ai_images::FLUX2_FIELDS.contains(&k.as_str()) || body.contains_key(k) {
            continue;
        }
        // A form's values are text: numbers and booleans sent as JSON's.
        if let Some(v) = form.scalar(k) {
            body.insert(k.clone(), v);
        }
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::FilePart;
    use bytes::Bytes;

    fn opts(version: Option<&str>) -> CallOptions {
        CallOptions {
            api_version: version.map(str::to_string),
            ..Default::default()
        }
    }

    fn form(fields: &[(&str, &str)]) -> Form {
        let image = |name: &str, data: &'static [u8]| FilePart {
            name: name.into(),
            filename: format!("{name}.png"),
            content_type: Some("image/png".into()),
            data: Bytes::from_static(data),
        };
        Form {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: vec![
                image("image[]", b"one"),
                image("image[]", b"two"),
                image("mask", b"m"),
            ],
        }
    }

    #[test]
    fn urls_by_family() {
        let base = "https://r.services.ai.azure.com/";
        assert_eq!(
            url(base, &opts(Some("2025-04-01-preview")), "FLUX.1-Kontext-pro").unwrap(),
            "https://r.services.ai.azure.com/openai/deployments/FLUX.1-Kontext-pro/images/edits?api-version=2025-04-01-preview"
        );
        assert_eq!(
            url(base, &opts(None), "MAI-Image-2.5").unwrap(),
            "https://r.services.ai.azure.com/mai/v1/images/edits?api-version=preview"
        );
        assert_eq!(
            url(base, &opts(None), "FLUX.2-pro").unwrap(),
            "https://r.services.ai.azure.com/providers/blackforestlabs/v1/flux-2-pro?api-version=preview"
        );
        let e = url(base, &opts(None), "gpt-image-1").unwrap_err();
        assert!(e
            .message
            .contains("not supported for Azure AI image editing"));
        if std::env::var("AZURE_AI_API_VERSION").is_err() {
            let e = url(base, &opts(None), "FLUX.1-Kontext-pro").unwrap_err();
            assert!(e.message.contains("API version is required"));
        }
        // A model that is not one path segment never reaches the URL.
        assert!(url(base, &opts(Some("v")), "flux/../x").is_err());
    }

    #[test]
    fn mai_form_keeps_its_fields_and_one_image() {
        let mut f = form(&[("model", "MAI-Image-2.5"), ("prompt", "p")]);
        mai_form(&mut f, "MAI-Image-2.5", false).unwrap();
        assert_eq!(f.field("size"), Some("1024x1024"));
        assert_eq!(f.files.len(), 1);
        assert_eq!(
            (f.files[0].name.as_str(), &f.files[0].data[..]),
            ("image", &b"one"[..])
        );
        let mut f = form(&[("prompt", "p"), ("quality", "high")]);
        let e = mai_form(&mut f, "MAI-Image-2.5", false).unwrap_err();
        assert!(e.message.contains("Parameter quality is not supported"));
        mai_form(&mut f, "MAI-Image-2.5", true).unwrap();
        assert_eq!(f.field("quality"), None);
        let mut f = form(&[("prompt", "p"), ("size", "big")]);
        assert!(mai_form(&mut f, "MAI-Image-2.5", false).is_err());
    }

    #[test]
    fn flux2_body_inlines_the_first_image() {
        let f = form(&[
            ("prompt", "a fox"),
            ("n", "2"),
            ("size", "1024x768"),
            ("seed", "7"),
            ("quality", "high"),
        ]);
        let body = flux2_body(&f, "FLUX.2-pro").unwrap();
        assert_eq!(
            body,
            json!({"prompt": "a fox", "image": "b25l", "model": "FLUX.2-pro", "num_images": 2,
                   "width": 1024, "height": 768, "seed": 7})
        );
        let e = flux2_body(&form(&[]), "FLUX.2-pro").unwrap_err();
        assert!(e.message.contains("requires a prompt"));
    }
}
