//! Budget alerts, as LiteLLM's `SlackAlerting.budget_alerts` decides them: which event a
//! spend is (`soft_budget_crossed`, `budget_crossed`, `threshold_crossed` at 15 % and 5 % of a
//! max budget left), its message, the id it is deduplicated by (`budget_alerts:{event}:{id}`,
//! once per `budget_alert_ttl`), LiteLLM's `CallInfo` fields for Slack's text and its
//! `WebhookEvent` JSON for `WEBHOOK_URL`.

use serde::Serialize;

use crate::pyfmt::py_float;

/// LiteLLM's budget alert `type`: which check raised it (the message's prefix and the id).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A key's `max_budget` (and soft budget): `token_budget`.
    Token,
    /// A key's or team's `soft_budget` crossed: `soft_budget`.
    Soft,
    User,
    Team,
    Organization,
    /// `/health/services?service=webhook` sends a `user_budget` alert.
    Proxy,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Token => "Key Budget: ",
            Kind::Soft => "Soft Budget Crossed: ",
            Kind::User => "User Budget: ",
            Kind::Team => "Team Budget: ",
            Kind::Organization => "Organization Budget: ",
            Kind::Proxy => "Proxy Budget: ",
        }
    }
}

/// LiteLLM's `CallInfo`, its fields in its order (the webhook's JSON and Slack's text follow it).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CallInfo {
    pub spend: f64,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub token: Option<String>,
    pub customer_id: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub organization_id: Option<String>,
    pub user_email: Option<String>,
    pub key_alias: Option<String>,
    pub projected_exceeded_date: Option<String>,
    pub projected_spend: Option<f64>,
    /// `key`, `user`, `team`, `organization`, ...
    pub event_group: &'static str,
    pub alert_emails: Option<Vec<String>>,
    pub max_budget_alert_emails: Option<serde_json::Value>,
}

/// LiteLLM's `WebhookEvent`: the `CallInfo` plus what happened.
#[derive(Serialize)]
struct WebhookEvent<'a> {
    #[serde(flatten)]
    info: &'a CallInfo,
    event: &'a str,
    event_message: &'a str,
}

/// One alert decided: its event, message and dedupe key.
#[derive(Clone, Debug)]
pub struct Decided {
    pub event: &'static str,
    pub message: String,
    pub cache_key: String,
}

/// The id an alert of `kind` is known by (`default_id` when missing), from the ids at hand.
pub fn id(kind: Kind, info: &CallInfo) -> String {
    let pick = |v: &Option<String>| v.clone().unwrap_or_else(|| "default_id".into());
    match kind {
        Kind::Proxy => "default_id".into(),
        Kind::Soft if info.event_group == "team" => pick(&info.team_id),
        Kind::Soft | Kind::Token => pick(&info.token),
        Kind::User => pick(&info.user_id),
        Kind::Team => pick(&info.team_id),
        Kind::Organization => pick(&info.organization_id),
    }
}

/// The event (if any) a spend is, as LiteLLM's `_get_event_and_event_message`: the soft budget
/// first, then the max budget, which wins when both apply.
pub fn event(
    spend: f64,
    max_budget: Option<f64>,
    soft_budget: Option<f64>,
) -> Option<(&'static str, Vec<String>)> {
    let mut event = None;
    let mut parts = Vec::new();
    if let Some(soft) = soft_budget {
        if spend >= soft {
            event = Some("soft_budget_crossed");
            parts.push(format!("Total Soft Budget:`{}`", py_float(soft)));
        }
    }
    if let Some(max) = max_budget {
        let left = if max > 0.0 { (max - spend) / max } else { 0.0 };
        if spend >= max {
            event = Some("budget_crossed");
            parts.push(format!("Budget Crossed\n Total Budget:`{}`", py_float(max)));
        } else if left <= 0.05 {
            event = Some("threshold_crossed");
            parts.push("5% or less of budget remaining".into());
        } else if left <= 0.15 {
            event = Some("threshold_crossed");
            parts.push("15% or less of budget remaining".into());
        }
    }
    event.map(|e| (e, parts))
}

/// The alert `kind` raises for `info`, if any.
pub fn decide(kind: Kind, info: &CallInfo) -> Option<Decided> {
    if info.max_budget.is_none() && info.soft_budget.is_none() {
        return None;
    }
    let (event, parts) = event(info.spend, info.max_budget, info.soft_budget)?;
    let mut message = kind.prefix().to_string();
    for p in parts {
        message.push_str(&p);
    }
    Some(Decided {
        event,
        message,
        cache_key: format!("budget_alerts:{event}:{}", id(kind, info)),
    })
}

