//! `/images/edits` on Google's APIs as LiteLLM sends them: Gemini image models through
//! `:generateContent`, every uploaded image inline before the prompt (AI Studio: no response
//! modality, as LiteLLM sends it; Vertex AI: `responseModalities: ["IMAGE"]`), `size` as
//! `imageConfig.aspectRatio`; Imagen on Vertex AI through `:predict` with the images as raw
//! reference images (a `mask` as a user-provided mask reference), LiteLLM's inpainting
//! defaults (`EDIT_MODE_INPAINT_INSERTION`, 50 base steps, guidance 7.5) and `n` as
//! `sampleCount`. Other OpenAI fields are not sent (LiteLLM maps only these). The answer's
//! images come back as `b64_json`, without usage: LiteLLM prices edits per image returned.

use base64::Engine;
use serde_json::{json, Value};

use super::images::{answer, is_gemini_image_model};
use super::{errors, Target};
use crate::media::{FilePart, Form};
use crate::providers::fetch::{bare, mime_from_extension};
use crate::providers::http::{header_pairs, json, send};
use crate::providers::Ctx;
use crate::response::Response;
use crate::LlmError;
use llmgate_types::ImageResponse;

/// The image types Gemini and Imagen take.
const IMAGE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
];

/// LiteLLM's edit aspect ratios (any other size: `1:1`).
fn aspect_ratio(size: &str) -> &'static str {
    match size {
        "1792x1024" => "16:9",
        "1024x1792" => "9:16",
        "1280x896" => "4:3",
        "896x1280" => "3:4",
        _ => "1:1",
    }
}

