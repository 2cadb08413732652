//! `multipart/form-data` (RFC 7578) read and written without copying file contents: a
//! parsed file is a slice of the request body it came in, and the body sent upstream is a
//! stream of small header chunks around those same slices. A retry clones reference counts,
//! not bytes, so an upload is held in memory once however many deployments it is sent to.

use bytes::Bytes;

use super::{FilePart, Form};

/// At most this many parts in one form (fields and files).
const MAX_PARTS: usize = 256;

/// Why a body is not a form we can read (the gateway answers a 400 with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(pub String);

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let mut parts = content_type.split(';');
    let kind = parts.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    memchr::memmem::find(&hay[from..], needle).map(|i| i + from)
}

/// Parses `body` (a whole `multipart/form-data` request) into its fields and files; each
/// file's data is a slice of `body`.
pub fn parse(body: &Bytes, boundary: &str) -> Result<Form, FormError> {
    let bad = |m: &str| FormError(format!("Invalid multipart/form-data body: {m}"));
    let delim = format!("--{boundary}");
    let next_delim = format!("\r\n--{boundary}");
    let mut pos = find(body, delim.as_bytes(), 0).ok_or_else(|| bad("no boundary"))? + delim.len();
    let mut form = Form::default();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(form);
        }
        // Transport padding, then the line break after the boundary.
        while body.get(pos).is_some_and(|b| *b == b' ' || *b == b'\t') {
            pos += 1;
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err(bad("a boundary is not followed by a line break"));
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(|| bad("a part has no headers"))?;
        let head = std::str::from_utf8(&body[pos..head_end])
            .map_err(|_| bad("a part's headers are not UTF-8"))?;
        let data_start = head_end + 4;
        let data_end = find(body, next_delim.as_bytes(), data_start)
            .ok_or_else(|| bad("the last part is not closed"))?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let k = k.trim();
            if k.eq_ignore_ascii_case("content-disposition") {
                name = param(v, "name");
                filename = param(v, "filename");
            } else if k.eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_string());
            }
        }
        let name = name.ok_or_else(|| bad("a part has no name"))?;
        if form.fields.len() + form.files.len() >= MAX_PARTS {
            return Err(bad("too many parts"));
        }
        match filename {
            Some(filename) => form.files.push(FilePart {
                name,
                filename,
                content_type,
                data: body.slice(data_start..data_end),
            }),
            None => {
                let value = std::str::from_utf8(&body[data_start..data_end])
                    .map_err(|_| bad("a text field is not UTF-8"))?;
                form.fields.push((name, value.to_string()));
            }
        }
        pos = data_end + next_delim.len();
    }
}

/// A `Content-Disposition` parameter (`name="file"`), quoted or not.
fn param(header: &str, key: &str) -> Option<String> {
    for p in header.split(';').skip(1) {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case(key) {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            return Some(v.replace("\\\"", "\""));
        }
    }
    None
}

/// A quoted-string value with what would end or break it replaced, as browsers send names.
fn quoted(s: &str) -> String {
    s.replace('"', "%22").replace(['\r', '\n'], " ")
}

/// A form ready to send: its content type and the chunks of its body (file data shared with
/// the form, not copied).
pub struct Encoded {
    pub content_type: String,
    pub chunks: Vec<Bytes>,
    pub len: u64,
}

impl Encoded {
    pub fn body(self) -> reqwest::Body {
        let chunks = self.chunks.into_iter().map(Ok::<Bytes, std::io::Error>);
        reqwest::Body::wrap_stream(futures::stream::iter(chunks))
    }
}

/// Encodes `form` as `multipart/form-data` with a fresh boundary.
pub fn encode(form: &Form) -> Encoded {
    let boundary = format!("llmgate-{}", uuid::Uuid::new_v4().simple());
    let mut chunks = Vec::with_capacity(form.fields.len() + form.files.len() * 2 + 1);
    for (k, v) in &form.fields {
        chunks.push(Bytes::from(format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{v}\r\n",
            quoted(k)
        )));
    }
    for f in &form.files {
        let ct = f
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream")
            .replace(['\r', '\n'], "");
        chunks.push(Bytes::from(format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {ct}\r\n\r\n",
            quoted(&f.name),
            quoted(&f.filename)
        )));
        chunks.push(f.data.clone());
        chunks.push(Bytes::from_static(b"\r\n"));
    }
    chunks.push(Bytes::from(format!("--{boundary}--\r\n")));
    let len = chunks.iter().map(|c| c.len() as u64).sum();
    Encoded {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        chunks,
        len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_round_trips_and_files_are_slices_of_the_body() {
        let mut form = Form::default();
        form.fields.push(("model".into(), "whisper-1".into()));
        form.fields
            .push(("timestamp_granularities[]".into(), "word".into()));
        form.files.push(FilePart {
            name: "file".into(),
            filename: "a \"b\".wav".into(),
            content_type: Some("audio/wav".into()),
            data: Bytes::from_static(b"RIFF\r\n--not-a-boundary\r\n\x00\xff"),
        });
        let enc = encode(&form);
        let b = boundary(&enc.content_type).unwrap().to_string();
        let body: Vec<u8> = enc.chunks.iter().flat_map(|c| c.to_vec()).collect();
        assert_eq!(body.len() as u64, enc.len);
        let body = Bytes::from(body);
        let back = parse(&body, &b).unwrap();
        assert_eq!(back.fields, form.fields);
        assert_eq!(back.files[0].data, form.files[0].data);
        assert_eq!(back.files[0].filename, "a %22b%22.wav");
        assert_eq!(back.files[0].content_type.as_deref(), Some("audio/wav"));
        // No copy: the file's bytes live in the body's buffer.
        let range = body.as_ptr_range();
        assert!(range.contains(&back.files[0].data.as_ptr()));
    }

    #[test]
    fn broken_forms_are_refused() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\""),
            Some("abc")
        );
        assert_eq!(boundary("application/json"), None);
        let b = Bytes::from_static(b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv");
        assert!(parse(&b, "x").is_err());
        let b = Bytes::from_static(b"nothing here");
        assert!(parse(&b, "x").is_err());
        let b = Bytes::from_static(b"--x\r\nContent-Type: text/plain\r\n\r\nv\r\n--x--");
        assert!(parse(&b, "x").is_err());
        let b = Bytes::from_static(b"--x--\r\n");
        assert_eq!(parse(&b, "x").unwrap(), Form::default());
    }
}
