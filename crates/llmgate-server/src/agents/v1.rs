//! A2A 1.0 and 0.3 JSON-RPC shapes, mapped both ways so either client reaches either agent.
//! 0.3 tags objects with `kind` (`task`, `message`, `status-update`, `artifact-update`; parts
//! `text`/`file`/`data`), spells states and roles in lower case (`completed`, `agent`), and
//! answers `message/send` with the task or message itself. 1.0 (ProtoJSON of `a2a.proto` v1)
//! drops `kind`, wraps answers in their oneof (`{"task": ...}`, `{"message": ...}`,
//! `{"statusUpdate": ...}`, `{"artifactUpdate": ...}`), spells enums `TASK_STATE_COMPLETED` /
//! `ROLE_AGENT`, flattens file parts into `url`/`raw` + `mediaType`/`filename`, and has no
//! `final` on status updates. Unknown fields pass through.

use serde_json::{json, Map, Value};

/// A2A 1.0's method names and their 0.3 wire names.
pub const RENAMED: &[(&str, &str)] = &[
    ("SendMessage", "message/send"),
    ("SendStreamingMessage", "message/stream"),
    ("GetTask", "tasks/get"),
    ("ListTasks", "tasks/list"),
    ("CancelTask", "tasks/cancel"),
    ("SubscribeToTask", "tasks/resubscribe"),
    (
        "CreateTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/set",
    ),
    (
        "GetTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/get",
    ),
    (
        "ListTaskPushNotificationConfigs",
        "tasks/pushNotificationConfig/list",
    ),
    (
        "DeleteTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/delete",
    ),
    ("GetExtendedAgentCard", "agent/getAuthenticatedExtendedCard"),
];

/// The 0.3 wire name of a method (1.0 names mapped, others as they are).
pub fn wire_name(method: &str) -> &str {
    RENAMED
        .iter()
        .find(|(new, _)| *new == method)
        .map_or(method, |(_, wire)| *wire)
}

/// The 1.0 name of a 0.3 method.
pub fn v1_name(method: &str) -> &str {
    RENAMED
        .iter()
        .find(|(_, wire)| *wire == method)
        .map_or(method, |(new, _)| *new)
}

