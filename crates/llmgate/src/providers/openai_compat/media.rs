//! The media endpoints on OpenAI's protocol: `/images/*`, `/audio/*`, `/moderations`, for
//! the rows LiteLLM serves them on (OpenAI all of them; Azure images, audio; Groq audio;
//! xAI and nscale image generation; DashScope image generations, edits and speech
//! ([`super::dashscope_images`], [`super::dashscope_edits`], [`super::dashscope_speech`]); Azure AI image
//! generations and edits ([`ai_images`], [`ai_edits`]) and transcriptions; Scaleway,
//! Fireworks and xAI transcriptions (xAI's on its own STT endpoint, [`super::xai_stt`]);
//! Mistral transcriptions, speech ([`super::mistral_speech`]) and moderations). JSON bodies
//! go as the client sent them (model replaced); forms are re-encoded around the uploaded
//! bytes, not copies.

use futures::StreamExt;
use llmgate_types::{
    ImageGenerationRequest, ImageResponse, ModerationRequest, ModerationResponse, SpeechRequest,
};
use serde_json::Value;

use super::table::{Quirks, Style};
use super::{
    dashscope, dashscope_edits, dashscope_images, dashscope_speech, mistral_speech, xai_stt,
    OpenAiCompat,
};
use crate::media::{multipart, Audio, FormKind, FormRequest, Transcript};
use crate::providers::azure::ai_edits::{self, Family};
use crate::providers::azure::ai_images;
use crate::providers::http::{header_pairs, send, whole};
use crate::providers::Ctx;
use crate::response::Response;
use crate::{ErrorKind, LlmError};

/// The path of `/images/generations` (`azure_ai` builds its URL apart).
pub(super) const IMAGES: &str = "images/generations";
/// The path of `/images/edits` (`azure_ai` builds its URL apart).
pub(super) const EDITS: &str = "images/edits";
/// The path of `/audio/transcriptions` (xAI's and `azure_ai`'s URLs are built apart).
pub(super) const TRANSCRIPTIONS: &str = "audio/transcriptions";
/// The path of `/audio/speech` (Mistral's URL is built apart).
pub(super) const SPEECH: &str = "audio/speech";

/// What LiteLLM serves on each row (its `provider_endpoints_support`), by path.
fn serves(row: &str, path: &str) -> bool {
    match row {
        "openai" => true,
        "azure" => path != "moderations" && path != "images/variations",
        "groq" => path.starts_with("audio/"),
        "nscale" => path == IMAGES,
        "dashscope" => path == IMAGES || path == EDITS || path == SPEECH,
        "xai" => path == IMAGES || path == TRANSCRIPTIONS,
        "azure_ai" => path == IMAGES || path == EDITS || path == TRANSCRIPTIONS,
        "scaleway" | "fireworks_ai" => path == TRANSCRIPTIONS,
        "mistral" => path == TRANSCRIPTIONS || path == SPEECH || path == "moderations",
        _ => false,
    }
}

fn check(p: &OpenAiCompat, path: &str) -> Result<(), LlmError> {
    if serves(p.spec.name, path) {
        Ok(())
    } else {
        Err(LlmError::new(
            ErrorKind::BadRequest,
            format!(
                "{} does not support /{path} (llmgate serves it where LiteLLM does)",
                p.spec.name
            ),
        )
        .with_provider(p.spec.name))
    }
}

fn to_value<T: serde::Serialize>(req: &T) -> Result<Value, LlmError> {
    serde_json::to_value(req).map_err(|e| LlmError::bad_request(format!("invalid request: {e}")))
}

pub(super) async fn image_generation(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    req: ImageGenerationRequest,
) -> Result<Response<ImageResponse>, LlmError> {
    check(p, IMAGES)?;
    if p.spec.name == dashscope::NAME {
        let body = dashscope_images::body(&req);
        let res: Response<Value> = p.call(cx, &req.model, IMAGES, body, None).await?;
        return Ok(Response {
            body: dashscope_images::answer(&res.body)?,
            headers: res.headers,
            api_base: res.api_base,
        });
    }
    if p.spec.style == Style::AzureAi && ai_images::is_mai(&req.model) {
        let (body, (w, h)) = ai_images::mai_body(&req, cx.opts.drop_params)?;
        let fix: Option<fn(&mut Value)> = Some(ai_images::mai_answer);
        let mut res: Response<ImageResponse> = p.call(cx, &req.model, IMAGES, body, fix).await?;
        // LiteLLM reports the size MAI made (its answer does not say).
        res.body
            .extra
            .insert("size".into(), Value::String(format!("{w}x{h}")));
        return Ok(res);
    }
    let body = if p.spec.style == Style::AzureAi && ai_images::is_flux2(&req.model) {
        ai_images::flux2_body(&req, cx.opts.drop_params)?
    } else {
        to_value(&req)?
    };
    p.call(cx, &req.model, IMAGES, body, None).await
}

