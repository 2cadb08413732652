//! `/images/edits` through InvokeModel, as LiteLLM's `BedrockImageEdit` sends it, by model:
//! Stability's edit models (`stability.*` with `inpaint`, `outpaint`, `upscale`, `erase`,
//! `remove-background`, `search-recolor`, `search-replace`, `control-sketch`,
//! `control-structure`, `style-guide`, `style-transfer` in the id) get one JSON body with the
//! image base64 (`init_image` for style transfer), the prompt when there is one, the mask and
//! Stability's own fields; Amazon Nova Canvas gets a task — `INPAINTING` when a mask (or
//! `maskPrompt`) is given, else `IMAGE_VARIATION`; `OUTPAINTING` and `BACKGROUND_REMOVAL` when
//! `taskType` asks — with `imageGenerationConfig` from `n`/`size`/`quality`. No other Bedrock
//! model edits images in LiteLLM (Titan Image included). Answers are base64 (`b64_json`).

use base64::Engine;
use llmgate_types::ImageResponse;
use serde_json::{json, Map, Value};

use super::images::{self, Family as ImageFamily};
use crate::media::{FilePart, Form};
use crate::{ErrorKind, LlmError};

/// How a model's edits are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Stability,
    NovaCanvas,
}

/// What in a `stability.*` id makes it an edit model (LiteLLM's `_is_stability_edit_model`).
const STABILITY_EDITS: [&str; 11] = [
    "upscale",
    "outpaint",
    "inpaint",
    "erase",
    "remove-background",
    "search-recolor",
    "search-replace",
    "control-sketch",
    "control-structure",
    "style-guide",
    "style-transfer",
];

/// The edit family of `model` (an id, a cross-region profile or an ARN), or the refusal
/// LiteLLM answers for a model it does not edit.
pub fn family(model: &str) -> Result<Family, LlmError> {
    let m = model.to_ascii_lowercase();
    if m.contains("stability.") && STABILITY_EDITS.iter().any(|k| m.contains(k)) {
        return Ok(Family::Stability);
    }
    if m.contains("amazon.nova-canvas") {
        return Ok(Family::NovaCanvas);
    }
    Err(bad(format!(
        "Unsupported Bedrock image-edit model: {model}. Bedrock edits images with Stability's edit models (stability.stable-image-inpaint-v1:0, stability.stable-image-search-replace-v1:0, ...) and Amazon Nova Canvas (amazon.nova-canvas-v1:0)."
    )))
}

fn bad(message: String) -> LlmError {
    LlmError::bad_request(message).with_provider(super::NAME)
}

fn b64(f: &FilePart) -> String {
    base64::engine::general_purpose::STANDARD.encode(&f.data)
}

/// OpenAI edit params neither family takes (LiteLLM's `UnsupportedParamsError` unless
/// `drop_params`); Stability refuses `quality` too.
const OPENAI_ONLY: [&str; 6] = [
    "background",
    "input_fidelity",
    "output_compression",
    "moderation",
    "partial_images",
    "stream",
];

fn refused(form: &Form, f: Family, model: &str, drop_params: bool) -> Result<(), LlmError> {
    let mut names: Vec<&str> = OPENAI_ONLY
        .into_iter()
        .filter(|k| form.field(k).is_some())
        .collect();
    if f == Family::Stability && form.field("quality").is_some() {
        names.push("quality");
    }
    if names.is_empty() || drop_params {
        return Ok(());
    }
    Err(LlmError::unsupported_params(super::NAME, &names, model))
}

/// The InvokeModel body of an edit of `form`'s first image by `model`.
pub fn build(form: &Form, model: &str, drop_params: bool) -> Result<(Family, Value), LlmError> {
    let f = family(model)?;
    refused(form, f, model, drop_params)?;
    let Some(image) = form.images().next() else {
        return Err(bad("Bedrock image edit requires an image.".into()));
    };
    let body = match f {
        Family::Stability => stability(form, image, model),
        Family::NovaCanvas => nova_canvas(form, image)?,
    };
    Ok((f, body))
}