/// An uploaded image's MIME type (its part's, its extension's, or its first bytes'); a file
/// that is no image type Google takes is a 400.
fn image_mime(f: &FilePart, provider: &'static str) -> Result<&'static str, LlmError> {
    let d = &f.data;
    let sniffed = if d.starts_with(b"\x89PNG") {
        Some("image/png")
    } else if d.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if d.len() >= 12 && &d[..4] == b"RIFF" && &d[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    };
    let declared = f.content_type.as_deref().map(bare);
    declared
        .as_deref()
        .and_then(|m| IMAGE_TYPES.iter().find(|t| **t == m).copied())
        .or_else(|| mime_from_extension(&f.filename).filter(|m| IMAGE_TYPES.contains(m)))
        .or(sniffed)
        .ok_or_else(|| {
            LlmError::bad_request(format!(
                "{:?} is not an image this model edits: upload one of {}",
                f.filename,
                IMAGE_TYPES.join(", ")
            ))
            .with_provider(provider)
        })
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn images(form: &Form) -> impl Iterator<Item = &FilePart> {
    form.files
        .iter()
        .filter(|f| f.name == "image" || f.name == "image[]")
}

fn prompt(form: &Form) -> Option<&str> {
    form.field("prompt").filter(|p| !p.is_empty())
}

/// A Gemini image model's `generateContent` body (`vertex`: Vertex AI's, with the user role
/// and the IMAGE modality).
pub fn gemini_body(form: &Form, vertex: bool, provider: &'static str) -> Result<Value, LlmError> {
    let mut parts = vec![];
    for f in images(form) {
        parts.push(
            json!({"inlineData": {"mimeType": image_mime(f, provider)?, "data": b64(&f.data)}}),
        );
    }
    if parts.is_empty() {
        return Err(
            LlmError::bad_request("Gemini image edit requires at least one image.")
                .with_provider(provider),
        );
    }
    if let Some(p) = prompt(form) {
        parts.push(json!({"text": p}));
    }
    let mut content = json!({"parts": parts});
    let mut config = serde_json::Map::new();
    if vertex {
        content["role"] = json!("user");
        config.insert("responseModalities".into(), json!(["IMAGE"]));
    }
    if let Some(s) = form.field("size").filter(|s| !s.is_empty()) {
        config.insert(
            "imageConfig".into(),
            json!({"aspectRatio": aspect_ratio(s)}),
        );
    }
    let mut body = json!({"contents": [content]});
    if !config.is_empty() {
        body["generationConfig"] = Value::Object(config);
    }
    Ok(body)
}

/// Imagen's `:predict` edit body.
pub fn imagen_body(form: &Form, provider: &'static str) -> Result<Value, LlmError> {
    let mut refs = vec![];
    for (i, f) in images(form).enumerate() {
        image_mime(f, provider)?;
        refs.push(
            json!({"referenceType": "REFERENCE_TYPE_RAW", "referenceId": i + 1,
                         "referenceImage": {"bytesBase64Encoded": b64(&f.data)}}),
        );
    }
    if refs.is_empty() {
        return Err(LlmError::bad_request(
            "Vertex AI Imagen image edit requires at least one reference image.",
        )
        .with_provider(provider));
    }
    if let Some(m) = form.file("mask") {
        image_mime(m, provider)?;
        refs.push(json!({"referenceType": "REFERENCE_TYPE_MASK", "referenceId": refs.len() + 1,
                         "referenceImage": {"bytesBase64Encoded": b64(&m.data)},
                         "maskImageConfig": {"maskMode": "MASK_MODE_USER_PROVIDED", "dilation": 0.03}}));
    }
    let Some(p) = prompt(form) else {
        return Err(
            LlmError::bad_request("Vertex AI Imagen image edit requires a prompt.")
                .with_provider(provider),
        );
    };
    let n = form
        .field("n")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Ok(json!({
        "instances": [{"prompt": p, "referenceImages": refs}],
        "parameters": {"sampleCount": n, "editMode": "EDIT_MODE_INPAINT_INSERTION",
                       "editConfig": {"baseSteps": 50}, "guidanceScale": 7.5, "seed": null},
    }))
}

/// An edit of `model` at `t` (`vertex`: Vertex AI, where non-Gemini models are Imagen).
pub async fn edit(
    cx: &Ctx<'_>,
    model: &str,
    form: &Form,
    t: &Target,
    vertex: bool,
) -> Result<Response<ImageResponse>, LlmError> {
    let p = t.provider;
    let (method, body) = if !vertex || is_gemini_image_model(model) {
        ("generateContent", gemini_body(form, vertex, p)?)
    } else {
        ("predict", imagen_body(form, p)?)
    };
    let res = send(t.post(cx, method, &body), p, cx.opts.timeout, true)
        .await
        .map_err(errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, p).await?;
    let mut body = answer(&v, crate::now_secs());
    body.usage = None;
    Ok(Response {
        body,
        headers,
        api_base: t.model_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn form(fields: &[(&str, &str)], files: &[(&str, &str, &'static [u8])]) -> Form {
        Form {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: files
                .iter()
                .map(|(n, f, d)| FilePart {
                    name: n.to_string(),
                    filename: f.to_string(),
                    content_type: None,
                    data: Bytes::from_static(d),
                })
                .collect(),
        }
    }

    #[test]
    fn gemini_and_imagen_bodies() {
        let f = form(
            &[
                ("prompt", "add a hat"),
                ("size", "1792x1024"),
                ("n", "2"),
                ("quality", "high"),
            ],
            &[
                ("image[]", "a.png", b"\x89PNG...."),
                ("image[]", "b.jpg", b"\xff\xd8\xff.."),
                ("mask", "m.png", b"\x89PNG"),
            ],
        );
        let g = gemini_body(&f, false, "gemini").unwrap();
        assert_eq!(g["contents"][0]["parts"].as_array().unwrap().len(), 3);
        assert_eq!(
            g["contents"][0]["parts"][1]["inlineData"]["mimeType"],
            "image/jpeg"
        );
        assert_eq!(g["contents"][0]["parts"][2]["text"], "add a hat");
        assert_eq!(
            g["generationConfig"],
            json!({"imageConfig": {"aspectRatio": "16:9"}})
        );
        assert!(g["contents"][0].get("role").is_none());
        let v = gemini_body(&f, true, "vertex_ai").unwrap();
        assert_eq!(
            v["generationConfig"]["responseModalities"],
            json!(["IMAGE"])
        );
        assert_eq!(v["contents"][0]["role"], "user");
        let i = imagen_body(&f, "vertex_ai").unwrap();
        let refs = i["instances"][0]["referenceImages"].as_array().unwrap();
        assert_eq!(refs.len(), 3);
        assert_eq!(refs[2]["referenceType"], "REFERENCE_TYPE_MASK");
        assert_eq!(refs[2]["referenceId"], 3);
        assert_eq!(i["parameters"]["sampleCount"], 2);
        assert!(i["parameters"]["seed"].is_null());
    }

    #[test]
    fn refusals() {
        let no_prompt = form(&[], &[("image", "a.png", b"\x89PNG")]);
        assert!(gemini_body(&no_prompt, false, "gemini").is_ok());
        let e = imagen_body(&no_prompt, "vertex_ai").unwrap_err();
        assert!(e.message.contains("requires a prompt"));
        let text = form(&[("prompt", "p")], &[("image", "notes.txt", b"hello")]);
        let e = gemini_body(&text, false, "gemini").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("image/png"), "{}", e.message);
    }
}
