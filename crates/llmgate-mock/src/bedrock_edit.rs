//! Bedrock's image edit models on InvokeModel, per AWS's model parameter docs: Stability's
//! edit models (one JSON body with the source image base64 and each model's required fields)
//! and Amazon Nova Canvas's edit tasks (`INPAINTING` with `inPaintingParams`, `OUTPAINTING`,
//! `IMAGE_VARIATION`, `BACKGROUND_REMOVAL`). A wrong body is the `ValidationException`
//! message Bedrock sends; a right one gets base64 PNGs back.

use base64::Engine;
use serde_json::{json, Value};

use crate::bedrock::malformed;
use crate::media::png_b64;

/// What a Stability edit model's id says it does, and the text fields it requires.
const STABILITY: [(&str, &[&str]); 12] = [
    ("inpaint", &["prompt"]),
    ("outpaint", &[]),
    ("search-replace", &["prompt", "search_prompt"]),
    ("search-recolor", &["prompt", "select_prompt"]),
    ("erase", &[]),
    ("remove-background", &[]),
    ("fast-upscale", &[]),
    ("upscale", &["prompt"]),
    ("control-sketch", &["prompt"]),
    ("control-structure", &["prompt"]),
    ("style-guide", &["prompt"]),
    ("style-transfer", &[]),
];

const STABILITY_KEYS: [&str; 26] = [
    "prompt",
    "negative_prompt",
    "image",
    "init_image",
    "style_image",
    "mask",
    "seed",
    "output_format",
    "aspect_ratio",
    "style_preset",
    "grow_mask",
    "search_prompt",
    "select_prompt",
    "left",
    "right",
    "up",
    "down",
    "creativity",
    "control_strength",
    "fidelity",
    "composition_fidelity",
    "style_strength",
    "change_strength",
    "strength",
    "mode",
    "model",
];

/// Whether `model` is one of Stability's edit models.
pub(crate) fn is_stability_edit(model: &str) -> bool {
    model.contains("stability.") && STABILITY.iter().any(|(k, _)| model.contains(k))
}

fn is_b64(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        !s.is_empty() && base64::engine::general_purpose::STANDARD.decode(s).is_ok()
    })
}

/// A Stability edit: its source image, its required texts, an allowed output format.
pub(crate) fn stability(model: &str, body: &Value) -> Result<Value, String> {
    super::bedrock::extraneous(body, &STABILITY_KEYS)?;
    let Some((_, required)) = STABILITY.iter().find(|(k, _)| model.contains(k)) else {
        return malformed("not an edit model");
    };
    let source = if model.contains("style-transfer") {
        if !is_b64(&body["style_image"]) {
            return malformed("style_image must be a base64 image");
        }
        "init_image"
    } else {
        "image"
    };
    if !is_b64(&body[source]) {
        return malformed(&format!("{source} is required and must be base64"));
    }
    if body.get("mask").is_some() && !is_b64(&body["mask"]) {
        return malformed("mask must be base64");
    }
    for k in *required {
        if body[*k].as_str().is_none_or(str::is_empty) {
            return malformed(&format!("{k} is required"));
        }
    }
    if model.contains("outpaint")
        && !["left", "right", "up", "down"]
            .iter()
            .any(|k| body[*k].as_u64().is_some_and(|n| n > 0))
    {
        return malformed("at least one of left, right, up, down is required");
    }
    if body
        .get("output_format")
        .is_some_and(|f| !["png", "jpeg", "webp"].iter().any(|x| f == x))
    {
        return malformed("output_format must be png, jpeg or webp");
    }
    if body["prompt"]
        .as_str()
        .is_some_and(|p| p.contains("mock-filtered"))
    {
        return Ok(
            json!({"seeds": [7], "finish_reasons": ["Filter reason: prompt"], "images": []}),
        );
    }
    Ok(json!({"seeds": [7], "finish_reasons": [null], "images": [png_b64()]}))
}

/// Whether a Nova Canvas body is one of its edit tasks.
pub(crate) fn is_nova_edit(body: &Value) -> bool {
    matches!(
        body["taskType"].as_str(),
        Some("IMAGE_VARIATION" | "OUTPAINTING" | "BACKGROUND_REMOVAL")
    ) || body.get("inPaintingParams").is_some()
}

/// A Nova Canvas edit task.
pub(crate) fn nova(body: &Value) -> Result<Value, String> {
    use super::bedrock::extraneous;
    let task = body["taskType"].as_str().unwrap_or_default();
    let key = match task {
        "INPAINTING" => "inPaintingParams",
        "OUTPAINTING" => "outPaintingParams",
        "IMAGE_VARIATION" => "imageVariationParams",
        "BACKGROUND_REMOVAL" => "backgroundRemovalParams",
        _ => return malformed(&format!("taskType {task} is not valid")),
    };
    let config_ok = task != "BACKGROUND_REMOVAL";
    let mut allowed = vec!["taskType", key];
    if config_ok {
        allowed.push("imageGenerationConfig");
    }
    extraneous(body, &allowed)?;
    let p = &body[key];
    match task {
        "INPAINTING" | "OUTPAINTING" => {
            extraneous(
                p,
                &[
                    "image",
                    "text",
                    "negativeText",
                    "maskImage",
                    "maskPrompt",
                    "outPaintingMode",
                ],
            )?;
            if !is_b64(&p["image"]) {
                return malformed("image is required and must be base64");
            }
            if p["text"].as_str().is_none_or(str::is_empty) {
                return malformed("text is required");
            }
            let masks = [p.get("maskImage"), p.get("maskPrompt")];
            if masks.iter().flatten().count() != 1 {
                return malformed("exactly one of maskImage and maskPrompt is required");
            }
            if p.get("maskImage").is_some() && !is_b64(&p["maskImage"]) {
                return malformed("maskImage must be base64");
            }
        }
        "IMAGE_VARIATION" => {
            extraneous(p, &["images", "text", "negativeText", "similarityStrength"])?;
            let ok = p["images"]
                .as_array()
                .is_some_and(|a| (1..=5).contains(&a.len()) && a.iter().all(is_b64));
            if !ok {
                return malformed("images must hold 1 to 5 base64 images");
            }
            if p.get("similarityStrength")
                .is_some_and(|s| s.as_f64().is_none_or(|s| !(0.2..=1.0).contains(&s)))
            {
                return malformed("similarityStrength must be between 0.2 and 1.0");
            }
        }
        _ => {
            extraneous(p, &["image"])?;
            if !is_b64(&p["image"]) {
                return malformed("image is required and must be base64");
            }
        }
    }
    let n = crate::bedrock::nova_images(&body["imageGenerationConfig"])?;
    let images: Vec<String> = (0..n).map(|_| png_b64()).collect();
    Ok(json!({"images": images, "error": null}))
}