/// Stability's numeric fields (pixels and seeds as integers, the rest as floats) and its text
/// fields: what LiteLLM's transform copies from the params; anything else stays out.
const STABILITY_INTS: [&str; 5] = ["left", "right", "up", "down", "seed"];
const STABILITY_FLOATS: [&str; 8] = [
    "strength",
    "creativity",
    "control_strength",
    "grow_mask",
    "fidelity",
    "composition_fidelity",
    "style_strength",
    "change_strength",
];
const STABILITY_TEXTS: [&str; 7] = [
    "negative_prompt",
    "aspect_ratio",
    "output_format",
    "mode",
    "style_preset",
    "select_prompt",
    "search_prompt",
];

fn stability(form: &Form, image: &FilePart, model: &str) -> Value {
    let mut b = Map::new();
    b.insert("output_format".into(), json!("png"));
    if let Some(p) = form.field("prompt").filter(|p| !p.is_empty()) {
        b.insert("prompt".into(), json!(p));
    }
    let image_key = if model.to_ascii_lowercase().contains("style-transfer") {
        "init_image"
    } else {
        "image"
    };
    b.insert(image_key.into(), json!(b64(image)));
    // OpenAI's size as Stability's aspect ratio (a client's own aspect_ratio wins below).
    if let Some((w, h)) = form
        .field("size")
        .and_then(crate::media::size::pixels)
        .filter(|(w, h)| *w > 0 && *h > 0)
    {
        b.insert("aspect_ratio".into(), json!(images::aspect_ratio(w, h)));
    }
    for key in ["mask", "init_image", "style_image"] {
        if let Some(file) = form.file(key) {
            b.insert(key.into(), json!(b64(file)));
        } else if let Some(text) = form.field(key) {
            // Already base64, as LiteLLM takes a string.
            b.insert(key.into(), json!(text));
        }
    }
    for (k, _) in &form.fields {
        let Some(v) = form.scalar(k) else { continue };
        let v = if STABILITY_INTS.contains(&k.as_str()) {
            v.as_f64().map_or(v, |n| json!(n as i64))
        } else if STABILITY_FLOATS.contains(&k.as_str()) {
            v.as_f64().map_or(v, |n| json!(n))
        } else if STABILITY_TEXTS.contains(&k.as_str()) {
            v
        } else {
            continue;
        };
        b.insert(k.clone(), v);
    }
    Value::Object(b)
}

/// Nova Canvas's task (LiteLLM's `_nova_canvas_task_body`) and `imageGenerationConfig`.
fn nova_canvas(form: &Form, image: &FilePart) -> Result<Value, LlmError> {
    let image = b64(image);
    let mask = form.file("mask").map(b64);
    let task = form.field("taskType").filter(|t| !t.trim().is_empty());
    let prompt = form.field("prompt").filter(|p| !p.is_empty());
    if prompt.is_none() && matches!(task, Some("INPAINTING" | "OUTPAINTING")) {
        return Err(bad(format!(
            "Amazon Nova Canvas {} requires a text prompt. Pass a non-empty `prompt` in your request.",
            task.unwrap_or_default()
        )));
    }
    // LiteLLM sends a blank text when there is no prompt.
    let text = prompt.unwrap_or(" ");
    let negative = form.field("negativeText");
    let mask_prompt = form.field("maskPrompt");
    let task = match task {
        Some(t) => t,
        None if mask.is_none() && mask_prompt.is_none() => "IMAGE_VARIATION",
        None => "INPAINTING",
    };
    let mut params = Map::new();
    let key = match task {
        // AWS refuses imageGenerationConfig on this task.
        "BACKGROUND_REMOVAL" => {
            return Ok(json!({"taskType": task, "backgroundRemovalParams": {"image": image}}));
        }
        // A mask is ignored here, as LiteLLM does (INPAINTING is the masked task).
        "IMAGE_VARIATION" => {
            params.insert("images".into(), json!([image]));
            params.insert("text".into(), json!(text));
            if let Some(s) = form.scalar("similarityStrength") {
                params.insert("similarityStrength".into(), s);
            }
            "imageVariationParams"
        }
        "INPAINTING" | "OUTPAINTING" => {
            params.insert("image".into(), json!(image));
            params.insert("text".into(), json!(text));
            match (mask_prompt, &mask) {
                (Some(m), _) => params.insert("maskPrompt".into(), json!(m)),
                (None, Some(m)) => params.insert("maskImage".into(), json!(m)),
                (None, None) => {
                    return Err(bad(format!(
                        "Amazon Nova Canvas {task} requires either a mask image or a mask prompt: pass mask=<file> or maskPrompt=<str>."
                    )))
                }
            };
            if task == "OUTPAINTING" {
                if let Some(m) = form.field("outPaintingMode") {
                    params.insert("outPaintingMode".into(), json!(m));
                }
                "outPaintingParams"
            } else {
                "inPaintingParams"
            }
        }
        other => {
            return Err(bad(format!(
                "Unsupported Amazon Nova Canvas taskType: '{other}'. Use BACKGROUND_REMOVAL, OUTPAINTING, IMAGE_VARIATION, INPAINTING, or omit taskType (mask → INPAINTING, else IMAGE_VARIATION)."
            )))
        }
    };
    if let Some(n) = negative {
        params.insert("negativeText".into(), json!(n));
    }
    let mut body = json!({"taskType": task, key: params});
    let config = generation_config(form)?;
    if !config.is_empty() {
        body["imageGenerationConfig"] = Value::Object(config);
    }
    Ok(body)
}

