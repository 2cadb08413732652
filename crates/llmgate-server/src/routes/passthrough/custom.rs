//! `general_settings.pass_through_endpoints`: the config's own routes to a fixed target, as
//! LiteLLM documents them — `path`, `target`, `headers` (values may name `os.environ/VAR`,
//! alone or inside a string such as `Bearer os.environ/KEY`), `forward_headers` (the client's
//! headers go too, minus its gateway key), `include_subpath` (`{path}/...` appended to the
//! target), `auth` (a gateway key is required; off by default, as LiteLLM), `cost_per_request`
//! (charged per call) and `methods`. The query is forwarded. They are served after every
//! built-in route (a built-in path wins, as in LiteLLM where they are added last).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::usage::Format;
use super::{path, relay};
use crate::auth::AuthContext;
use crate::config::Config;
use crate::error::GatewayError;
use crate::state::AppState;

/// One configured endpoint.
pub struct Endpoint {
    path: String,
    target: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    forward_headers: bool,
    include_subpath: bool,
    auth: bool,
    cost_per_request: Option<f64>,
    /// Empty: every method.
    methods: Vec<Method>,
}

/// The configured endpoints (none: every request here is a 404).
#[derive(Clone, Default)]
pub struct Endpoints(Arc<Vec<Endpoint>>);

/// `os.environ/NAME` anywhere in a header value replaced by the variable (LiteLLM's
/// `set_env_variables_in_header`).
fn env_in(value: &str) -> String {
    match value.find("os.environ/") {
        Some(i) => {
            let name = &value[i + "os.environ/".len()..];
            match std::env::var(name) {
                Ok(v) => format!("{}{v}", &value[..i]),
                Err(_) => value.to_string(),
            }
        }
        None => value.to_string(),
    }
}

fn entry(i: usize, v: &Value) -> Result<Endpoint, String> {
    let at = format!("general_settings.pass_through_endpoints[{i}]");
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let path = s("path").ok_or(format!("{at}.path is required"))?;
    if !path.starts_with('/') {
        return Err(format!("{at}.path must start with `/`"));
    }
    let target = s("target").ok_or(format!("{at}.target is required"))?;
    match reqwest::Url::parse(&target) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return Err(format!("{at}.target must be an http(s) URL")),
    }
    let mut headers = Vec::new();
    if let Some(map) = v.get("headers").and_then(Value::as_object) {
        for (k, val) in map {
            let text = match val {
                Value::String(s) => env_in(s),
                Value::Null => continue,
                other => other.to_string(),
            };
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("{at}.headers: {k:?} is not a header name"))?;
            let value = HeaderValue::from_str(&text)
                .map_err(|_| format!("{at}.headers.{k}: not a valid header value"))?;
            headers.push((name, value));
        }
    }
    let flag = |k: &str| crate::config::is(v.get(k), true);
    let methods = match v.get("methods") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|m| {
                m.as_str()
                    .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                    .ok_or(format!("{at}.methods: expected HTTP method names"))
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let cost_per_request = match v.get("cost_per_request") {
        None | Some(Value::Null) => None,
        Some(c) => Some(
            c.as_f64()
                .filter(|c| c.is_finite() && *c >= 0.0)
                .ok_or(format!("{at}.cost_per_request must be a number >= 0"))?,
        ),
    };
    Ok(Endpoint {
        path: path.trim_end_matches('/').to_string(),
        target,
        headers,
        forward_headers: flag("forward_headers"),
        include_subpath: flag("include_subpath"),
        auth: flag("auth"),
        cost_per_request,
        methods,
    })
}

impl Endpoints {
    /// The config's endpoints; a malformed one is an error naming it.
    pub fn from_config(cfg: &Config) -> Result<Endpoints, String> {
        let list = match cfg.general_settings.extra.get("pass_through_endpoints") {
            None | Some(Value::Null) => return Ok(Endpoints::default()),
            Some(Value::Array(a)) => a,
            Some(_) => return Err("general_settings.pass_through_endpoints must be a list".into()),
        };
        let mut out = Vec::new();
        for (i, v) in list.iter().enumerate() {
            out.push(entry(i, v)?);
        }
        Ok(Endpoints(Arc::new(out)))
    }

