//! Per-call options: what a deployment's `litellm_params` carry besides the model.

use std::time::Duration;

use llmgate_types::Extra;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    pub api_base: Option<String>,
    pub api_key: Option<String>,
    pub api_version: Option<String>,
    pub organization: Option<String>,
    /// Whole-request timeout for non-streaming calls; time to first byte for streams.
    pub timeout: Option<Duration>,
    /// For streams: time to first byte and the longest silence between chunks.
    pub stream_timeout: Option<Duration>,
    pub extra_headers: Vec<(String, String)>,
    /// Drop parameters the provider does not support instead of failing.
    pub drop_params: bool,
    /// Answer with this instead of calling the upstream (LiteLLM's `mock_response`).
    pub mock_response: Option<Value>,
    /// Provider-specific settings (`vertex_project`, `aws_region_name`, ...).
    pub extra: Extra,
}

impl CallOptions {
    pub(crate) fn stream_wait(&self) -> Option<Duration> {
        self.stream_timeout.or(self.timeout)
    }
}
