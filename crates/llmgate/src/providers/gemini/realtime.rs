//! Gemini Live (`BidiGenerateContent` over a WebSocket) behind OpenAI's Realtime protocol, as
//! LiteLLM's `GeminiRealtimeConfig` translates it, in its deferred-setup form: the client gets a
//! `session.created` at once; its first `session.update` becomes Gemini's one `setup` message
//! (model `models/<model>`, `generationConfig` from the session; a later `session.update` is
//! dropped, since Gemini closes a session sent a second `setup`); content sent before a
//! `session.update` is preceded by LiteLLM's default setup (audio out, input transcription);
//! content is held until Gemini's `setupComplete` (answered to the client as
//! `session.updated`).
//!
//! Client → Gemini: `conversation.item.create` (user `input_text` → `clientContent` with
//! `turnComplete`; `function_call_output` → `toolResponse`), `input_audio_buffer.append` →
//! `realtimeInput.audio` (PCM16 at 24 kHz), `input_audio_buffer.commit`/`end` →
//! `audioStreamEnd` (or `activityEnd` when automatic activity detection is off);
//! `response.create` and `input_audio_buffer.clear` send nothing (Gemini answers by itself).
//!
//! Gemini → client: `serverContent.modelTurn` parts → `response.created`,
//! `response.output_item.added`, `conversation.item.added`, `response.content_part.added`
//! once, then `response.output_text.delta` / `response.output_audio.delta`;
//! `generationComplete` → the `.done` events; `turnComplete` / `interrupted` →
//! `response.done` with the turn's `usageMetadata` (or one sent on its own before) as
//! OpenAI's usage; `toolCall` → function-call items and their own `response.done`;
//! transcriptions → their events. A client speaking the beta protocol gets the beta names
//! (`response.text.delta`, `conversation.item.created`, ...).
//!
//! Vertex AI's Live API (LiteLLM's `VertexAIRealtimeConfig`) is the same protocol with its own
//! setup sent at connect (the model as `projects/{p}/locations/{l}/publishers/google/models/{m}`,
//! server VAD, input and output transcription), every `session.update` dropped, audio declared
//! at 16 kHz and function responses without an `id`.

use std::collections::VecDeque;

use serde_json::{json, Map, Value};

use super::schema;

/// Where Google serves the Live API, under the API's host.
pub const LIVE_PATH: &str =
    "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
/// Where Vertex AI serves it.
pub const VERTEX_LIVE_PATH: &str =
    "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent";

/// OpenAI voices → Gemini Live's prebuilt voices (LiteLLM's `GEMINI_LIVE_VOICE_MAPPINGS`).
const VOICES: &[(&str, &str)] = &[
    ("alloy", "Zephyr"),
    ("ash", "Charon"),
    ("ballad", "Fenrir"),
    ("cedar", "Charon"),
    ("coral", "Aoede"),
    ("echo", "Puck"),
    ("marin", "Aoede"),
    ("sage", "Kore"),
    ("shimmer", "Leda"),
    ("verse", "Orus"),
];

/// GA event names → the beta protocol's.
const BETA_NAMES: &[(&str, &str)] = &[
    ("conversation.item.added", "conversation.item.created"),
    ("response.output_text.delta", "response.text.delta"),
    ("response.output_audio.delta", "response.audio.delta"),
    (
        "response.output_audio_transcript.delta",
        "response.audio_transcript.delta",
    ),
    ("response.output_text.done", "response.text.done"),
    ("response.output_audio.done", "response.audio.done"),
];

/// How many tool call ids are remembered to name their function responses.
const MAX_CALLS: usize = 256;

