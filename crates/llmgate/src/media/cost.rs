//! What a media call costs, as LiteLLM's cost calculator prices it: images per image, per
//! pixel (the catalog's `{quality}/{size}/{model}` rows) or per token (gpt-image, Gemini and
//! Vertex image models, from the answer's usage; Bedrock per image returned, Stability's
//! SDXL at the row of its size and steps); transcriptions per token when the answer
//! reports tokens and the model has token prices, else per second of audio; speech per
//! character (or per input token where the model is priced by token).

use llmgate_types::ImageResponse;
use serde_json::Value;

use super::Transcript;
use crate::catalog::{Catalog, ModelInfo};

/// What an image request asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageAsk<'a> {
    pub size: Option<&'a str>,
    pub quality: Option<&'a str>,
    pub n: Option<u32>,
    /// Stability SDXL's `steps` (its price rows are per size and step range).
    pub steps: Option<u64>,
}

fn tokens(u: &Value, keys: &[&str]) -> u64 {
    keys.iter()
        .find_map(|k| u.get(*k).and_then(Value::as_u64))
        .unwrap_or(0)
}

/// Token pricing of an image answer's usage (`input_tokens`, `input_tokens_details`,
/// `output_tokens`): None without usage, or when the model has no token price.
fn image_tokens_cost(info: &ModelInfo, usage: Option<&Value>) -> Option<f64> {
    let u = usage?;
    let input = tokens(u, &["input_tokens", "prompt_tokens"]);
    let output = tokens(u, &["output_tokens", "completion_tokens"]);
    if input == 0 && output == 0 {
        return None;
    }
    let priced = [
        info.input_cost_per_token,
        info.output_cost_per_token,
        info.input_cost_per_image_token,
        info.output_cost_per_image_token,
    ];
    if priced.iter().all(Option::is_none) {
        return None;
    }
    let details = u.get("input_tokens_details");
    let (text_in, image_in) = match details {
        Some(d) => (tokens(d, &["text_tokens"]), tokens(d, &["image_tokens"])),
        None => (input, 0),
    };
    let text_in = text_in + input.saturating_sub(text_in + image_in);
    let in_price = info.input_cost_per_token.unwrap_or(0.0);
    let image_in_price = info.input_cost_per_image_token.unwrap_or(in_price);
    // Output tokens are image tokens unless the provider itemises them.
    let out_details = u.get("output_tokens_details");
    let (text_out, image_out) = match out_details {
        Some(d) if d.get("text_tokens").is_some() => {
            let text = tokens(d, &["text_tokens"]);
            (text, output.saturating_sub(text))
        }
        _ => (0, output),
    };
    let out_price = info.output_cost_per_token.unwrap_or(0.0);
    let image_out_price = info.output_cost_per_image_token.unwrap_or(out_price);
    Some(
        text_in as f64 * in_price
            + image_in as f64 * image_in_price
            + text_out as f64 * out_price
            + image_out as f64 * image_out_price,
    )
}

/// `1024x1024` (or `1024-x-1024`) as LiteLLM's catalog keys write it, with its pixels.
fn size_key(size: &str) -> Option<(String, u64)> {
    let key = if size.contains("-x-") {
        size.to_string()
    } else {
        size.replace('x', "-x-")
    };
    let (a, b) = key.split_once("-x-")?;
    let px = a.trim().parse::<u64>().ok()? * b.trim().parse::<u64>().ok()?;
    Some((key, px))
}