/// Whether an agent speaks 1.0: its card says `protocolVersion: 1.x` or lists
/// `supportedInterfaces` (1.0's replacement of `url` + `preferredTransport`).
pub fn is_v1_card(card: &Map<String, Value>) -> bool {
    card.get("protocolVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("1."))
        || card.contains_key("supportedInterfaces")
}

const STATES: &[(&str, &str)] = &[
    ("submitted", "TASK_STATE_SUBMITTED"),
    ("working", "TASK_STATE_WORKING"),
    ("completed", "TASK_STATE_COMPLETED"),
    ("failed", "TASK_STATE_FAILED"),
    ("canceled", "TASK_STATE_CANCELED"),
    ("input-required", "TASK_STATE_INPUT_REQUIRED"),
    ("rejected", "TASK_STATE_REJECTED"),
    ("auth-required", "TASK_STATE_AUTH_REQUIRED"),
    ("unknown", "TASK_STATE_UNSPECIFIED"),
];

const ROLES: &[(&str, &str)] = &[("user", "ROLE_USER"), ("agent", "ROLE_AGENT")];

fn map_enum(v: &mut Value, table: &[(&str, &str)], to_v1: bool) {
    let Some(s) = v.as_str() else { return };
    // 0.3's proto spelled it CANCELLED.
    let s = if s == "TASK_STATE_CANCELLED" {
        "TASK_STATE_CANCELED"
    } else {
        s
    };
    let found = table
        .iter()
        .find(|(old, new)| if to_v1 { *old == s } else { *new == s });
    if let Some((old, new)) = found {
        *v = Value::String(if to_v1 { new } else { old }.to_string());
    }
}

fn each(v: &mut Value, key: &str, f: fn(&mut Value)) {
    if let Some(Value::Array(a)) = v.get_mut(key) {
        a.iter_mut().for_each(f);
    }
}

fn with(v: &mut Value, key: &str, f: fn(&mut Value)) {
    if let Some(x) = v.get_mut(key).filter(|x| !x.is_null()) {
        f(x);
    }
}

fn remove(v: &mut Value, key: &str) -> Option<Value> {
    v.as_object_mut()?.remove(key)
}

// ---- 0.3 → 1.0 ----

pub fn part_v1(p: &mut Value) {
    // Text and data parts only lose their `kind`; a file part's `file` is flattened.
    let kind = remove(p, "kind");
    if kind.as_ref().and_then(Value::as_str) == Some("file") {
        if let Some(f) = remove(p, "file") {
            for (old, new) in [
                ("uri", "url"),
                ("bytes", "raw"),
                ("mimeType", "mediaType"),
                ("name", "filename"),
            ] {
                if let Some(x) = f.get(old).filter(|x| !x.is_null()) {
                    p[new] = x.clone();
                }
            }
        }
    }
}

pub fn message_v1(m: &mut Value) {
    if !m.is_object() {
        return;
    }
    remove(m, "kind");
    with(m, "role", |r| map_enum(r, ROLES, true));
    each(m, "parts", part_v1);
}

fn status_v1(s: &mut Value) {
    with(s, "state", |x| map_enum(x, STATES, true));
    with(s, "message", message_v1);
}

fn artifact_v1(a: &mut Value) {
    each(a, "parts", part_v1);
}

pub fn task_v1(t: &mut Value) {
    if !t.is_object() {
        return;
    }
    remove(t, "kind");
    with(t, "status", status_v1);
    each(t, "artifacts", artifact_v1);
    each(t, "history", message_v1);
}

/// A 0.3 `message/send` result or stream event as 1.0's oneof.
fn payload_v1(mut r: Value) -> Value {
    match r.get("kind").and_then(Value::as_str) {
        Some("task") => {
            task_v1(&mut r);
            json!({ "task": r })
        }
        Some("message") => {
            message_v1(&mut r);
            json!({ "message": r })
        }
        Some("status-update") => {
            remove(&mut r, "kind");
            remove(&mut r, "final");
            with(&mut r, "status", status_v1);
            json!({ "statusUpdate": r })
        }
        Some("artifact-update") => {
            remove(&mut r, "kind");
            with(&mut r, "artifact", artifact_v1);
            json!({ "artifactUpdate": r })
        }
        _ => r,
    }
}

/// A 0.3 agent's answer (or stream event) to `method` (its 0.3 name), as a 1.0 client
/// expects it. JSON-RPC errors are the same in both.
pub fn answer_v1(method: &str, mut answer: Value) -> Value {
    let Some(result) = answer.get_mut("result") else {
        return answer;
    };
    let r = result.take();
    *result = match method {
        "message/send" | "message/stream" | "tasks/resubscribe" => payload_v1(r),
        "tasks/get" | "tasks/cancel" => {
            let mut r = r;
            task_v1(&mut r);
            r
        }
        "tasks/list" => {
            let mut r = r;
            each(&mut r, "tasks", task_v1);
            r
        }
        _ => r,
    };
    answer
}

/// A 0.3 client's request in 1.0's names and shapes, for a 1.0 agent.
pub fn request_v1(req: &mut Value) {
    if let Some(m) = req.get("method").and_then(Value::as_str) {
        req["method"] = Value::String(v1_name(m).to_string());
    }
    if let Some(m) = req.pointer_mut("/params/message") {
        message_v1(m);
    }
}

// ---- 1.0 → 0.3 ----

pub fn part_v03(p: &mut Value) {
    if !p.is_object() || p.get("kind").is_some() {
        return;
    }
    if p.get("text").is_some() {
        p["kind"] = json!("text");
    } else if p.get("data").is_some() {
        p["kind"] = json!("data");
    } else if p.get("url").is_some() || p.get("raw").is_some() {
        let mut file = Map::new();
        for (new, old) in [
            ("url", "uri"),
            ("raw", "bytes"),
            ("mediaType", "mimeType"),
            ("filename", "name"),
        ] {
            if let Some(x) = remove(p, new) {
                file.insert(old.into(), x);
            }
        }
        p["kind"] = json!("file");
        p["file"] = Value::Object(file);
    }
}

/// A 1.0 message (`role: ROLE_USER`, parts without `kind`) in the 0.3 shape.
pub fn message_v03(m: &mut Value) {
    // Anything but an object is the agent's to refuse, as it was sent.
    if !m.is_object() {
        return;
    }
    with(m, "role", |r| map_enum(r, ROLES, false));
    if m.get("kind").is_none() {
        m["kind"] = json!("message");
    }
    each(m, "parts", part_v03);
}

fn status_v03(s: &mut Value) {
    with(s, "state", |x| map_enum(x, STATES, false));
    with(s, "message", message_v03);
}

fn artifact_v03(a: &mut Value) {
    each(a, "parts", part_v03);
}

pub fn task_v03(t: &mut Value) {
    if !t.is_object() {
        return;
    }
    t["kind"] = json!("task");
    with(t, "status", status_v03);
    each(t, "artifacts", artifact_v03);
    each(t, "history", message_v03);
}

fn terminal_v03(state: &Value) -> bool {
    matches!(
        state.as_str(),
        Some("completed" | "failed" | "canceled" | "rejected" | "input-required" | "auth-required")
    )
}

/// A 1.0 oneof (`{"task": ...}`, ...) as the 0.3 object.
fn payload_v03(r: Value) -> Value {
    let Value::Object(mut o) = r else { return r };
    if let Some(mut t) = o.remove("task") {
        task_v03(&mut t);
        return t;
    }
    if let Some(mut m) = o.remove("message").or_else(|| o.remove("msg")) {
        message_v03(&mut m);
        return m;
    }
    if let Some(mut e) = o.remove("statusUpdate") {
        with(&mut e, "status", status_v03);
        e["kind"] = json!("status-update");
        // 1.0 ends a stream by closing it; 0.3 clients look for `final`.
        let fin = terminal_v03(&e["status"]["state"]);
        e["final"] = json!(fin);
        return e;
    }
    if let Some(mut e) = o.remove("artifactUpdate") {
        with(&mut e, "artifact", artifact_v03);
        e["kind"] = json!("artifact-update");
        return e;
    }
    Value::Object(o)
}

/// A 1.0 agent's answer to `method` (its 0.3 name) as a 0.3 client expects it.
pub fn answer_v03(method: &str, mut answer: Value) -> Value {
    let Some(result) = answer.get_mut("result") else {
        return answer;
    };
    let r = result.take();
    *result = match method {
        "message/send" | "message/stream" | "tasks/resubscribe" => payload_v03(r),
        "tasks/get" | "tasks/cancel" => {
            let mut r = r;
            task_v03(&mut r);
            r
        }
        "tasks/list" => {
            let mut r = r;
            each(&mut r, "tasks", task_v03);
            r
        }
        _ => r,
    };
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task03() -> Value {
        json!({"kind": "task", "id": "t1", "contextId": "c1",
               "status": {"state": "completed", "message": {"kind": "message", "role": "agent",
                          "messageId": "m2", "parts": [{"kind": "text", "text": "hi"}]}},
               "artifacts": [{"artifactId": "a1", "parts": [
                   {"kind": "file", "file": {"uri": "http://x/f.png", "mimeType": "image/png"}},
                   {"kind": "data", "data": {"k": 1}}]}],
               "history": [{"kind": "message", "role": "user", "messageId": "m1",
                            "parts": [{"kind": "text", "text": "yo"}]}]})
    }

    #[test]
    fn a_0_3_task_answer_is_1_0s_oneof_and_back() {
        let a = json!({"jsonrpc": "2.0", "id": 1, "result": task03()});
        let v1 = answer_v1("message/send", a.clone());
        let t = &v1["result"]["task"];
        assert!(t.get("kind").is_none());
        assert_eq!(t["status"]["state"], "TASK_STATE_COMPLETED");
        assert_eq!(t["status"]["message"]["role"], "ROLE_AGENT");
        assert_eq!(t["status"]["message"]["parts"][0], json!({"text": "hi"}));
        assert_eq!(
            t["artifacts"][0]["parts"][0],
            json!({"url": "http://x/f.png", "mediaType": "image/png"})
        );
        assert_eq!(t["artifacts"][0]["parts"][1], json!({"data": {"k": 1}}));
        assert_eq!(t["history"][0]["role"], "ROLE_USER");
        // And a 1.0 agent's answer reads as the 0.3 one.
        assert_eq!(answer_v03("message/send", v1), a);
    }

    #[test]
    fn stream_events_and_task_methods() {
        let ev = json!({"jsonrpc": "2.0", "id": 1, "result": {"kind": "status-update",
            "taskId": "t1", "contextId": "c1", "final": true, "status": {"state": "completed"}}});
        let v1 = answer_v1("message/stream", ev.clone());
        assert_eq!(
            v1["result"],
            json!({"statusUpdate": {"taskId": "t1", "contextId": "c1",
                   "status": {"state": "TASK_STATE_COMPLETED"}}})
        );
        assert_eq!(answer_v03("message/stream", v1), ev);
        let msg = json!({"jsonrpc": "2.0", "id": 1, "result": {"kind": "message", "role": "agent",
            "messageId": "m", "parts": [{"kind": "text", "text": "x"}]}});
        let v1 = answer_v1("message/send", msg.clone());
        assert_eq!(v1["result"]["message"]["parts"][0], json!({"text": "x"}));
        assert_eq!(answer_v03("message/send", v1), msg);
        let got = answer_v1("tasks/get", json!({"result": task03()}));
        assert_eq!(got["result"]["id"], "t1");
        assert_eq!(got["result"]["status"]["state"], "TASK_STATE_COMPLETED");
        // Errors are left alone.
        let err = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": "no"}});
        assert_eq!(answer_v1("tasks/get", err.clone()), err);
    }

    #[test]
    fn requests_and_names() {
        assert_eq!(wire_name("SendMessage"), "message/send");
        assert_eq!(v1_name("tasks/cancel"), "CancelTask");
        let mut req = json!({"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {
            "message": {"kind": "message", "role": "user", "messageId": "m",
                        "parts": [{"kind": "text", "text": "hi"}]}}});
        request_v1(&mut req);
        assert_eq!(req["method"], "SendMessage");
        assert_eq!(
            req["params"]["message"],
            json!({"role": "ROLE_USER", "messageId": "m", "parts": [{"text": "hi"}]})
        );
        let mut m = req["params"]["message"].take();
        message_v03(&mut m);
        assert_eq!(m["role"], "user");
        assert_eq!(m["kind"], "message");
        assert_eq!(m["parts"][0]["kind"], "text");
        let card: Map<String, Value> =
            serde_json::from_value(json!({"protocolVersion": "1.0"})).unwrap();
        assert!(is_v1_card(&card));
        let card: Map<String, Value> =
            serde_json::from_value(json!({"protocolVersion": "0.3.0", "url": "x"})).unwrap();
        assert!(!is_v1_card(&card));
    }
}
