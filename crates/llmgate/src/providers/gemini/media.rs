//! Images, audio, video and documents as Gemini parts: `inlineData` for data URLs and fetched
//! http(s) URLs (under `providers/fetch.rs`'s SSRF rules), `fileData` for `gs://` and Files-API URIs. The MIME type comes from `format`,
//! the data URL, the extension, or (for an extensionless `gs://` object) its storage metadata;
//! parameters (`text/html; charset=utf-8`) are stripped to the bare type.

use serde_json::{json, Value};

use crate::providers::fetch::{self, bare, mime_from_extension};
use crate::providers::http::{path_segment, SegmentKind};
use crate::{CallOptions, LlmError};

const DEFAULT_GCS_API: &str = "https://storage.googleapis.com";
const FILES_API: &str = "https://generativelanguage.googleapis.com/v1beta/files/";

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider("gemini")
}

/// What resolving media needs besides the URL.
pub struct MediaCx<'a> {
    pub http: &'a reqwest::Client,
    pub opts: &'a CallOptions,
    /// An OAuth token for Cloud Storage metadata (Vertex); AI Studio has none.
    pub gcs_token: Option<&'a str>,
}

/// One part for a media URL. `format` is the caller's explicit MIME type, if any.
pub async fn part(url: &str, format: Option<&str>, cx: &MediaCx<'_>) -> Result<Value, LlmError> {
    let explicit = format.map(bare).filter(|f| !f.is_empty());
    if url.is_empty() {
        return Err(bad("an image_url or file part has no url or data"));
    }
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| bad("malformed data URL"))?;
        if !meta.ends_with(";base64") {
            return Err(bad("data URLs must be base64-encoded"));
        }
        let mime = explicit.unwrap_or_else(|| bare(meta.trim_end_matches(";base64")));
        if mime.is_empty() {
            return Err(bad("the data URL names no MIME type; set `format`"));
        }
        return Ok(json!({"inlineData": {"mimeType": mime, "data": data}}));
    }
    if url.starts_with("gs://") {
        let mime = match explicit.or_else(|| mime_from_extension(url).map(str::to_string)) {
            Some(m) => m,
            None => gcs_content_type(url, cx).await?,
        };
        return Ok(json!({"fileData": {"mimeType": mime, "fileUri": url}}));
    }
    if url.starts_with(FILES_API) || url.contains("youtube.com/") || url.contains("youtu.be/") {
        let mime = explicit.or_else(|| mime_from_extension(url).map(str::to_string));
        return Ok(match mime {
            Some(m) => json!({"fileData": {"mimeType": m, "fileUri": url}}),
            None => json!({"fileData": {"fileUri": url}}),
        });
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return fetch_inline(url, explicit, cx).await;
    }
    Err(bad(format!(
        "unsupported media URL: {}",
        &url[..url.len().min(60)]
    )))
}

/// Gemini cannot fetch arbitrary URLs: download and inline, as LiteLLM does, under the SSRF
/// rules of [`fetch`](crate::providers::fetch).
async fn fetch_inline(
    url: &str,
    explicit: Option<String>,
    cx: &MediaCx<'_>,
) -> Result<Value, LlmError> {
    use base64::Engine;
    let limit = cx
        .opts
        .timeout
        .map_or(fetch::TIMEOUT, |t| t.min(fetch::TIMEOUT));
    let got = fetch::fetch(url, &fetch::Allowlist::from_opts(cx.opts), limit)
        .await
        .map_err(|e| e.into_llm().with_provider("gemini"))?;
    let header_type = got
        .content_type
        .as_deref()
        .map(bare)
        .filter(|t| !t.is_empty() && t != "application/octet-stream");
    let mime = explicit
        .or(header_type)
        .or_else(|| mime_from_extension(url).map(str::to_string))
        .ok_or_else(|| bad("cannot tell the MIME type of the media URL; set `format`"))?;
    let data = base64::engine::general_purpose::STANDARD.encode(&got.bytes);
    Ok(json!({"inlineData": {"mimeType": mime, "data": data}}))
}

/// Cloud Storage's JSON API host: `gcs_api_base` in litellm_params, else
/// `LLMGATE_GCS_API_BASE`, else Google's.
pub fn gcs_api_base(opts: &CallOptions) -> String {
    opts.extra
        .get("gcs_api_base")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| std::env::var("LLMGATE_GCS_API_BASE").ok())
        .unwrap_or_else(|| DEFAULT_GCS_API.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// The object's `contentType` from Cloud Storage's JSON API.
async fn gcs_content_type(uri: &str, cx: &MediaCx<'_>) -> Result<String, LlmError> {
    let path = uri.trim_start_matches("gs://");
    let (bucket, object) = path
        .split_once('/')
        .ok_or_else(|| bad(format!("malformed gs:// URI: {uri}")))?;
    let base = gcs_api_base(cx.opts);
    let bucket = path_segment(bucket, SegmentKind::Segment)?;
    let object: String = url_encode(object);
    let mut rb = cx
        .http
        .get(format!("{base}/storage/v1/b/{bucket}/o/{object}"));
    if let Some(t) = cx.gcs_token {
        rb = rb.bearer_auth(t);
    }
    let unknown = || {
        bad(format!(
            "Unable to determine mime type for gs URI: {uri}. This gs:// URI has no file extension and its storage metadata could not be read. Set it explicitly using image_url.format or file.format."
        ))
    };
    let res = rb
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|_| unknown())?;
    let meta: Value = res.json().await.map_err(|_| unknown())?;
    meta["contentType"]
        .as_str()
        .map(bare)
        .filter(|t| !t.is_empty())
        .ok_or_else(unknown)
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a GCS object name in a URL).
pub fn url_encode(s: &str) -> String {
    crate::providers::http::percent_encode(s, b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types() {
        assert_eq!(bare("Text/HTML; charset=utf-8"), "text/html");
        assert_eq!(
            mime_from_extension("gs://b/dir/report.PDF"),
            Some("application/pdf")
        );
        assert_eq!(
            mime_from_extension("https://x.com/a.png?sig=1"),
            Some("image/png")
        );
        assert_eq!(mime_from_extension("gs://bucket/object"), None);
        assert_eq!(url_encode("a b/c"), "a%20b%2Fc");
    }
}