/// The cost of an image call. `provider` is LiteLLM's provider name (`openai`, `azure`,
/// `gemini`, `vertex_ai`), `model` the model as the catalog names it (no provider prefix),
/// `own` the deployment's own price entry (its configured prices or its model's row).
pub fn image(
    cat: &Catalog,
    provider: &str,
    model: &str,
    own: Option<&ModelInfo>,
    ask: &ImageAsk<'_>,
    answer: &ImageResponse,
) -> Option<f64> {
    if provider == "bedrock" {
        return bedrock_image(cat, model, own, ask, answer);
    }
    let entry = own.or_else(|| cat.get_for(provider, model));
    let images = ask.n.map(u64::from).unwrap_or(answer.data.len() as u64);
    if matches!(provider, "gemini" | "vertex_ai") {
        let info = entry?;
        if let Some(c) = image_tokens_cost(info, answer.usage.as_ref()) {
            return Some(c);
        }
        return Some(info.output_cost_per_image.unwrap_or(0.0) * answer.data.len() as f64);
    }
    // Azure AI prices any image answer with usage by its tokens first (LiteLLM's azure_ai
    // image cost calculator), OpenAI and Azure only the gpt-image models.
    let gpt_image = model.to_ascii_lowercase().contains("gpt-image");
    if provider == "azure_ai" || (matches!(provider, "openai" | "azure") && gpt_image) {
        if let Some(c) = entry.and_then(|i| image_tokens_cost(i, answer.usage.as_ref())) {
            return Some(c);
        }
    }
    // Per image or per pixel, from the row for the size and quality asked.
    let (size, pixels) = size_key(ask.size.unwrap_or("1024x1024"))?;
    let quality = ask.quality.unwrap_or("standard");
    let names = [
        format!("{quality}/{size}/{model}"),
        format!("{provider}/{quality}/{size}/{model}"),
        format!("{provider}/{size}/{model}"),
        format!("{size}/{model}"),
        format!("high/{size}/{model}"),
        format!("{provider}/{model}"),
        model.to_string(),
    ];
    let sized = names.iter().find_map(|n| cat.get_exact(n));
    let tables = [sized, own].into_iter().flatten();
    for t in tables {
        let units = [
            (t.input_cost_per_image, images),
            (t.output_cost_per_image, images),
            (t.input_cost_per_pixel, pixels * images),
        ];
        if let Some((price, n)) = units.iter().find_map(|(p, n)| p.map(|p| (p, *n))) {
            return Some(price * n as f64);
        }
    }
    None
}

/// A Bedrock model id without its cross-region inference prefix (`us.amazon.nova-canvas-v1:0`
/// → `amazon.nova-canvas-v1:0`) or ARN path.
fn bedrock_base_id(model: &str) -> &str {
    let id = model.rsplit('/').next().unwrap_or(model);
    match id.split_once('.') {
        Some(("us" | "eu" | "apac" | "us-gov" | "global" | "jp" | "au" | "ca", rest)) => rest,
        _ => id,
    }
}

/// Bedrock's image models as LiteLLM's bedrock image cost calculator prices them: every image
/// returned at `output_cost_per_image` — the deployment's own price, else the model's row;
/// Stability's SDXL at the row for its size and steps (`1024-x-1024/50-steps/<model>`, over
/// 50 steps `max-steps`; LiteLLM's defaults: 1024x1024, 50 steps).
fn bedrock_image(
    cat: &Catalog,
    model: &str,
    own: Option<&ModelInfo>,
    ask: &ImageAsk<'_>,
    answer: &ImageResponse,
) -> Option<f64> {
    let images = answer.data.len() as f64;
    if let Some(p) = own.and_then(|i| i.output_cost_per_image) {
        return Some(p * images);
    }
    let ids = [model, bedrock_base_id(model)];
    let row = if crate::providers::bedrock::images::family(model)
        == Some(crate::providers::bedrock::images::Family::StabilityXl)
    {
        let (size, _) = size_key(ask.size.unwrap_or("1024x1024"))?;
        let steps = if ask.steps.unwrap_or(50) > 50 {
            "max-steps"
        } else {
            "50-steps"
        };
        ids.iter()
            .find_map(|id| cat.get_exact(&format!("{size}/{steps}/{id}")))
    } else {
        ids.iter().find_map(|id| cat.get_for("bedrock", id))
    };
    Some(row?.output_cost_per_image? * images)
}

/// The cost of a transcription or translation: per token when the answer reports tokens and
/// the model has token prices, else per second of audio (the answer's duration, else
/// `file_seconds`, the uploaded file's).
pub fn transcription(info: &ModelInfo, t: &Transcript, file_seconds: Option<f64>) -> Option<f64> {
    let token_rates = [
        info.input_cost_per_token,
        info.output_cost_per_token,
        info.input_cost_per_audio_token,
        info.output_cost_per_audio_token,
    ];
    let priced_by_token = token_rates.iter().any(Option::is_some);
    if let (Some(u), true) = (t.token_usage(), priced_by_token) {
        let input = tokens(u, &["input_tokens"]);
        let output = tokens(u, &["output_tokens"]);
        let d = u
            .get("input_token_details")
            .or(u.get("input_tokens_details"));
        let audio = d.map_or(input, |d| tokens(d, &["audio_tokens"]));
        let text = input.saturating_sub(audio);
        let in_price = info.input_cost_per_token.unwrap_or(0.0);
        let audio_price = info.input_cost_per_audio_token.unwrap_or(in_price);
        return Some(
            audio as f64 * audio_price
                + text as f64 * in_price
                + output as f64 * info.output_cost_per_token.unwrap_or(0.0),
        );
    }
    let seconds = t.duration().or(file_seconds).unwrap_or(0.0);
    match (info.output_cost_per_second, info.input_cost_per_second) {
        (Some(out), _) if out > 0.0 => Some(out * seconds),
        (_, Some(inp)) => Some(inp * seconds),
        _ if priced_by_token => Some(0.0),
        _ => None,
    }
}