pub(super) async fn moderation(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    req: ModerationRequest,
) -> Result<Response<ModerationResponse>, LlmError> {
    const PATH: &str = "moderations";
    check(p, PATH)?;
    let body = to_value(&req)?;
    let fix: Option<fn(&mut Value)> = match p.spec.quirks {
        Quirks::Mistral => Some(flag_results),
        _ => None,
    };
    p.call(cx, &req.model, PATH, body, fix).await
}

/// Mistral's moderation results carry `categories` and `category_scores` but no `flagged`;
/// OpenAI's answer (and its clients) have it: true when any category is. Mistral's category
/// names and scores are kept as they are.
fn flag_results(v: &mut Value) {
    let Some(results) = v.get_mut("results").and_then(Value::as_array_mut) else {
        return;
    };
    for r in results.iter_mut().filter_map(Value::as_object_mut) {
        if r.contains_key("flagged") {
            continue;
        }
        let flagged = r
            .get("categories")
            .and_then(Value::as_object)
            .is_some_and(|c| c.values().any(|b| b.as_bool() == Some(true)));
        r.insert("flagged".into(), Value::Bool(flagged));
    }
}

/// Sends `req`'s form to `kind`'s path; the form's `model` is the upstream's name (Azure's
/// deployment is in its URL, and the field is sent too, as LiteLLM's OpenAI client does).
async fn send_form(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    kind: FormKind,
    mut req: FormRequest,
) -> Result<reqwest::Response, LlmError> {
    let path = kind.path();
    check(p, path)?;
    if p.spec.style != Style::Azure || !req.model.is_empty() {
        req.form.set_field("model", req.model.clone());
    }
    let drop = cx.opts.drop_params;
    if p.spec.style == Style::AzureAi
        && kind == FormKind::ImageEdit
        && ai_edits::family(&req.model)? == Family::Mai
    {
        ai_edits::mai_form(&mut req.form, &req.model, drop)?;
    }
    if p.spec.name == xai_stt::NAME && kind == FormKind::Transcription {
        xai_stt::form(&mut req.form, &req.model, drop)?;
    }
    let enc = multipart::encode(&req.form);
    let rb = p
        .start(cx, &req.model, path)
        .await?
        .header("content-type", enc.content_type.clone())
        .header("content-length", enc.len)
        .body(enc.body());
    send(rb, p.spec.name, cx.opts.timeout, true).await
}

pub(super) async fn image_form(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    kind: FormKind,
    req: FormRequest,
) -> Result<Response<ImageResponse>, LlmError> {
    let mut fix: Option<fn(&mut Value)> = None;
    if p.spec.name == dashscope::NAME && kind == FormKind::ImageEdit {
        check(p, EDITS)?;
        let body = dashscope_edits::body(&req.form, &req.model, cx.opts.drop_params)?;
        drop(req.form);
        let res: Response<Value> = p.call(cx, &req.model, EDITS, body, None).await?;
        return Ok(Response {
            body: dashscope_images::answer(&res.body)?,
            headers: res.headers,
            api_base: res.api_base,
        });
    }
    if p.spec.style == Style::AzureAi && kind == FormKind::ImageEdit {
        check(p, EDITS)?;
        match ai_edits::family(&req.model)? {
            // FLUX.2 edits on the generation endpoint: JSON, the image inlined.
            Family::Flux2 => {
                let body = ai_edits::flux2_body(&req.form, &req.model)?;
                return p.call(cx, &req.model, EDITS, body, None).await;
            }
            Family::Mai => fix = Some(ai_images::mai_answer),
            Family::Flux => {}
        }
    }
    let res = send_form(p, cx, kind, req).await?;
    let headers = header_pairs(res.headers());
    let body = match fix {
        None => crate::providers::http::json(res, p.spec.name).await?,
        Some(fix) => {
            let mut v: Value = crate::providers::http::json(res, p.spec.name).await?;
            fix(&mut v);
            serde_json::from_value(v).map_err(|e| {
                LlmError::new(
                    ErrorKind::InternalServer,
                    format!("could not parse the upstream answer: {e}"),
                )
                .with_provider(p.spec.name)
            })?
        }
    };
    Ok(Response {
        body,
        headers,
        api_base: p.api_base_of(cx),
    })
}

pub(super) async fn audio_form(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    kind: FormKind,
    req: FormRequest,
) -> Result<Response<Transcript>, LlmError> {
    let res = send_form(p, cx, kind, req).await?;
    let (headers, content_type, body) = whole(res, "application/json", p.spec.name).await?;
    if p.spec.name == xai_stt::NAME && kind == FormKind::Transcription {
        return Ok(Response {
            body: xai_stt::answer(&body)?,
            headers,
            api_base: p.api_base_of(cx),
        });
    }
    Ok(Response {
        body: Transcript::new(content_type, body),
        headers,
        api_base: p.api_base_of(cx),
    })
}

