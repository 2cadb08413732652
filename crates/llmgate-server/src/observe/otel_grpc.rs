//! OTLP over gRPC (`OTEL_EXPORTER=otlp_grpc`, or `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`): the same
//! protobuf `ExportTraceServiceRequest` the HTTP exporter sends, as one unary gRPC call —
//! `POST /opentelemetry.proto.collector.trace.v1.TraceService/Export` over HTTP/2 (prior
//! knowledge on `http://`), `content-type: application/grpc`, the message in gRPC's 5-byte
//! frame. Run by the SDK's batch processor on its own thread (a blocking client, off the async
//! runtime); a `grpc-status` other than 0 is a failed export.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use prost::Message;

const PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

#[derive(Debug)]
pub struct GrpcExporter {
    url: String,
    headers: Vec<(String, String)>,
    client: reqwest::blocking::Client,
    resource: ResourceAttributesWithSchema,
}

/// The gRPC method's URL on `endpoint` (`http://collector:4317`; a path is replaced).
pub fn method_url(endpoint: &str) -> Result<String, String> {
    let mut u =
        reqwest::Url::parse(endpoint).map_err(|e| format!("otel: endpoint {endpoint:?}: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("otel: endpoint {endpoint:?}: not http(s)"));
    }
    u.set_path(PATH);
    u.set_query(None);
    Ok(u.to_string())
}

impl GrpcExporter {
    /// Built off the async runtime (the blocking client owns one of its own).
    pub fn new(
        url: String,
        headers: Vec<(String, String)>,
        timeout: Duration,
    ) -> Result<GrpcExporter, String> {
        let client = reqwest::blocking::Client::builder()
            .http2_prior_knowledge()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("otel: {e}"))?;
        Ok(GrpcExporter {
            url,
            headers,
            client,
            resource: ResourceAttributesWithSchema::default(),
        })
    }

    fn send(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        };
        let message = request.encode_to_vec();
        let mut body = Vec::with_capacity(message.len() + 5);
        body.push(0); // not compressed
        body.extend_from_slice(&(message.len() as u32).to_be_bytes());
        body.extend_from_slice(&message);
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let fail = |m: String| OTelSdkError::InternalFailure(m);
        let resp = req
            .body(body)
            .send()
            .map_err(|e| fail(format!("OTLP gRPC export: {e}")))?;
        let status = resp.status();
        // A refusal comes as a trailers-only answer: `grpc-status` among the headers.
        let grpc = resp
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let message = resp
            .headers()
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let _ = resp.bytes();
        if !status.is_success() {
            return Err(fail(format!("OTLP gRPC export: HTTP {status}")));
        }
        match grpc.as_deref() {
            None | Some("0") => Ok(()),
            Some(code) => Err(fail(format!(
                "OTLP gRPC export: grpc-status {code} {message}"
            ))),
        }
    }
}

impl SpanExporter for GrpcExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.send(batch))
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.resource = resource.into();
    }
}