/// The cost of a speech call: per character of `input` where the model has a character
/// price, else its input tokens at the token price.
pub fn speech(info: &ModelInfo, input: &str, input_tokens: u64) -> Option<f64> {
    if let Some(c) = info.input_cost_per_character {
        return Some(c * input.chars().count() as f64);
    }
    info.input_cost_per_token.map(|p| p * input_tokens as f64)
}

/// The cost of a speech answer that reports tokens (Gemini TTS, priced as LiteLLM prices the
/// chat completion it bridges speech through): the prompt at the input price, audio tokens at
/// the audio output price (else the output price), any text tokens at the output price.
/// None when the model has no token price.
pub fn speech_tokens(info: &ModelInfo, u: &super::SpeechUsage) -> Option<f64> {
    if info.input_cost_per_token.is_none()
        && info.output_cost_per_token.is_none()
        && info.output_cost_per_audio_token.is_none()
    {
        return None;
    }
    let out = info.output_cost_per_token.unwrap_or(0.0);
    let audio = info.output_cost_per_audio_token.unwrap_or(out);
    let text_out = u.output_tokens.saturating_sub(u.output_audio_tokens);
    Some(
        u.input_tokens as f64 * info.input_cost_per_token.unwrap_or(0.0)
            + u.output_audio_tokens as f64 * audio
            + text_out as f64 * out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(prices: Value) -> ModelInfo {
        let mut m = serde_json::Map::new();
        m.insert("litellm_provider".into(), json!("openai"));
        for (k, v) in prices.as_object().unwrap() {
            m.insert(k.clone(), v.clone());
        }
        ModelInfo::from_litellm("m", &m)
    }

    #[test]
    fn images_by_size_quality_and_tokens() {
        let cat = crate::catalog::global();
        let answer = ImageResponse {
            data: vec![Default::default(), Default::default()],
            ..Default::default()
        };
        // Azure's DALL·E 3 rows are priced per pixel.
        let ask = ImageAsk {
            size: Some("1024x1024"),
            quality: Some("hd"),
            n: Some(2),
            ..Default::default()
        };
        let c = image(&cat, "azure", "dall-e-3", None, &ask, &answer).unwrap();
        assert!(
            (c - 2.0 * 1024.0 * 1024.0 * 8.39233e-08).abs() < 1e-9,
            "{c}"
        );
        // gpt-image-1 without usage: the size and quality row's price per image.
        let ask = ImageAsk {
            size: Some("1024x1536"),
            quality: Some("low"),
            n: None,
            ..Default::default()
        };
        let c = image(&cat, "openai", "gpt-image-1", None, &ask, &answer).unwrap();
        assert!((c - 2.0 * 0.016).abs() < 1e-12, "{c}");
        // With usage: tokens.
        let with_usage = ImageResponse {
            usage: Some(
                json!({"input_tokens": 10, "input_tokens_details": {"text_tokens": 10, "image_tokens": 0}, "output_tokens": 100, "total_tokens": 110}),
            ),
            ..answer.clone()
        };
        let c = image(&cat, "openai", "gpt-image-1", None, &ask, &with_usage).unwrap();
        assert!((c - (10.0 * 5e-6 + 100.0 * 4e-5)).abs() < 1e-12, "{c}");
        // Imagen on Gemini: per image returned.
        let c = image(
            &cat,
            "gemini",
            "imagen-3.0-generate-001",
            None,
            &ImageAsk::default(),
            &answer,
        );
        assert!((c.unwrap() - 0.08).abs() < 1e-12);
        // Azure AI: any model's usage by its tokens first, else per image.
        let c = image(&cat, "azure_ai", "gpt-image-2", None, &ask, &with_usage).unwrap();
        assert!((c - (10.0 * 5e-6 + 100.0 * 3e-5)).abs() < 1e-12, "{c}");
        let c = image(&cat, "azure_ai", "MAI-Image-2.5", None, &ask, &with_usage).unwrap();
        assert!((c - (10.0 * 5e-6 + 100.0 * 4.7e-5)).abs() < 1e-12, "{c}");
        let c = image(&cat, "azure_ai", "FLUX-1.1-pro", None, &ask, &answer).unwrap();
        assert!((c - 2.0 * 0.04).abs() < 1e-12, "{c}");
    }

    #[test]
    fn bedrock_images_per_image_and_sdxl_by_size_and_steps() {
        let cat = crate::catalog::global();
        let two = ImageResponse {
            data: vec![Default::default(), Default::default()],
            ..Default::default()
        };
        let one = ImageResponse {
            data: vec![Default::default()],
            ..Default::default()
        };
        let sdxl = "stability.stable-diffusion-xl-v1";
        let c = |model: &str, ask: ImageAsk<'_>, a: &ImageResponse| {
            image(&cat, "bedrock", model, None, &ask, a).unwrap()
        };
        assert!((c(sdxl, ImageAsk::default(), &one) - 0.04).abs() < 1e-12);
        let many_steps = ImageAsk {
            size: Some("1024x1024"),
            steps: Some(60),
            ..Default::default()
        };
        assert!((c(sdxl, many_steps, &one) - 0.08).abs() < 1e-12);
        // Per image returned, whatever `n` was asked.
        let ask = ImageAsk {
            n: Some(5),
            ..Default::default()
        };
        assert!((c("amazon.titan-image-generator-v2:0", ask, &two) - 0.016).abs() < 1e-12);
        assert!((c("amazon.nova-canvas-v1:0", ask, &two) - 0.12).abs() < 1e-12);
        assert!((c("us.stability.sd3-large-v1:0", ask, &one) - 0.08).abs() < 1e-12);
        assert!((c("stability.stable-image-ultra-v1:0", ask, &one) - 0.14).abs() < 1e-12);
        // A size without a row: no price, as LiteLLM finds none.
        let odd = ImageAsk {
            size: Some("640x1536"),
            ..Default::default()
        };
        assert_eq!(image(&cat, "bedrock", sdxl, None, &odd, &one), None);
        let own = info(json!({"output_cost_per_image": 0.5}));
        assert_eq!(
            image(&cat, "bedrock", sdxl, Some(&own), &odd, &two),
            Some(1.0)
        );
    }

    #[test]
    fn transcriptions_by_second_or_token() {
        let whisper =
            info(json!({"input_cost_per_second": 0.0001, "output_cost_per_second": 0.0001}));
        let t = Transcript {
            content_type: "application/json".into(),
            body: Default::default(),
            json: Some(json!({"text": "hi", "duration": 12.5})),
        };
        assert!((transcription(&whisper, &t, None).unwrap() - 0.00125).abs() < 1e-12);
        let text = Transcript {
            content_type: "text/plain".into(),
            body: Default::default(),
            json: None,
        };
        assert!((transcription(&whisper, &text, Some(3.0)).unwrap() - 0.0003).abs() < 1e-12);
        let groq = info(json!({"input_cost_per_second": 3e-05, "output_cost_per_second": 0.0}));
        assert!((transcription(&groq, &text, Some(10.0)).unwrap() - 3e-4).abs() < 1e-12);
        let gpt4o = info(
            json!({"input_cost_per_token": 2.5e-6, "input_cost_per_audio_token": 6e-6, "output_cost_per_token": 1e-5}),
        );
        let tok = Transcript {
            content_type: "application/json".into(),
            body: Default::default(),
            json: Some(
                json!({"text": "hi", "usage": {"type": "tokens", "input_tokens": 100, "input_token_details": {"audio_tokens": 90, "text_tokens": 10}, "output_tokens": 5, "total_tokens": 105}}),
            ),
        };
        let c = transcription(&gpt4o, &tok, None).unwrap();
        assert!((c - (90.0 * 6e-6 + 10.0 * 2.5e-6 + 5.0 * 1e-5)).abs() < 1e-12);
        assert_eq!(
            speech(
                &info(json!({"input_cost_per_character": 1.5e-5})),
                "héllo",
                2
            ),
            Some(1.5e-5 * 5.0)
        );
        let tts = info(
            json!({"input_cost_per_token": 5e-7, "output_cost_per_token": 1e-5, "output_cost_per_audio_token": 2e-5}),
        );
        let u = super::super::SpeechUsage {
            input_tokens: 4,
            output_tokens: 12,
            output_audio_tokens: 10,
        };
        let c = speech_tokens(&tts, &u).unwrap();
        assert!((c - (4.0 * 5e-7 + 10.0 * 2e-5 + 2.0 * 1e-5)).abs() < 1e-12);
        assert_eq!(
            speech_tokens(&info(json!({"input_cost_per_character": 1e-6})), &u),
            None
        );
    }
}
