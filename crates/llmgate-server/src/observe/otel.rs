//! `callbacks: ["otel"]`: each call as OpenTelemetry spans over OTLP/HTTP (protobuf, or JSON
//! with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), in batches off the request path (the SDK's
//! batch processor, its own thread; `OTEL_BSP_*` apply).
//!
//! Spans as LiteLLM names them: `litellm_request` (the call: `litellm.call_id`, GenAI
//! semantic-convention attributes, usage, `gen_ai.cost.total_cost`, LiteLLM's `metadata.*`,
//! the messages as `gen_ai.input.messages` / `gen_ai.output.messages` unless message logging
//! is off; ERROR with `error.type` on a failure) and its children: `raw_gen_ai_request` (the
//! provider call), one `guardrail` per guardrail run (`guardrail_name`, `guardrail_mode`,
//! `guardrail_status`, `masked_entity_count`, `guardrail_response`), and the response-cache
//! lookup named by its backend as LiteLLM's service spans are (`redis`, else `in_memory`;
//! `call_type`, `service`, `cache_hit`). A client's W3C `traceparent` is continued, and the provider call's own
//! `traceparent` goes upstream with the request.
//!
//! `redact_user_api_key_info` keeps the `metadata.user_api_key_*` attributes off the spans, as
//! it keeps them out of the logging payload.
//!
//! Settings, LiteLLM's first: `OTEL_EXPORTER` (`otlp_http`, or `otlp_grpc` / `grpc` / `otlp`
//! with `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` for OTLP over gRPC through `otel_grpc.rs`; `console`
//! and other exporters are refused at start), `OTEL_ENDPOINT`, `OTEL_HEADERS` (`k=v,k2=v2`),
//! `OTEL_SERVICE_NAME` (default `litellm`), then the standard
//! `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT` / `_HEADERS` / `_PROTOCOL`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status as SpanStatus, TraceContextExt, TraceFlags,
    TraceId, TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::event::{CallEvent, Status};

/// The ids a call's spans will have, chosen when the request arrives (the provider call's
/// span id is in the `traceparent` sent upstream before the span exists).
#[derive(Clone, Copy, Debug)]
pub struct TraceIds {
    pub trace_id: [u8; 16],
    /// The client's span (from its `traceparent`), the request span's parent.
    pub parent: Option<[u8; 8]>,
    pub sampled: bool,
    pub request: [u8; 8],
    pub llm: [u8; 8],
}

fn hex_to<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl TraceIds {
    /// New ids, continuing the client's W3C `traceparent` when it is valid.
    pub fn new(traceparent: Option<&str>) -> TraceIds {
        let parsed = traceparent.and_then(|t| {
            let mut parts = t.trim().split('-');
            let (version, trace, span, flags) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            if version.len() != 2 || version == "ff" {
                return None;
            }
            let trace: [u8; 16] = hex_to(trace)?;
            let span: [u8; 8] = hex_to(span)?;
            let flags: [u8; 1] = hex_to(flags)?;
            (trace != [0; 16] && span != [0; 8]).then_some((trace, span, flags[0] & 1 == 1))
        });
        let random = || rand::random::<[u8; 8]>();
        match parsed {
            Some((trace_id, parent, sampled)) => TraceIds {
                trace_id,
                parent: Some(parent),
                sampled,
                request: random(),
                llm: random(),
            },
            None => TraceIds {
                trace_id: rand::random(),
                parent: None,
                sampled: true,
                request: random(),
                llm: random(),
            },
        }
    }

    /// The `traceparent` the upstream gets: the provider call's span.
    pub fn upstream_traceparent(&self) -> String {
        let flags = if self.sampled { "01" } else { "00" };
        format!("00-{}-{}-{flags}", hex(&self.trace_id), hex(&self.llm))
    }
}