/// `imageGenerationConfig`: the client's own object, then `size`, `n`, `quality`,
/// `cfgScale`, `seed` over it.
fn generation_config(form: &Form) -> Result<Map<String, Value>, LlmError> {
    let mut c = match form.field("imageGenerationConfig") {
        None => Map::new(),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(bad(
                    "imageGenerationConfig must be a JSON object".to_string()
                ))
            }
        },
    };
    if let Some((w, h)) = form.field("size").and_then(crate::media::size::pixels) {
        c.insert("width".into(), json!(w));
        c.insert("height".into(), json!(h));
    }
    if let Some(n) = form.scalar("n") {
        c.insert("numberOfImages".into(), n);
    }
    if let Some(q) = form.field("quality") {
        let q = match q {
            "hd" | "premium" => "premium",
            // Other values go as they are, for Bedrock to judge.
            other => other,
        };
        c.insert("quality".into(), json!(q));
    }
    for k in ["cfgScale", "seed"] {
        if let Some(v) = form.scalar(k) {
            c.insert(k.into(), v);
        }
    }
    Ok(c)
}

/// An InvokeModel answer as OpenAI's: Stability's `errors` and Nova's `message` are errors,
/// refusals (`finish_reasons`, `error`) a 400 as for generations.
pub fn answer(f: Family, v: &Value, created: u64) -> Result<ImageResponse, LlmError> {
    if let Some(e) = v.get("errors").filter(|e| !e.is_null()) {
        return Err(bad(format!("Bedrock image edit error: {e}")));
    }
    let family = match f {
        Family::Stability => ImageFamily::Stability3,
        Family::NovaCanvas => ImageFamily::NovaCanvas,
    };
    let r = images::answer(family, v, created)?;
    if f == Family::NovaCanvas && r.data.is_empty() {
        let why = v["message"].as_str().unwrap_or("no images returned");
        return Err(LlmError::new(
            ErrorKind::BadGateway,
            format!("Nova Canvas image edit error: {why}"),
        )
        .with_provider(super::NAME));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn form(fields: &[(&str, &str)], files: &[&str]) -> Form {
        Form {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: files
                .iter()
                .map(|n| FilePart {
                    name: n.to_string(),
                    filename: format!("{n}.png"),
                    content_type: Some("image/png".into()),
                    data: Bytes::from_static(b"one"),
                })
                .collect(),
        }
    }

    #[test]
    fn families_as_litellm_routes_them() {
        let ok = |m: &str| family(m).unwrap();
        assert_eq!(ok("stability.stable-image-inpaint-v1:0"), Family::Stability);
        assert_eq!(
            ok("us.stability.stable-fast-upscale-v1:0"),
            Family::Stability
        );
        assert_eq!(
            ok("stability.stable-style-transfer-v1:0"),
            Family::Stability
        );
        assert_eq!(ok("us.amazon.nova-canvas-v1:0"), Family::NovaCanvas);
        assert!(family("stability.stable-image-ultra-v1:1").is_err());
        assert!(family("amazon.titan-image-generator-v2:0").is_err());
    }

    #[test]
    fn stability_bodies() {
        let f = form(
            &[
                ("prompt", "a red hat"),
                ("size", "1792x1024"),
                ("n", "1"),
                ("response_format", "b64_json"),
                ("search_prompt", "hat"),
                ("seed", "7"),
                ("grow_mask", "3"),
                ("unknown", "x"),
            ],
            &["image", "mask"],
        );
        let (fam, b) = build(&f, "stability.stable-image-search-replace-v1:0", false).unwrap();
        assert_eq!(fam, Family::Stability);
        assert_eq!(
            b,
            json!({"output_format": "png", "prompt": "a red hat", "image": "b25l",
                   "aspect_ratio": "16:9", "mask": "b25l", "search_prompt": "hat", "seed": 7,
                   "grow_mask": 3.0})
        );
        // Style transfer takes the image as init_image; no prompt, none sent.
        let (_, b) = build(
            &form(&[], &["image"]),
            "stability.stable-style-transfer-v1:0",
            false,
        )
        .unwrap();
        assert_eq!(b, json!({"output_format": "png", "init_image": "b25l"}));
        let e = build(
            &form(&[("quality", "hd")], &["image"]),
            "stability.stable-image-inpaint-v1:0",
            false,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnsupportedParams);
        assert!(build(
            &form(&[("quality", "hd")], &["image"]),
            "stability.stable-image-inpaint-v1:0",
            true
        )
        .is_ok());
    }

    #[test]
    fn nova_canvas_tasks() {
        let m = "amazon.nova-canvas-v1:0";
        let (_, b) = build(
            &form(
                &[
                    ("prompt", "a hat"),
                    ("n", "2"),
                    ("size", "512x512"),
                    ("quality", "hd"),
                ],
                &["image", "mask"],
            ),
            m,
            false,
        )
        .unwrap();
        assert_eq!(
            b,
            json!({"taskType": "INPAINTING",
                   "inPaintingParams": {"image": "b25l", "text": "a hat", "maskImage": "b25l"},
                   "imageGenerationConfig": {"width": 512, "height": 512, "numberOfImages": 2,
                                             "quality": "premium"}})
        );
        let (_, b) = build(
            &form(
                &[
                    ("prompt", "p"),
                    ("similarityStrength", "0.7"),
                    ("seed", "3"),
                ],
                &["image"],
            ),
            m,
            false,
        )
        .unwrap();
        assert_eq!(
            b,
            json!({"taskType": "IMAGE_VARIATION",
                   "imageVariationParams": {"images": ["b25l"], "text": "p",
                                            "similarityStrength": 0.7},
                   "imageGenerationConfig": {"seed": 3}})
        );
        let (_, b) = build(
            &form(
                &[("taskType", "BACKGROUND_REMOVAL"), ("n", "1")],
                &["image"],
            ),
            m,
            false,
        )
        .unwrap();
        assert_eq!(
            b,
            json!({"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": "b25l"}})
        );
        let e = build(&form(&[("taskType", "INPAINTING")], &["image"]), m, false).unwrap_err();
        assert!(
            e.message.contains("requires a text prompt"),
            "{}",
            e.message
        );
        let e = build(&form(&[("taskType", "NOPE")], &["image"]), m, false).unwrap_err();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn answers() {
        let a = answer(
            Family::Stability,
            &json!({"images": ["aGk="], "finish_reasons": [null], "seeds": [1]}),
            5,
        )
        .unwrap();
        assert_eq!(a.data[0].b64_json.as_deref(), Some("aGk="));
        let e = answer(
            Family::Stability,
            &json!({"images": [], "finish_reasons": ["Filter reason: prompt"]}),
            5,
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(answer(Family::NovaCanvas, &json!({"images": []}), 5).is_err());
    }
}