pub(super) async fn speech(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    req: SpeechRequest,
) -> Result<Response<Audio>, LlmError> {
    const PATH: &str = SPEECH;
    check(p, PATH)?;
    let asked = req.content_type();
    if p.spec.name == mistral_speech::NAME {
        return mistral(p, cx, req).await;
    }
    if p.spec.name == dashscope::NAME {
        return dashscope_tts(p, cx, req).await;
    }
    let body = to_value(&req)?;
    let rb = p.request(cx, &req.model, PATH, &body).await?;
    let res = send(rb, p.spec.name, cx.opts.stream_wait(), false).await?;
    let headers = header_pairs(res.headers());
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(asked)
        .to_string();
    let provider = p.spec.name;
    let idle = cx.opts.stream_wait();
    let stream = Box::pin(
        res.bytes_stream()
            .map(move |r| r.map_err(|e| LlmError::from_transport(&e, provider))),
    );
    // Silence longer than the stream timeout ends the answer with an error.
    let stream: crate::media::ByteStream = match idle {
        Some(t) => Box::pin(crate::media::idle_bounded(stream, t, provider)),
        None => stream,
    };
    Ok(Response {
        body: Audio {
            content_type,
            stream,
            usage: None,
        },
        headers,
        api_base: p.api_base_of(cx),
    })
}

/// Mistral's speech: JSON with the audio base64 inside, sent on as one chunk of bytes.
async fn mistral(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    req: SpeechRequest,
) -> Result<Response<Audio>, LlmError> {
    let body = mistral_speech::body(&req);
    let rb = p.request(cx, &req.model, SPEECH, &body).await?;
    let res = send(rb, p.spec.name, cx.opts.timeout, true).await?;
    let headers = header_pairs(res.headers());
    let bytes = res
        .bytes()
        .await
        .map_err(|e| LlmError::from_transport(&e, p.spec.name))?;
    let audio = mistral_speech::audio(&bytes)?;
    Ok(Response {
        body: Audio {
            content_type: req.content_type().to_string(),
            stream: Box::pin(futures::stream::once(async move { Ok(audio) })),
            usage: None,
        },
        headers,
        api_base: p.api_base_of(cx),
    })
}

/// DashScope's speech: JSON naming an audio file, downloaded and sent on as one chunk.
async fn dashscope_tts(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    req: SpeechRequest,
) -> Result<Response<Audio>, LlmError> {
    let body = dashscope_speech::body(&req);
    let res: Response<Value> = p.call(cx, &req.model, SPEECH, body, None).await?;
    let url = dashscope_speech::audio_url(&res.body)?;
    let (content_type, audio) = dashscope_speech::download(url, cx.opts).await?;
    let audio = bytes::Bytes::from(audio);
    Ok(Response {
        body: Audio {
            content_type,
            stream: Box::pin(futures::stream::once(async move { Ok(audio) })),
            usage: None,
        },
        headers: res.headers,
        api_base: res.api_base,
    })
}

impl OpenAiCompat {
    fn api_base_of(&self, cx: &Ctx<'_>) -> String {
        self.base(cx.opts).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mistral_results_are_flagged_when_any_category_is() {
        let mut v = json!({"id": "m", "model": "mistral-moderation-latest", "results": [
            {"categories": {"sexual": false, "violence_and_threats": true}, "category_scores": {"sexual": 0.0, "violence_and_threats": 0.9}},
            {"categories": {"sexual": false}, "category_scores": {"sexual": 0.01}},
            {"flagged": true, "categories": {}},
        ]});
        flag_results(&mut v);
        let flags: Vec<_> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["flagged"].clone())
            .collect();
        assert_eq!(flags, [json!(true), json!(false), json!(true)]);
        assert_eq!(
            v["results"][0]["category_scores"]["violence_and_threats"],
            json!(0.9)
        );
    }

    #[test]
    fn mistral_and_fireworks_serve_what_litellm_does() {
        assert!(serves("mistral", "audio/transcriptions") && serves("mistral", "moderations"));
        assert!(serves("mistral", SPEECH) && !serves("mistral", "images/generations"));
        assert!(serves("fireworks_ai", "audio/transcriptions"));
        assert!(!serves("fireworks_ai", "images/generations"));
        assert!(!serves("fireworks_ai", "audio/translations"));
        assert!(serves("xai", TRANSCRIPTIONS) && !serves("xai", "audio/translations"));
        assert!(serves("azure_ai", EDITS) && serves("azure_ai", TRANSCRIPTIONS));
        assert!(!serves("azure_ai", "audio/speech") && !serves("azure_ai", "images/variations"));
        assert!(serves("dashscope", EDITS) && serves("dashscope", SPEECH));
        assert!(!serves("dashscope", TRANSCRIPTIONS) && !serves("dashscope", "images/variations"));
    }
}