    /// The endpoint `path` falls under, with the subpath after it.
    fn find<'a>(&'a self, path: &'a str) -> Option<(&'a Endpoint, &'a str)> {
        self.0.iter().find_map(|e| {
            let tail = path.strip_prefix(e.path.as_str())?;
            if tail.is_empty() || tail == "/" {
                Some((e, ""))
            } else if e.include_subpath && tail.starts_with('/') {
                Some((e, &tail[1..]))
            } else {
                None
            }
        })
    }

    /// Serves `req` if a configured endpoint takes it; a 404 otherwise.
    pub async fn serve(&self, state: AppState, req: Request) -> Response {
        let path = req.uri().path().to_string();
        let Some((e, sub)) = self.find(&path) else {
            return GatewayError::NotFound(format!("Route not found: {path}")).into_response();
        };
        if !e.methods.is_empty() && !e.methods.contains(req.method()) {
            return GatewayError::NotFound(format!("Route not found: {path}")).into_response();
        }
        match self.call(&state, e, sub, req).await {
            Ok(r) => r,
            Err(err) => err.into_response(),
        }
    }

    async fn call(
        &self,
        state: &AppState,
        e: &Endpoint,
        sub: &str,
        req: Request,
    ) -> Result<Response, GatewayError> {
        let auth = if e.auth {
            let a = crate::auth::authenticate(state, req.headers()).await?;
            if let Some(k) = &a.key {
                if !crate::auth::route_allowed(&k.row.allowed_routes, req.uri().path()) {
                    return Err(GatewayError::Forbidden {
                        message: format!(
                            "key not allowed to access this route: {}",
                            req.uri().path()
                        ),
                        kind: "key_route_access_denied",
                    });
                }
            }
            a
        } else {
            AuthContext {
                api_key: None,
                is_master: false,
                key: None,
                is_proxy_admin: false,
                client_ip: None,
            }
        };
        let sub = path::checked(sub)?.to_string();
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|err| GatewayError::BadRequest(format!("could not read the body: {err}")))?;
        let target = reqwest::Url::parse(&e.target)
            .map_err(|_| GatewayError::Internal("a pass-through target is not a URL".into()))?;
        // The target's own query is kept, the client's added after it.
        let query = match (target.query(), parts.uri.query()) {
            (Some(a), Some(b)) => Some(format!("{a}&{b}")),
            (a, b) => a.or(b).map(str::to_string),
        };
        let mut base = target.clone();
        base.set_query(None);
        let url = if sub.is_empty() {
            let mut u = base.clone();
            u.set_query(query.as_deref());
            u
        } else {
            path::join(base.as_str(), &sub, query.as_deref())?
        };
        // With `auth`, the gateway key is the client's to keep; without it, the client's
        // headers are its own (LiteLLM forwards them as they are).
        let mut headers = if e.forward_headers {
            if e.auth {
                relay::forwarded(&parts.headers, auth.api_key.as_deref())
            } else {
                let mut h = relay::forwarded(&parts.headers, None);
                for n in ["authorization", "x-api-key", "api-key"] {
                    if let Some(v) = parts.headers.get(n) {
                        h.insert(n, v.clone());
                    }
                }
                h
            }
        } else {
            let mut h = reqwest::header::HeaderMap::new();
            if let Some(ct) = parts.headers.get("content-type") {
                h.insert("content-type", ct.clone());
            }
            h
        };
        for (k, v) in &e.headers {
            headers.insert(k.clone(), v.clone());
        }
        let request = state
            .client
            .http()
            .request(parts.method.clone(), url.clone())
            .headers(headers)
            .body(body);
        let call = relay::Call {
            call_type: "pass_through_endpoint",
            provider: "pass_through",
            route: "/pass_through",
            format: Format::Opaque,
            request,
            url,
            model: None,
            deployment: None,
            cost_per_request: e.cost_per_request,
        };
        Ok(relay::relay(state, &auth, call).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_and_checked() {
        std::env::set_var("PT_TEST_KEY", "k-1");
        let v = serde_json::json!({"path": "/v1/rerank-x", "target": "https://api.cohere.com/v1/rerank",
            "headers": {"Authorization": "Bearer os.environ/PT_TEST_KEY"}, "include_subpath": true,
            "cost_per_request": 0.5, "auth": true, "methods": ["post"]});
        let e = entry(0, &v).unwrap();
        assert_eq!(e.headers[0].1, "Bearer k-1");
        assert!(e.include_subpath && e.auth);
        assert_eq!(e.methods, vec![Method::POST]);
        assert!(entry(0, &serde_json::json!({"path": "/x"})).is_err());
        assert!(entry(
            0,
            &serde_json::json!({"path": "/x", "target": "file:///etc"})
        )
        .is_err());
        let eps = Endpoints(Arc::new(vec![e]));
        assert_eq!(eps.find("/v1/rerank-x/a/b").map(|(_, s)| s), Some("a/b"));
        assert!(eps.find("/v1/rerank-xy").is_none());
    }
}