/// Python's `repr` of a list of strings.
fn py_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| crate::pyfmt::py_str(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// LiteLLM's `_get_user_info_str`: every set field but the token, one `*k:* \`v\`` line each.
pub fn user_info_str(info: &CallInfo) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| {
        out.push_str(&format!("*{k}:* `{v}`\n"));
    };
    line("spend", py_float(info.spend));
    let floats = [
        ("max_budget", info.max_budget),
        ("soft_budget", info.soft_budget),
    ];
    for (k, v) in floats {
        if let Some(v) = v {
            line(k, py_float(v));
        }
    }
    let strings = [
        ("customer_id", &info.customer_id),
        ("user_id", &info.user_id),
        ("team_id", &info.team_id),
        ("team_alias", &info.team_alias),
        ("organization_id", &info.organization_id),
        ("user_email", &info.user_email),
        ("key_alias", &info.key_alias),
        ("projected_exceeded_date", &info.projected_exceeded_date),
    ];
    for (k, v) in strings {
        if let Some(v) = v {
            line(k, v.clone());
        }
    }
    if let Some(p) = info.projected_spend {
        line("projected_spend", py_float(p));
    }
    line("event_group", info.event_group.to_string());
    if let Some(e) = &info.alert_emails {
        line("alert_emails", py_list(e));
    }
    out
}

/// The `WebhookEvent` JSON LiteLLM posts to `WEBHOOK_URL`.
pub fn webhook_body(info: &CallInfo, d: &Decided) -> String {
    serde_json::to_string(&WebhookEvent {
        info,
        event: d.event,
        event_message: &d.message,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(spend: f64, max: Option<f64>, soft: Option<f64>) -> CallInfo {
        CallInfo {
            spend,
            max_budget: max,
            soft_budget: soft,
            token: Some("hash".into()),
            user_id: Some("u1".into()),
            event_group: "key",
            ..Default::default()
        }
    }

    #[test]
    fn events_and_messages_read_as_litellm_writes_them() {
        let d = decide(Kind::Soft, &key(0.00015, None, Some(0.0001))).unwrap();
        assert_eq!(d.event, "soft_budget_crossed");
        assert_eq!(d.message, "Soft Budget Crossed: Total Soft Budget:`0.0001`");
        assert_eq!(d.cache_key, "budget_alerts:soft_budget_crossed:hash");
        let d = decide(Kind::Token, &key(9.0, Some(10.0), None)).unwrap();
        assert_eq!(d.event, "threshold_crossed");
        assert_eq!(d.message, "Key Budget: 15% or less of budget remaining");
        let d = decide(Kind::Token, &key(9.6, Some(10.0), None)).unwrap();
        assert_eq!(d.message, "Key Budget: 5% or less of budget remaining");
        let d = decide(Kind::Token, &key(10.0, Some(10.0), Some(1.0))).unwrap();
        assert_eq!(d.event, "budget_crossed");
        assert_eq!(
            d.message,
            "Key Budget: Total Soft Budget:`1.0`Budget Crossed\n Total Budget:`10.0`"
        );
        assert!(decide(Kind::Token, &key(1.0, Some(10.0), None)).is_none());
        assert!(decide(Kind::Token, &key(1.0, None, None)).is_none());
        let mut u = key(1.0, Some(0.0), None);
        u.event_group = "user";
        u.user_id = None;
        let d = decide(Kind::User, &u).unwrap();
        assert_eq!(d.cache_key, "budget_alerts:budget_crossed:default_id");
    }

    #[test]
    fn the_user_info_text_and_the_webhook_json_follow_call_info() {
        let info = key(1.0, Some(0.0), None);
        assert_eq!(
            user_info_str(&info),
            "*spend:* `1.0`\n*max_budget:* `0.0`\n*user_id:* `u1`\n*event_group:* `key`\n"
        );
        let d = decide(Kind::Token, &info).unwrap();
        let body: serde_json::Value = serde_json::from_str(&webhook_body(&info, &d)).unwrap();
        assert_eq!(body["event"], "budget_crossed");
        assert_eq!(body["event_group"], "key");
        assert_eq!(body["token"], "hash");
        assert!(body["team_id"].is_null());
        let text = webhook_body(&info, &d);
        assert!(
            text.starts_with(r#"{"spend":1.0,"max_budget":0.0,"soft_budget":null,"token":"hash""#)
        );
        assert!(text.ends_with(r#""event":"budget_crossed","event_message":"Key Budget: Budget Crossed\n Total Budget:`0.0`"}"#));
    }
}
