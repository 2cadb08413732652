//! Per-request cache controls, as LiteLLM reads them: the body's `cache` object
//! (`no-cache`, `no-store`, `ttl`, `s-maxage`, `namespace`, `use-cache`), and — llmgate's
//! addition, never over the body — the standard `Cache-Control` request header's
//! `no-cache`, `no-store`, `s-maxage=`/`max-age=`. A key whose `allowed_cache_controls` is
//! non-empty may set only those (LiteLLM's `_PROXY_CacheControlCheck`: 403).

use serde_json::Value;

use crate::error::GatewayError;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Controls {
    /// Don't answer from the cache (the answer is still stored).
    pub no_cache: bool,
    /// Don't store the answer.
    pub no_store: bool,
    /// Seconds to keep this answer (over `cache_params.ttl`).
    pub ttl: Option<f64>,
    /// Accept only entries at most this old (seconds).
    pub s_maxage: Option<f64>,
    pub namespace: Option<String>,
    /// Opts in under `mode: default_off`.
    pub use_cache: bool,
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)
}

impl Controls {
    /// The controls of one request. A `cache` that is not an object is ignored, as LiteLLM
    /// ignores it; a control of the wrong type is a 400 (LiteLLM would fail deeper in).
    pub fn parse(body: Option<&Value>, header: Option<&str>) -> Result<Controls, GatewayError> {
        let mut c = Controls::default();
        if let Some(h) = header {
            c.header(h);
        }
        let Some(Value::Object(m)) = body else {
            return Ok(c);
        };
        let bad =
            |k: &str, what: &str| GatewayError::BadRequest(format!("cache.{k} must be {what}"));
        for (k, v) in m {
            match k.as_str() {
                "no-cache" => c.no_cache = v.as_bool().ok_or_else(|| bad(k, "a boolean"))?,
                "no-store" => c.no_store = v.as_bool().ok_or_else(|| bad(k, "a boolean"))?,
                "use-cache" => c.use_cache = v.as_bool().ok_or_else(|| bad(k, "a boolean"))?,
                "ttl" => c.ttl = Some(number(v).ok_or_else(|| bad(k, "a number of seconds"))?),
                // LiteLLM reads both spellings.
                "s-maxage" | "s-max-age" => {
                    c.s_maxage = Some(number(v).ok_or_else(|| bad(k, "a number of seconds"))?)
                }
                "namespace" => {
                    let n = v.as_str().ok_or_else(|| bad(k, "a string"))?;
                    c.namespace = Some(n.to_string()).filter(|n| !n.is_empty());
                }
                // LiteLLM passes other keys along without effect.
                _ => {}
            }
        }
        Ok(c)
    }

    fn header(&mut self, h: &str) {
        for d in h.split(',').map(str::trim) {
            let (name, value) = d.split_once('=').unwrap_or((d, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "no-cache" => self.no_cache = true,
                "no-store" => self.no_store = true,
                "s-maxage" | "max-age" => {
                    if let Ok(n) = value.trim().trim_matches('"').parse::<f64>() {
                        self.s_maxage = Some(n.max(0.0));
                    }
                }
                _ => {}
            }
        }
    }
}

/// LiteLLM's check: with a non-empty `allowed_cache_controls`, every key of the body's `cache`
/// object must be listed.
pub fn check_allowed(allowed: &[String], body: Option<&Value>) -> Result<(), GatewayError> {
    if allowed.is_empty() {
        return Ok(());
    }
    let Some(Value::Object(m)) = body else {
        return Ok(());
    };
    match m.keys().find(|k| !allowed.iter().any(|a| a == *k)) {
        None => Ok(()),
        Some(k) => Err(GatewayError::Forbidden {
            message: format!(
                "Not allowed to set {k} as a cache control. Contact admin to change permissions."
            ),
            kind: "cache_control_not_allowed",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_controls() {
        let c = Controls::parse(
            Some(
                &json!({"no-cache": true, "no-store": true, "ttl": 600, "s-maxage": "30",
                         "namespace": "t1", "use-cache": true, "other": 1}),
            ),
            None,
        )
        .unwrap();
        assert_eq!(
            c,
            Controls {
                no_cache: true,
                no_store: true,
                ttl: Some(600.0),
                s_maxage: Some(30.0),
                namespace: Some("t1".into()),
                use_cache: true,
            }
        );
        let c = Controls::parse(Some(&json!({"s-max-age": 5})), None).unwrap();
        assert_eq!(c.s_maxage, Some(5.0));
        assert_eq!(
            Controls::parse(Some(&json!("x")), None).unwrap(),
            Controls::default()
        );
    }

    #[test]
    fn bad_controls_are_400() {
        for bad in [
            json!({"ttl": "soon"}),
            json!({"no-cache": "yes"}),
            json!({"namespace": 3}),
            json!({"ttl": -1}),
        ] {
            let e = Controls::parse(Some(&bad), None).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
        }
    }

    #[test]
    fn header_controls_yield_to_the_body() {
        let c = Controls::parse(None, Some("no-store, s-maxage=10")).unwrap();
        assert!(c.no_store && !c.no_cache);
        assert_eq!(c.s_maxage, Some(10.0));
        let c =
            Controls::parse(Some(&json!({"s-maxage": 99})), Some("max-age=10, no-cache")).unwrap();
        assert!(c.no_cache);
        assert_eq!(c.s_maxage, Some(99.0));
    }

    #[test]
    fn allowed_cache_controls() {
        let allowed = vec!["no-cache".to_string()];
        assert!(check_allowed(&allowed, Some(&json!({"no-cache": true}))).is_ok());
        assert!(check_allowed(&[], Some(&json!({"ttl": 1}))).is_ok());
        assert!(check_allowed(&allowed, None).is_ok());
        let e = check_allowed(&allowed, Some(&json!({"no-cache": true, "ttl": 5}))).unwrap_err();
        assert_eq!(e.status(), 403);
        assert!(e.body()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Not allowed to set ttl as a cache control."));
    }
}