/// What one frame turns into: events for the client and messages for Gemini, in order.
#[derive(Debug, Default, PartialEq)]
pub struct Out {
    pub client: Vec<String>,
    pub upstream: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Delta {
    Text,
    Audio,
}

/// One session's translation state.
pub struct Session {
    model: String,
    beta: bool,
    /// Vertex AI's flavour of the protocol.
    vertex: bool,
    id: String,
    /// The `setup` sent (its inner object), once sent.
    setup: Option<Value>,
    /// Whether Gemini answered the setup.
    ready: bool,
    /// Content waiting for `setupComplete`.
    held: Vec<String>,
    response_id: Option<String>,
    item_id: Option<String>,
    conversation_id: Option<String>,
    delta: Option<Delta>,
    text: String,
    /// The message item finished by `generationComplete`, for `response.done`'s output.
    done_item: Option<Value>,
    /// `usageMetadata` sent without a turn end, for the next `response.done`.
    pending_usage: Option<Value>,
    /// Tool call id → function name, as Gemini's `functionResponses` need the name.
    calls: VecDeque<(String, String)>,
}

fn id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn event(v: Value) -> String {
    v.to_string()
}

/// The setup LiteLLM sends when the client configures nothing.
pub fn default_setup(model: &str) -> Value {
    json!({
        "model": format!("models/{}", bare(model)),
        "generationConfig": {"responseModalities": ["AUDIO"]},
        "inputAudioTranscription": {},
    })
}

fn bare(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// Native-audio Live models answer only in audio and refuse a `speechConfig` on AI Studio
/// (LiteLLM reads this from the catalog's `gemini_native_audio` flag; those rows are the
/// `native-audio` models).
fn native_audio(model: &str) -> bool {
    model.contains("native-audio")
}

/// GA session fields (`output_modalities`, `audio.input.*`, `audio.output.voice`) read as the
/// beta names they mean.
fn normalized(session: &Map<String, Value>) -> Map<String, Value> {
    let mut s = session.clone();
    if !s.contains_key("modalities") {
        if let Some(m) = session.get("output_modalities") {
            s.insert("modalities".into(), m.clone());
        }
    }
    let audio = session.get("audio");
    let input = audio.and_then(|a| a.get("input"));
    if !s.contains_key("input_audio_transcription") {
        if let Some(t) = input.and_then(|i| i.get("transcription")) {
            s.insert("input_audio_transcription".into(), t.clone());
        }
    }
    if !s.get("turn_detection").is_some_and(Value::is_object) {
        if let Some(t) = input
            .and_then(|i| i.get("turn_detection"))
            .filter(|t| t.is_object())
        {
            s.insert("turn_detection".into(), t.clone());
        }
    }
    if let Some(v) = audio
        .and_then(|a| a.pointer("/output/voice"))
        .filter(|v| v.as_str().is_some_and(|v| !v.is_empty()))
    {
        s.insert("voice".into(), v.clone());
    }
    s
}

/// OpenAI's `turn_detection` → Gemini's `automaticActivityDetection`; None for `semantic_vad`
/// (Gemini has no equivalent; mapping it as disabled breaks native-audio sessions).
fn activity_detection(td: &Map<String, Value>) -> Option<Value> {
    let create = td.get("create_response").and_then(Value::as_bool);
    let kind = td.get("type").and_then(Value::as_str);
    if kind == Some("semantic_vad") && create.is_none() {
        return None;
    }
    let disabled = match create {
        Some(c) => !c,
        None => kind != Some("server_vad"),
    };
    let mut a = json!({ "disabled": disabled });
    if let Some(ms) = td
        .get("prefix_padding_ms")
        .filter(|v| v.is_i64() || v.is_u64())
    {
        a["prefixPaddingMs"] = ms.clone();
    }
    if let Some(ms) = td
        .get("silence_duration_ms")
        .filter(|v| v.is_i64() || v.is_u64())
    {
        a["silenceDurationMs"] = ms.clone();
    }
    Some(a)
}

/// Realtime tools (`{type: function, name, description, parameters}`, or chat's nested
/// `function`) → one `functionDeclarations` tool.
fn tools(list: &[Value]) -> Option<Value> {
    let decls: Vec<Value> = list
        .iter()
        .filter_map(|t| {
            let f = t.get("function").unwrap_or(t);
            let name = f.get("name")?.as_str()?;
            let mut d = json!({ "name": name });
            if let Some(desc) = f.get("description").and_then(Value::as_str) {
                d["description"] = json!(desc);
            }
            if let Some(p) = f.get("parameters").filter(|p| p.is_object()) {
                d["parameters"] = schema::sanitize(p);
            }
            Some(d)
        })
        .collect();
    (!decls.is_empty()).then(|| json!([{ "functionDeclarations": decls }]))
}

/// A client's session → Gemini's `setup` (LiteLLM's `map_openai_params`, then its defaults).
pub fn setup_from(model: &str, session: &Map<String, Value>) -> Value {
    let s = normalized(session);
    let mut setup = Map::new();
    let mut gen = Map::new();
    if let Some(i) = s.get("instructions").and_then(Value::as_str) {
        setup.insert(
            "systemInstruction".into(),
            json!({"role": "user", "parts": [{"text": i}]}),
        );
    }
    if let Some(t) = s.get("temperature").filter(|t| t.is_number()) {
        gen.insert("temperature".into(), t.clone());
    }
    // `"inf"` means no cap: Gemini's field is a number.
    if let Some(m) = s.get("max_response_output_tokens").filter(|m| m.is_u64()) {
        gen.insert("maxOutputTokens".into(), m.clone());
    }
    if let Some(mods) = s.get("modalities").and_then(Value::as_array) {
        let upper: Vec<Value> = mods
            .iter()
            .filter_map(Value::as_str)
            .map(|m| json!(m.to_uppercase()))
            .collect();
        gen.insert("responseModalities".into(), Value::Array(upper));
    }
    if let Some(t) = s
        .get("tools")
        .and_then(Value::as_array)
        .and_then(|t| tools(t))
    {
        setup.insert("tools".into(), t);
    }
    if s.get("input_audio_transcription")
        .is_some_and(|t| !t.is_null())
    {
        setup.insert("inputAudioTranscription".into(), json!({}));
    }
    if let Some(a) = s
        .get("turn_detection")
        .and_then(Value::as_object)
        .and_then(activity_detection)
    {
        setup.insert(
            "realtimeInputConfig".into(),
            json!({ "automaticActivityDetection": a }),
        );
    }
    if let Some(v) = s.get("voice").and_then(Value::as_str) {
        let name = VOICES
            .iter()
            .find(|(o, _)| o.eq_ignore_ascii_case(v))
            .map_or(v, |(_, g)| g);
        gen.insert(
            "speechConfig".into(),
            json!({"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": name}}}),
        );
    }
    gen.entry("responseModalities")
        .or_insert_with(|| json!(["AUDIO"]));
    if native_audio(model) {
        gen.remove("speechConfig");
        if let Some(Value::Array(mods)) = gen.get_mut("responseModalities") {
            mods.retain(|m| m != "TEXT");
            if mods.is_empty() {
                mods.push(json!("AUDIO"));
            }
        }
    }
    setup.insert("generationConfig".into(), Value::Object(gen));
    setup
        .entry("inputAudioTranscription")
        .or_insert_with(|| json!({}));
    setup.insert("model".into(), json!(format!("models/{}", bare(model))));
    Value::Object(setup)
}