pub struct Otel {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    /// The messages go on the spans (message logging is on).
    pub messages: bool,
    /// `redact_user_api_key_info`: no `metadata.user_api_key_*` attributes.
    redact_key_info: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `k=v,k2=v2` (values may be percent-encoded, as the OTLP spec allows).
fn headers(spec: &str, out: &mut HashMap<String, String>) {
    for item in spec.split(',') {
        if let Some((k, v)) = item.split_once('=') {
            out.insert(k.trim().to_string(), percent_decode(v.trim()));
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let code = (b[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match code {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Otel {
    pub fn from_env(messages: bool, redact_key_info: bool) -> Result<Otel, String> {
        let exporter = var("OTEL_EXPORTER").unwrap_or_else(|| "otlp_http".into());
        let protocol = var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .unwrap_or_else(|| "http/protobuf".into());
        let grpc = match exporter.as_str() {
            "otlp_http" | "otlp" => protocol == "grpc",
            "otlp_grpc" | "grpc" => true,
            other => {
                return Err(format!(
                    "otel: OTEL_EXPORTER={other} is not supported by llmgate; use otlp_http or otlp_grpc"
                ))
            }
        };
        let protocol = match protocol.as_str() {
            _ if grpc => Protocol::Grpc,
            "http/protobuf" => Protocol::HttpBinary,
            "http/json" => Protocol::HttpJson,
            other => {
                return Err(format!(
                    "otel: OTLP protocol {other} is not supported by llmgate; use http/protobuf or http/json"
                ))
            }
        };
        let endpoint = if grpc {
            // gRPC names the collector (`http://collector:4317`); the method is the path.
            let base = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .or_else(|| var("OTEL_ENDPOINT"))
                .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))
                .unwrap_or_else(|| "http://localhost:4317".into());
            super::otel_grpc::method_url(&base)?
        } else {
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .or_else(|| var("OTEL_ENDPOINT").map(|e| traces_path(&e)))
                .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT").map(|e| traces_path(&e)))
                .unwrap_or_else(|| "http://localhost:4318/v1/traces".into())
        };
        reqwest::Url::parse(&endpoint).map_err(|e| format!("otel: endpoint {endpoint:?}: {e}"))?;
        let mut h = HashMap::new();
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_HEADERS",
        ] {
            if let Some(v) = var(name) {
                headers(&v, &mut h);
            }
        }
        let service = var("OTEL_SERVICE_NAME").unwrap_or_else(|| "litellm".into());
        // The exporter's blocking HTTP client must be made (and used) off the async runtime.
        let built = std::thread::spawn(move || {
            let resource = opentelemetry_sdk::Resource::builder()
                .with_service_name(service)
                .build();
            let builder = SdkTracerProvider::builder().with_resource(resource);
            let builder = if matches!(protocol, Protocol::Grpc) {
                let exporter = super::otel_grpc::GrpcExporter::new(
                    endpoint,
                    h.into_iter().collect(),
                    Duration::from_secs(10),
                )?;
                builder.with_batch_exporter(exporter)
            } else {
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(protocol)
                    .with_endpoint(endpoint)
                    .with_headers(h)
                    .with_timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| format!("otel: {e}"))?;
                builder.with_batch_exporter(exporter)
            };
            Ok::<_, String>(builder.build())
        })
        .join()
        .map_err(|_| "otel: the exporter could not be built".to_string())??;
        let tracer = built.tracer("llmgate");
        Ok(Otel {
            provider: built,
            tracer,
            messages,
            redact_key_info,
        })
    }

    /// The call's spans, ended at the call's times (exported by the batch processor).
    pub fn call(&self, ev: &CallEvent<'_>, ids: &TraceIds) {
        let at = |i: std::time::Instant| -> SystemTime {
            ev.started_at + i.saturating_duration_since(ev.start)
        };
        let parent_cx = match ids.parent {
            Some(p) => Context::new().with_remote_span_context(SpanContext::new(
                TraceId::from_bytes(ids.trace_id),
                SpanId::from_bytes(p),
                if ids.sampled {
                    TraceFlags::SAMPLED
                } else {
                    TraceFlags::default()
                },
                true,
                TraceState::default(),
            )),
            None => Context::new(),
        };
        let mut span = self
            .tracer
            .span_builder("litellm_request")
            .with_kind(SpanKind::Server)
            .with_trace_id(TraceId::from_bytes(ids.trace_id))
            .with_span_id(SpanId::from_bytes(ids.request))
            .with_start_time(ev.started_at)
            .with_attributes(attributes(ev, self.messages, self.redact_key_info))
            .start_with_context(&self.tracer, &parent_cx);
        if let Status::Failure(_) | Status::Abandoned = ev.status {
            let class = ev.status.exception_class().unwrap_or_default();
            span.set_attribute(KeyValue::new("error.type", class.clone()));
            let message = match ev.status {
                Status::Failure(e) => e.body()["error"]["message"]
                    .as_str()
                    .unwrap_or(&class)
                    .to_string(),
                _ => "the client closed the connection".into(),
            };
            span.set_status(SpanStatus::error(message));
        } else {
            span.set_status(SpanStatus::Ok);
        }
        let cx = parent_cx.with_span(span);
        if let (Some(d), Some(api)) = (ev.deployment, ev.api_start) {
            let mut llm = self
                .tracer
                .span_builder("raw_gen_ai_request")
                .with_kind(SpanKind::Client)
                .with_span_id(SpanId::from_bytes(ids.llm))
                .with_start_time(at(api))
                .with_attributes(vec![
                    KeyValue::new("gen_ai.system", d.provider.clone()),
                    KeyValue::new("gen_ai.provider.name", d.provider.clone()),
                    KeyValue::new("gen_ai.request.model", d.bare_model().to_string()),
                    KeyValue::new("llm.api_base", d.api_base.clone()),
                    KeyValue::new("litellm.call_id", ev.call_id.to_string()),
                ])
                .start_with_context(&self.tracer, &cx);
            llm.end_with_timestamp(at(ev.end));
        }
        self.guardrail_spans(ev, &cx);
        if let Some(c) = ev.cache_lookup {
            let mut span = self
                .tracer
                .span_builder(c.service)
                .with_kind(if c.service == "redis" {
                    SpanKind::Client
                } else {
                    SpanKind::Internal
                })
                .with_start_time(at(c.start))
                .with_attributes(vec![
                    KeyValue::new("call_type", c.call_type),
                    KeyValue::new("service", c.service),
                    KeyValue::new("cache_hit", c.hit),
                ])
                .start_with_context(&self.tracer, &cx);
            span.set_status(SpanStatus::Ok);
            span.end_with_timestamp(at(c.end));
        }
        cx.span().end_with_timestamp(at(ev.end));
    }

    /// One `guardrail` span per guardrail run, children of the request span, with LiteLLM's
    /// attributes (from the call's `guardrail_information`, which carries their times).
    fn guardrail_spans(&self, ev: &CallEvent<'_>, cx: &Context) {
        let epoch = |v: &serde_json::Value| {
            v.as_f64()
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s))
        };
        for g in ev.guardrails {
            let now = SystemTime::now();
            let start = epoch(&g["start_time"]).unwrap_or(now);
            let end = epoch(&g["end_time"]).unwrap_or(now).max(start);
            let mut a = vec![KeyValue::new("openinference.span.kind", "GUARDRAIL")];
            for k in [
                "guardrail_name",
                "guardrail_mode",
                "guardrail_status",
                "guardrail_provider",
            ] {
                if let Some(v) = g[k].as_str() {
                    a.push(KeyValue::new(k, v.to_string()));
                }
            }
            let counts = &g["masked_entity_count"];
            if !counts.is_null() {
                a.push(KeyValue::new("masked_entity_count", counts.to_string()));
            }
            // A guardrail's response can quote the text it flagged: kept off the span when
            // message logging is off.
            let response = &g["guardrail_response"];
            if self.messages && !response.is_null() {
                a.push(KeyValue::new("guardrail_response", response.to_string()));
            }
            let mut span = self
                .tracer
                .span_builder("guardrail")
                .with_kind(SpanKind::Internal)
                .with_start_time(start)
                .with_attributes(a)
                .start_with_context(&self.tracer, cx);
            span.end_with_timestamp(end);
        }
    }

    /// Exports what is pending (shutdown).
    pub fn shutdown(&self) {
        let p = self.provider.clone();
        let _ = std::thread::spawn(move || p.shutdown()).join();
    }
}

/// `http://host:4318` → `http://host:4318/v1/traces` (a base, as the OTLP variables give it).
fn traces_path(endpoint: &str) -> String {
    let e = endpoint.trim_end_matches('/');
    if e.ends_with("/v1/traces") {
        e.to_string()
    } else {
        format!("{e}/v1/traces")
    }
}

fn attributes(ev: &CallEvent<'_>, messages: bool, redact_key_info: bool) -> Vec<KeyValue> {
    let mut a = Vec::with_capacity(32);
    let s = |k: &'static str, v: &str| KeyValue::new(k, v.to_string());
    a.push(s("litellm.call_id", ev.call_id));
    a.push(s("litellm.call_type", ev.call_type));
    a.push(s("gen_ai.operation.name", operation(ev.call_type)));
    a.push(s("gen_ai.response.model", ev.model_group));
    a.push(s("litellm.model_group", ev.model_group));
    a.push(KeyValue::new("llm.is_streaming", ev.stream));
    a.push(KeyValue::new("litellm.cache_hit", ev.cache_hit));
    if let Some(d) = ev.deployment {
        a.push(s("gen_ai.request.model", d.bare_model()));
        a.push(s("gen_ai.system", &d.provider));
        a.push(s("gen_ai.provider.name", &d.provider));
        a.push(s("litellm.model_id", &d.id));
    } else {
        a.push(s("gen_ai.request.model", ev.requested_model));
    }
    if let Some(id) = ev.response_id {
        a.push(s("gen_ai.response.id", id));
    }
    if let Some(u) = ev.usage {
        a.push(KeyValue::new(
            "gen_ai.usage.input_tokens",
            u.prompt_tokens as i64,
        ));
        a.push(KeyValue::new(
            "gen_ai.usage.output_tokens",
            u.completion_tokens as i64,
        ));
        a.push(KeyValue::new(
            "gen_ai.usage.total_tokens",
            u.total_tokens as i64,
        ));
        a.push(KeyValue::new(
            "llm.usage.total_tokens",
            u.total_tokens as i64,
        ));
    }
    if ev.status.is_success() {
        a.push(KeyValue::new("gen_ai.cost.total_cost", ev.cost));
    }
    let c = &ev.caller;
    let meta = [
        ("metadata.user_api_key_hash", c.key_hash),
        ("metadata.user_api_key_alias", c.key_alias()),
        ("metadata.user_api_key_team_id", c.team_id()),
        ("metadata.user_api_key_team_alias", c.team_alias()),
        ("metadata.user_api_key_user_id", c.user_id()),
        ("metadata.user_api_key_org_id", c.org_id),
        ("metadata.user_api_key_end_user_id", c.end_user),
    ];
    for (k, v) in meta.into_iter().filter(|_| !redact_key_info) {
        if let Some(v) = v {
            a.push(s(k, v));
        }
    }
    if let Some(u) = c.end_user {
        a.push(s("gen_ai.user", u));
    }
    if let Some(cap) = ev.capture.filter(|_| messages) {
        if let Some(r) = cap.request.as_object() {
            for (k, name) in [
                ("temperature", "gen_ai.request.temperature"),
                ("top_p", "gen_ai.request.top_p"),
                ("max_tokens", "gen_ai.request.max_tokens"),
            ] {
                if let Some(v) = r.get(k).and_then(|v| v.as_f64()) {
                    a.push(KeyValue::new(name, v));
                }
            }
            let input = r
                .get("messages")
                .or_else(|| r.get("input"))
                .or_else(|| r.get("prompt"));
            if let Some(m) = input {
                a.push(KeyValue::new("gen_ai.input.messages", m.to_string()));
            }
        }
        if let Some(out) = &cap.response {
            let msgs: Vec<&serde_json::Value> = out["choices"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| &c["message"])
                .collect();
            let v = if msgs.is_empty() {
                out.to_string()
            } else {
                serde_json::to_string(&msgs).unwrap_or_default()
            };
            a.push(KeyValue::new("gen_ai.output.messages", v));
        }
    }
    a
}

/// The GenAI operation a LiteLLM call type is.
fn operation(call_type: &str) -> &'static str {
    match call_type {
        "aembedding" => "embeddings",
        "atext_completion" => "text_completion",
        "arerank" => "rerank",
        _ => "chat",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_continued_only_when_valid() {
        let t = TraceIds::new(Some(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ));
        assert_eq!(hex(&t.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            t.parent.map(|p| hex(&p)).as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert!(t.sampled);
        let up = t.upstream_traceparent();
        assert_eq!(
            up,
            format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", hex(&t.llm))
        );
        let unsampled = TraceIds::new(Some(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        ));
        assert!(!unsampled.sampled && unsampled.upstream_traceparent().ends_with("-00"));
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            let t = TraceIds::new(Some(bad));
            assert!(t.parent.is_none() && t.sampled, "{bad}");
        }
    }

    #[test]
    fn otlp_headers_are_percent_decoded() {
        let mut h = HashMap::new();
        headers("api-key=a%20b, x=1=2,bad", &mut h);
        assert_eq!(h["api-key"], "a b");
        assert_eq!(h["x"], "1=2");
        assert_eq!(h.len(), 2);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(traces_path("http://h:4318/"), "http://h:4318/v1/traces");
        assert_eq!(
            traces_path("http://h:4318/v1/traces"),
            "http://h:4318/v1/traces"
        );
    }
}