/// Gemini's `usageMetadata` → the usage of OpenAI's `response.done` (LiteLLM's
/// `_calculate_usage` → responses usage, with the `*_token_details` aliases): what is not
/// audio is priced as text, thoughts included.
pub fn usage(meta: Option<&Value>) -> Value {
    let Some(meta) = meta else {
        return json!({
            "input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0, "text_tokens": 0, "audio_tokens": 0},
            "output_tokens_details": {"text_tokens": 0, "audio_tokens": 0},
            "input_token_details": {"cached_tokens": 0, "text_tokens": 0, "audio_tokens": 0},
            "output_token_details": {"text_tokens": 0, "audio_tokens": 0},
        });
    };
    let u = super::response::usage(meta, &[]);
    let input = u.prompt_tokens;
    let output = u.completion_tokens;
    let pd = u.prompt_tokens_details.unwrap_or_default();
    let cd = u.completion_tokens_details.unwrap_or_default();
    let audio_in = pd.audio_tokens.unwrap_or(0).min(input);
    let audio_out = cd
        .extra
        .get("audio_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(output);
    let mut inp = json!({
        "cached_tokens": pd.cached_tokens.unwrap_or(0),
        "text_tokens": input - audio_in,
        "audio_tokens": audio_in,
    });
    if let Some(c) = pd.extra.get("cached_tokens_details") {
        inp["cached_tokens_details"] = c.clone();
    }
    let mut out = json!({ "text_tokens": output - audio_out, "audio_tokens": audio_out });
    if let Some(r) = cd.reasoning_tokens {
        out["reasoning_tokens"] = json!(r);
    }
    let total = if u.total_tokens > 0 {
        u.total_tokens
    } else {
        input + output
    };
    json!({
        "input_tokens": input,
        "output_tokens": output,
        "total_tokens": total,
        "input_tokens_details": inp,
        "output_tokens_details": out,
        "input_token_details": inp,
        "output_token_details": out,
    })
}

impl Session {
    /// A session with the Live `model` (`gemini-2.0-flash-live-001` or `models/...`); `beta`
    /// when the client speaks the beta protocol.
    pub fn new(model: &str, beta: bool) -> Session {
        Session {
            model: bare(model).to_string(),
            beta,
            vertex: false,
            id: id("sess"),
            setup: None,
            ready: false,
            held: Vec::new(),
            response_id: None,
            item_id: None,
            conversation_id: None,
            delta: None,
            text: String::new(),
            done_item: None,
            pending_usage: None,
            calls: VecDeque::new(),
        }
    }

    /// A Vertex AI Live session of `model` in `project`/`location`: its setup is LiteLLM's,
    /// sent at connect ([`Session::opened`]).
    pub fn vertex(model: &str, project: &str, location: &str, beta: bool) -> Session {
        let mut s = Session::new(model, beta);
        s.vertex = true;
        s.setup = Some(json!({
            "model": format!("projects/{project}/locations/{location}/publishers/google/models/{}", s.model),
            "generationConfig": {"responseModalities": ["AUDIO"]},
            "realtimeInputConfig": {"automaticActivityDetection": {"disabled": false, "silenceDurationMs": 800}},
            "inputAudioTranscription": {},
            "outputAudioTranscription": {},
        }));
        s
    }

    /// The setup a health check sends: the session's own, else the default one.
    pub fn probe_setup(&self) -> String {
        json!({ "setup": self.setup_or_default() }).to_string()
    }

    fn name(&self, ga: &'static str) -> &'static str {
        if !self.beta {
            return ga;
        }
        BETA_NAMES
            .iter()
            .find(|(g, _)| *g == ga)
            .map_or(ga, |(_, b)| b)
    }

    fn setup_or_default(&self) -> Value {
        self.setup
            .clone()
            .unwrap_or_else(|| default_setup(&self.model))
    }

    fn modalities(&self) -> Vec<String> {
        let setup = self.setup_or_default();
        setup
            .pointer("/generationConfig/responseModalities")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_else(|| vec!["audio".into()])
    }

    fn session_object(&self) -> Value {
        let mut s = json!({
            "id": self.id,
            "object": "realtime.session",
            "model": self.model,
            "modalities": self.modalities(),
        });
        if let Some(i) = self
            .setup
            .as_ref()
            .and_then(|s| s.pointer("/systemInstruction/parts/0/text"))
        {
            s["instructions"] = i.clone();
        }
        s
    }

    /// What goes out as soon as the client's socket is open: its `session.created` (and, on
    /// Vertex AI, the setup).
    pub fn opened(&self) -> Out {
        let created = event(json!({
            "type": "session.created",
            "event_id": id("event"),
            "session": self.session_object(),
        }));
        let upstream = match (&self.setup, self.vertex) {
            (Some(setup), true) => vec![json!({ "setup": setup }).to_string()],
            _ => Vec::new(),
        };
        Out {
            client: vec![created],
            upstream,
        }
    }

    fn error(message: impl Into<String>, code: &str) -> String {
        event(json!({
            "type": "error",
            "event_id": id("event"),
            "error": {"type": "invalid_request_error", "code": code, "message": message.into(), "param": null},
        }))
    }

    /// Content for Gemini: after the setup (the default one if the client sent none), and
    /// held until Gemini has answered it.
    fn content(&mut self, msg: Value, out: &mut Out) {
        if self.setup.is_none() {
            let setup = default_setup(&self.model);
            out.upstream.push(json!({ "setup": setup }).to_string());
            self.setup = Some(setup);
        }
        let msg = msg.to_string();
        if self.ready {
            out.upstream.push(msg);
        } else {
            self.held.push(msg);
        }
    }

    fn manual_activity(&self) -> bool {
        self.setup
            .as_ref()
            .and_then(|s| s.pointer("/realtimeInputConfig/automaticActivityDetection/disabled"))
            .and_then(Value::as_bool)
            == Some(true)
    }

    /// One client event (a text frame).
    pub fn from_client(&mut self, text: &str) -> Out {
        let mut out = Out::default();
        let Ok(ev) = serde_json::from_str::<Value>(text) else {
            out.client.push(Self::error(
                "The server could not parse the event as JSON.",
                "invalid_json",
            ));
            return out;
        };
        match ev.get("type").and_then(Value::as_str) {
            // Gemini takes one setup per session: a later update is dropped, as LiteLLM does.
            Some("session.update") if self.setup.is_none() => {
                let session = ev
                    .get("session")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let setup = setup_from(&self.model, &session);
                out.upstream.push(json!({ "setup": setup }).to_string());
                self.setup = Some(setup);
            }
            Some("conversation.item.create") => {
                let item = ev.get("item").cloned().unwrap_or_else(|| json!({}));
                if item.get("type").and_then(Value::as_str) == Some("function_call_output") {
                    let msg = self.tool_response(&item);
                    self.content(msg, &mut out);
                } else {
                    let text: Vec<&str> = item
                        .get("content")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|c| c.get("type").and_then(Value::as_str) == Some("input_text"))
                        .filter_map(|c| c.get("text").and_then(Value::as_str))
                        .filter(|t| !t.is_empty())
                        .collect();
                    if !text.is_empty() {
                        let msg = json!({"clientContent": {
                            "turns": [{"role": "user", "parts": [{"text": text.join(" ")}]}],
                            "turnComplete": true,
                        }});
                        self.content(msg, &mut out);
                    }
                }
            }
            Some("input_audio_buffer.append") => {
                let Some(audio) = ev.get("audio").and_then(Value::as_str) else {
                    out.client.push(Self::error(
                        "Missing required parameter: 'audio'.",
                        "missing_required_parameter",
                    ));
                    return out;
                };
                let mime = if self.vertex {
                    "audio/pcm;rate=16000"
                } else {
                    "audio/pcm;rate=24000"
                };
                let msg = json!({"realtimeInput": {"audio": {"mimeType": mime, "data": audio}}});
                self.content(msg, &mut out);
            }
            Some("input_audio_buffer.commit" | "input_audio_buffer.end") => {
                let msg = if self.manual_activity() {
                    json!({"realtimeInput": {"activityEnd": {}}})
                } else {
                    json!({"realtimeInput": {"audioStreamEnd": true}})
                };
                self.content(msg, &mut out);
            }
            // Gemini answers a finished turn by itself; the buffer is the client's.
            _ => {}
        }
        out
    }

    fn tool_response(&mut self, item: &Value) -> Value {
        let call_id = item.get("call_id").and_then(Value::as_str).unwrap_or("");
        let output = item.get("output").cloned().unwrap_or(json!("{}"));
        let parsed = match &output {
            Value::String(s) => serde_json::from_str(s).unwrap_or(output.clone()),
            other => other.clone(),
        };
        // Gemini's `response` is an object.
        let response = if parsed.is_object() {
            parsed
        } else {
            json!({ "result": parsed })
        };
        let mut fr = json!({ "response": response });
        // Vertex AI refuses an `id` on a function response.
        if !call_id.is_empty() && !self.vertex {
            fr["id"] = json!(call_id);
        }
        if let Some((_, name)) = self.calls.iter().find(|(id, _)| id == call_id) {
            fr["name"] = json!(name);
        }
        json!({"toolResponse": {"functionResponses": [fr]}})
    }

    fn response_base(&self, status: &str, id: &str) -> Value {
        let gen = self.setup_or_default()["generationConfig"].clone();
        json!({
            "object": "realtime.response",
            "id": id,
            "status": status,
            "status_details": null,
            "output": [],
            "conversation_id": self.conversation_id,
            "modalities": self.modalities(),
            "temperature": gen.get("temperature"),
            "max_output_tokens": gen.get("maxOutputTokens"),
        })
    }

    /// `response.created` and the new message item's events, once per response.
    fn start_item(&mut self, kind: Delta, out: &mut Out) {
        if self.item_id.is_some() {
            return;
        }
        let created = self.response_id.is_none();
        let resp = self.response_id.get_or_insert_with(|| id("resp")).clone();
        let item = id("item");
        self.item_id = Some(item.clone());
        self.conversation_id.get_or_insert_with(|| id("conv"));
        self.delta = Some(kind);
        self.text.clear();
        if created {
            out.client.push(event(json!({
                "type": "response.created",
                "event_id": id("event"),
                "response": self.response_base("in_progress", &resp),
            })));
        }
        let new_item = json!({"id": item, "object": "realtime.item", "type": "message",
            "status": "in_progress", "role": "assistant", "content": []});
        out.client.push(event(
            json!({"type": "response.output_item.added", "event_id": id("event"),
            "response_id": resp, "output_index": 0, "item": new_item}),
        ));
        out.client.push(event(
            json!({"type": self.name("conversation.item.added"), "event_id": id("event"),
            "previous_item_id": null, "item": new_item}),
        ));
        let part = match kind {
            Delta::Text => json!({"type": "text", "text": ""}),
            Delta::Audio => json!({"type": "audio", "transcript": ""}),
        };
        out.client.push(event(json!({"type": "response.content_part.added", "event_id": id("event"),
            "response_id": resp, "item_id": item, "output_index": 0, "content_index": 0, "part": part})));
    }

    fn model_turn(&mut self, turn: &Value, out: &mut Out) {
        let parts = turn.get("parts").and_then(Value::as_array);
        let mut kind = None;
        let mut delta = String::new();
        for p in parts.into_iter().flatten() {
            if let Some(t) = p.get("text").and_then(Value::as_str) {
                kind.get_or_insert(Delta::Text);
                delta.push_str(t);
            } else if let Some(d) = p.pointer("/inlineData/data").and_then(Value::as_str) {
                kind.get_or_insert(Delta::Audio);
                delta.push_str(d);
            }
        }
        let Some(kind) = kind else {
            return;
        };
        self.start_item(kind, out);
        let kind = self.delta.unwrap_or(kind);
        if kind == Delta::Text {
            self.text.push_str(&delta);
        }
        let ga = match kind {
            Delta::Text => "response.output_text.delta",
            Delta::Audio => "response.output_audio.delta",
        };
        out.client.push(event(
            json!({"type": self.name(ga), "event_id": id("event"),
            "response_id": self.response_id, "item_id": self.item_id, "output_index": 0,
            "content_index": 0, "delta": delta}),
        ));
    }

    fn generation_complete(&mut self, out: &mut Out) {
        let Some(kind) = self.delta else {
            return;
        };
        let resp = self.response_id.get_or_insert_with(|| id("resp")).clone();
        let item = self.item_id.get_or_insert_with(|| id("item")).clone();
        let (done, part) = match kind {
            Delta::Text => (
                json!({"type": self.name("response.output_text.done"), "text": self.text}),
                json!({"type": "text", "text": self.text}),
            ),
            Delta::Audio => (
                json!({"type": self.name("response.output_audio.done")}),
                json!({"type": "audio", "transcript": ""}),
            ),
        };
        let mut done = done;
        for (k, v) in [
            ("event_id", json!(id("event"))),
            ("response_id", json!(resp)),
            ("item_id", json!(item)),
            ("output_index", json!(0)),
            ("content_index", json!(0)),
        ] {
            done[k] = v;
        }
        out.client.push(event(done));
        out.client.push(event(json!({"type": "response.content_part.done", "event_id": id("event"),
            "response_id": resp, "item_id": item, "output_index": 0, "content_index": 0, "part": part})));
        let finished = json!({"id": item, "object": "realtime.item", "type": "message",
            "status": "completed", "role": "assistant", "content": [part]});
        out.client.push(event(
            json!({"type": "response.output_item.done", "event_id": id("event"),
            "response_id": resp, "output_index": 0, "item": finished}),
        ));
        self.done_item = Some(finished);
        self.delta = None;
    }

    /// The usage for a `response.done`: the frame's own, else one Gemini sent before.
    fn take_usage(&mut self, frame: &Value) -> Value {
        let meta = frame
            .get("usageMetadata")
            .cloned()
            .or(self.pending_usage.take());
        self.pending_usage = None;
        usage(meta.as_ref())
    }

    fn response_done(&mut self, output: Vec<Value>, usage: Value, out: &mut Out) {
        let resp = self.response_id.take().unwrap_or_else(|| id("resp"));
        self.conversation_id.get_or_insert_with(|| id("conv"));
        let mut r = self.response_base("completed", &resp);
        r["output"] = Value::Array(output);
        r["usage"] = usage;
        out.client.push(event(
            json!({"type": "response.done", "event_id": id("event"), "response": r}),
        ));
        self.item_id = None;
        self.delta = None;
        self.text.clear();
        self.done_item = None;
    }

    fn tool_call(&mut self, call: &Value, frame: &Value, out: &mut Out) {
        let calls = call
            .get("functionCalls")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if calls.is_empty() {
            return;
        }
        if self.response_id.is_none() {
            let resp = id("resp");
            self.response_id = Some(resp.clone());
            self.conversation_id.get_or_insert_with(|| id("conv"));
            out.client.push(event(
                json!({"type": "response.created", "event_id": id("event"),
                "response": self.response_base("in_progress", &resp)}),
            ));
        }
        let resp = self.response_id.clone().unwrap_or_default();
        let base_item = self.item_id.clone().unwrap_or_else(|| id("item"));
        let mut items = Vec::new();
        for (i, fc) in calls.iter().enumerate() {
            let call_id = fc
                .get("id")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| id("call"));
            let name = fc
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !name.is_empty() {
                self.calls.retain(|(c, _)| *c != call_id);
                self.calls.push_back((call_id.clone(), name.clone()));
                while self.calls.len() > MAX_CALLS {
                    self.calls.pop_front();
                }
            }
            let args = fc
                .get("args")
                .cloned()
                .unwrap_or_else(|| json!({}))
                .to_string();
            let item_id = format!("{base_item}_tool_{i}");
            let item = json!({"id": item_id, "object": "realtime.item", "type": "function_call",
                "status": "completed", "call_id": call_id, "name": name, "arguments": args});
            let mut pending = item.clone();
            pending["status"] = json!("in_progress");
            pending["arguments"] = json!("");
            out.client.push(event(
                json!({"type": "response.output_item.added", "event_id": id("event"),
                "response_id": resp, "output_index": i, "item": pending}),
            ));
            out.client.push(event(
                json!({"type": self.name("conversation.item.added"), "event_id": id("event"),
                "previous_item_id": null, "item": pending}),
            ));
            out.client.push(event(json!({"type": "response.function_call_arguments.delta", "event_id": id("event"),
                "response_id": resp, "item_id": item_id, "output_index": i, "call_id": call_id, "delta": args})));
            out.client.push(event(
                json!({"type": "response.function_call_arguments.done", "event_id": id("event"),
                "response_id": resp, "item_id": item_id, "output_index": i, "call_id": call_id,
                "name": name, "arguments": args}),
            ));
            out.client.push(event(
                json!({"type": "response.output_item.done", "event_id": id("event"),
                "response_id": resp, "output_index": i, "item": item}),
            ));
            items.push(item);
        }
        let usage = self.take_usage(frame);
        self.response_done(items, usage, out);
    }

    /// One Gemini message (Google sends them as binary frames of JSON, or text).
    pub fn from_upstream(&mut self, bytes: &[u8]) -> Out {
        let mut out = Out::default();
        let Ok(Value::Object(msg)) = serde_json::from_slice::<Value>(bytes) else {
            return out;
        };
        let frame = Value::Object(msg);
        if frame.get("setupComplete").is_some() {
            self.ready = true;
            out.upstream.append(&mut self.held);
            // The client already has its `session.created`: the settled session is an update.
            out.client.push(event(json!({
                "type": "session.updated",
                "event_id": id("event"),
                "session": self.session_object(),
            })));
        }
        let mut turn_end = false;
        if let Some(sc) = frame.get("serverContent") {
            if let Some(t) = sc
                .pointer("/inputTranscription/text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                out.client.push(event(json!({"type": "conversation.item.input_audio_transcription.completed",
                    "event_id": id("event"), "item_id": id("item"), "content_index": 0, "transcript": t})));
            }
            if let Some(t) = sc
                .pointer("/outputTranscription/text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                self.start_item(Delta::Audio, &mut out);
                out.client.push(event(json!({"type": self.name("response.output_audio_transcript.delta"),
                    "event_id": id("event"), "response_id": self.response_id, "item_id": self.item_id,
                    "output_index": 0, "content_index": 0, "delta": t, "transcript": t})));
            }
            if let Some(turn) = sc.get("modelTurn") {
                self.model_turn(turn, &mut out);
            }
            if sc.get("generationComplete").and_then(Value::as_bool) == Some(true) {
                self.generation_complete(&mut out);
            }
            turn_end = ["turnComplete", "interrupted"]
                .iter()
                .any(|k| sc.get(*k).and_then(Value::as_bool) == Some(true));
        }
        if let Some(call) = frame.get("toolCall") {
            self.tool_call(call, &frame, &mut out);
        }
        if turn_end {
            let output: Vec<Value> = self.done_item.take().into_iter().collect();
            let usage = self.take_usage(&frame);
            self.response_done(output, usage, &mut out);
        } else if let Some(u) = frame.get("usageMetadata") {
            if frame.get("toolCall").is_none() {
                self.pending_usage = Some(u.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(out: &Out) -> Vec<Value> {
        out.client
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect()
    }

    fn kinds(out: &Out) -> Vec<String> {
        events(out)
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    }

    fn up(out: &Out) -> Vec<Value> {
        out.upstream
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect()
    }

    #[test]
    fn session_update_is_the_setup_and_later_ones_are_dropped() {
        let mut s = Session::new("gemini-2.0-flash-live-001", false);
        let opened = s.opened();
        assert!(opened.upstream.is_empty());
        let created: Value = serde_json::from_str(&opened.client[0]).unwrap();
        assert_eq!(created["type"], "session.created");
        assert_eq!(created["session"]["model"], "gemini-2.0-flash-live-001");
        let out = s.from_client(
            &json!({"type": "session.update", "session": {
                "modalities": ["text"], "instructions": "be brief", "temperature": 0.4,
                "max_response_output_tokens": 200, "voice": "alloy",
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 300},
                "tools": [{"type": "function", "name": "weather", "description": "d",
                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                          "additionalProperties": false}}]
            }})
            .to_string(),
        );
        let setup = &up(&out)[0]["setup"];
        assert_eq!(setup["model"], "models/gemini-2.0-flash-live-001");
        assert_eq!(
            setup["generationConfig"],
            json!({"temperature": 0.4, "maxOutputTokens": 200, "responseModalities": ["TEXT"],
                   "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Zephyr"}}}})
        );
        assert_eq!(setup["systemInstruction"]["parts"][0]["text"], "be brief");
        assert_eq!(
            setup["realtimeInputConfig"]["automaticActivityDetection"],
            json!({"disabled": false, "silenceDurationMs": 300})
        );
        let decl = &setup["tools"][0]["functionDeclarations"][0];
        assert_eq!(decl["name"], "weather");
        assert!(decl["parameters"].get("additionalProperties").is_none());
        assert_eq!(setup["inputAudioTranscription"], json!({}));
        // A second update sends nothing: Gemini would close the session.
        let again = s.from_client(r#"{"type":"session.update","session":{"instructions":"x"}}"#);
        assert_eq!(again, Out::default());
    }

    #[test]
    fn ga_session_fields_and_native_audio_models() {
        let session = json!({"type": "realtime", "output_modalities": ["text"],
            "audio": {"input": {"transcription": {"model": "whisper-1"},
                                "turn_detection": {"type": "semantic_vad"}},
                      "output": {"voice": "Kore"}}});
        let setup = setup_from("gemini-2.0-flash-live-001", session.as_object().unwrap());
        assert_eq!(
            setup["generationConfig"]["responseModalities"],
            json!(["TEXT"])
        );
        assert_eq!(
            setup["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]
                ["voiceName"],
            "Kore"
        );
        assert!(setup.get("realtimeInputConfig").is_none());
        let native = setup_from(
            "gemini-2.5-flash-native-audio-preview-09-2025",
            session.as_object().unwrap(),
        );
        assert_eq!(
            native["generationConfig"],
            json!({"responseModalities": ["AUDIO"]})
        );
    }

    #[test]
    fn content_before_setup_gets_the_default_setup_and_waits_for_setup_complete() {
        let mut s = Session::new("models/gemini-live", false);
        let out = s.from_client(
            r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"},{"type":"input_text","text":"there"}]}}"#,
        );
        assert_eq!(
            up(&out),
            vec![json!({"setup": default_setup("gemini-live")})]
        );
        let audio = s.from_client(r#"{"type":"input_audio_buffer.append","audio":"AAAA"}"#);
        assert!(audio.upstream.is_empty());
        assert!(s
            .from_client(r#"{"type":"response.create"}"#)
            .upstream
            .is_empty());
        let ready = s.from_upstream(br#"{"setupComplete":{}}"#);
        assert_eq!(kinds(&ready), ["session.updated"]);
        assert_eq!(
            up(&ready),
            vec![
                json!({"clientContent": {"turns": [{"role": "user", "parts": [{"text": "hi there"}]}], "turnComplete": true}}),
                json!({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=24000", "data": "AAAA"}}}),
            ]
        );
        let end = s.from_client(r#"{"type":"input_audio_buffer.commit"}"#);
        assert_eq!(
            up(&end),
            vec![json!({"realtimeInput": {"audioStreamEnd": true}})]
        );
        let bad = s.from_client("not json");
        assert_eq!(kinds(&bad), ["error"]);
    }

    #[test]
    fn a_text_turn_becomes_openai_events_with_usage() {
        let mut s = Session::new("gemini-2.0-flash-live-001", true);
        s.from_client(r#"{"type":"session.update","session":{"modalities":["text"]}}"#);
        s.from_upstream(br#"{"setupComplete":{}}"#);
        let first =
            s.from_upstream(br#"{"serverContent":{"modelTurn":{"parts":[{"text":"Hel"}]}}}"#);
        assert_eq!(
            kinds(&first),
            [
                "response.created",
                "response.output_item.added",
                "conversation.item.created",
                "response.content_part.added",
                "response.text.delta"
            ]
        );
        let second =
            s.from_upstream(br#"{"serverContent":{"modelTurn":{"parts":[{"text":"lo"}]}}}"#);
        assert_eq!(kinds(&second), ["response.text.delta"]);
        let done = s.from_upstream(br#"{"serverContent":{"generationComplete":true}}"#);
        assert_eq!(
            kinds(&done),
            [
                "response.text.done",
                "response.content_part.done",
                "response.output_item.done"
            ]
        );
        assert_eq!(events(&done)[0]["text"], "Hello");
        let usage = br#"{"serverContent":{"turnComplete":true},"usageMetadata":{"promptTokenCount":120,"responseTokenCount":45,"totalTokenCount":165,"promptTokensDetails":[{"modality":"TEXT","tokenCount":80},{"modality":"AUDIO","tokenCount":40}],"responseTokensDetails":[{"modality":"TEXT","tokenCount":45}]}}"#;
        let end = s.from_upstream(usage);
        let ev = &events(&end)[0];
        assert_eq!(ev["type"], "response.done");
        let u = &ev["response"]["usage"];
        assert_eq!(
            (u["input_tokens"].as_u64(), u["output_tokens"].as_u64()),
            (Some(120), Some(45))
        );
        assert_eq!(u["input_token_details"]["audio_tokens"], 40);
        assert_eq!(u["input_token_details"]["text_tokens"], 80);
        assert_eq!(u["output_token_details"]["text_tokens"], 45);
        assert_eq!(ev["response"]["output"][0]["content"][0]["text"], "Hello");
        // Every event of one response carries its id.
        let id = ev["response"]["id"].clone();
        assert_eq!(events(&first)[0]["response"]["id"], id);
        assert_eq!(events(&second)[0]["response_id"], id);
    }

    #[test]
    fn audio_turns_standalone_usage_and_tool_calls() {
        let mut s = Session::new("gemini-2.0-flash-live-001", false);
        s.from_client(r#"{"type":"session.update","session":{}}"#);
        s.from_upstream(br#"{"setupComplete":{}}"#);
        let a = s.from_upstream(
            br#"{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"AAAA"}}]}}}"#,
        );
        assert_eq!(kinds(&a).last().unwrap(), "response.output_audio.delta");
        assert_eq!(events(&a).last().unwrap()["delta"], "AAAA");
        // Usage on its own frame is kept for the turn's end.
        assert!(s
            .from_upstream(br#"{"usageMetadata":{"promptTokenCount":7,"responseTokenCount":3,"totalTokenCount":10}}"#)
            .client
            .is_empty());
        let end = s.from_upstream(br#"{"serverContent":{"turnComplete":true}}"#);
        assert_eq!(events(&end)[0]["response"]["usage"]["input_tokens"], 7);

        let call = s.from_upstream(
            br#"{"toolCall":{"functionCalls":[{"id":"fc1","name":"weather","args":{"city":"Paris"}}]}}"#,
        );
        assert_eq!(
            kinds(&call),
            [
                "response.created",
                "response.output_item.added",
                "conversation.item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.done"
            ]
        );
        assert_eq!(events(&call)[4]["arguments"], r#"{"city":"Paris"}"#);
        let reply = s.from_client(
            r#"{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"fc1","output":"sunny"}}"#,
        );
        assert_eq!(
            up(&reply),
            vec![
                json!({"toolResponse": {"functionResponses": [{"response": {"result": "sunny"}, "id": "fc1", "name": "weather"}]}})
            ]
        );
    }

    #[test]
    fn vertex_sends_its_setup_at_connect_and_drops_session_updates() {
        let mut s = Session::vertex("gemini-live-2.5-flash", "proj", "us-central1", false);
        let opened = s.opened();
        assert_eq!(kinds(&opened), ["session.created"]);
        let setup = &up(&opened)[0]["setup"];
        assert_eq!(
            setup["model"],
            "projects/proj/locations/us-central1/publishers/google/models/gemini-live-2.5-flash"
        );
        assert_eq!(setup["outputAudioTranscription"], json!({}));
        assert_eq!(s.probe_setup(), json!({ "setup": setup }).to_string());
        let update =
            s.from_client(r#"{"type":"session.update","session":{"modalities":["text"]}}"#);
        assert_eq!(update, Out::default());
        s.from_upstream(br#"{"setupComplete":{}}"#);
        let audio = s.from_client(r#"{"type":"input_audio_buffer.append","audio":"AAAA"}"#);
        assert_eq!(
            up(&audio)[0]["realtimeInput"]["audio"]["mimeType"],
            "audio/pcm;rate=16000"
        );
        s.from_upstream(br#"{"toolCall":{"functionCalls":[{"id":"c1","name":"f","args":{}}]}}"#);
        let reply = s.from_client(
            r#"{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c1","output":"{\"ok\":true}"}}"#,
        );
        assert_eq!(
            up(&reply),
            vec![
                json!({"toolResponse": {"functionResponses": [{"response": {"ok": true}, "name": "f"}]}})
            ]
        );
    }

    #[test]
    fn usage_without_metadata_is_zero() {
        let u = usage(None);
        assert_eq!(u["input_tokens"], 0);
        let thoughts = usage(Some(
            &json!({"promptTokenCount": 10, "responseTokenCount": 5,
            "thoughtsTokenCount": 4, "totalTokenCount": 19,
            "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 5}]}),
        ));
        assert_eq!(thoughts["output_tokens"], 9);
        assert_eq!(thoughts["output_token_details"]["audio_tokens"], 5);
        assert_eq!(thoughts["output_token_details"]["text_tokens"], 4);
    }
}
