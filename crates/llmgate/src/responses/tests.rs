use llmgate_types::{
    ChatCompletionChunk, ChatCompletionResponse, Delta, FunctionCallDelta, ResponsesRequest,
    ToolCallDelta, Usage,
};
use serde_json::json;

use super::{answer, request, stream::Bridge};

fn req(v: serde_json::Value) -> ResponsesRequest {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_string_input_is_one_user_turn_after_the_instructions() {
    let c = request::to_chat(&req(json!({
        "model": "m", "input": "hi", "instructions": "be brief",
        "max_output_tokens": 20, "reasoning": {"effort": "low", "summary": "auto"},
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}, "strict": true}},
        "metadata": {"a": "b"}, "include": ["reasoning.encrypted_content"], "store": false,
    })))
    .unwrap();
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(
        v["messages"],
        json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
        ])
    );
    assert_eq!(v["max_tokens"], 20);
    assert_eq!(v["reasoning_effort"], "low");
    assert_eq!(
        v["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": true}})
    );
    for k in ["metadata", "include", "store", "text", "reasoning"] {
        assert!(v.get(k).is_none(), "{k} sent to chat");
    }
}

#[test]
fn codex_items_become_chat_turns() {
    let c = request::to_chat(&req(json!({
        "model": "m",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "auto"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}], "encrypted_content": "x"},
            {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{\"command\":[\"ls\"]}"},
            {"type": "function_call", "call_id": "call_2", "name": "shell", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"},
            {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "ok"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "done"}]},
            {"type": "web_search_call", "id": "ws_1"},
        ],
        "tools": [
            {"type": "function", "name": "shell", "description": "run", "parameters": {"type": "object"}, "strict": false},
            {"type": "web_search"},
            {"type": "namespace", "name": "mcp", "tools": []},
        ],
        "tool_choice": {"type": "function", "name": "shell"},
        "parallel_tool_calls": true,
    })))
    .unwrap();
    let v = serde_json::to_value(&c).unwrap();
    let m = &v["messages"];
    assert_eq!(m[0], json!({"role": "system", "content": "rules"}));
    assert_eq!(
        m[1]["content"][1]["image_url"]["url"],
        "data:image/png;base64,AAAA"
    );
    assert_eq!(m[2]["role"], "assistant");
    assert_eq!(m[2]["reasoning_content"], "think");
    assert_eq!(m[2]["tool_calls"].as_array().unwrap().len(), 2);
    assert_eq!(m[2]["tool_calls"][0]["id"], "call_1");
    assert_eq!(
        m[3],
        json!({"role": "tool", "content": "a.txt", "tool_call_id": "call_1"})
    );
    assert_eq!(m[4]["content"], "ok");
    assert_eq!(m[5], json!({"role": "assistant", "content": "done"}));
    assert_eq!(m.as_array().unwrap().len(), 6);
    assert_eq!(v["tools"].as_array().unwrap().len(), 1);
    assert_eq!(v["tools"][0]["function"]["name"], "shell");
    assert_eq!(
        v["tool_choice"],
        json!({"type": "function", "function": {"name": "shell"}})
    );
    assert_eq!(v["parallel_tool_calls"], true);
}

#[test]
fn a_chat_answer_becomes_output_items_and_usage() {
    let chat: ChatCompletionResponse = serde_json::from_value(json!({
        "id": "chatcmpl-1", "created": 7, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "let me see", "reasoning_content": "hmm",
            "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                  "prompt_tokens_details": {"cached_tokens": 4},
                  "completion_tokens_details": {"reasoning_tokens": 2}},
    }))
    .unwrap();
    let r = answer::from_chat(&req(json!({"model": "m", "input": "x"})), chat);
    let v = serde_json::to_value(&r).unwrap();
    assert!(r.id.starts_with("resp_"));
    assert_eq!(v["status"], "completed");
    let kinds: Vec<_> = r
        .output
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
    assert_eq!(r.output[1]["content"][0]["text"], "let me see");
    assert_eq!(r.output[2]["call_id"], "call_9");
    assert_eq!(v["usage"]["input_tokens"], 10);
    assert_eq!(v["usage"]["output_tokens"], 5);
    assert_eq!(v["usage"]["total_tokens"], 15);
    assert_eq!(v["usage"]["input_tokens_details"]["cached_tokens"], 4);
    assert_eq!(v["usage"]["output_tokens_details"]["reasoning_tokens"], 2);
    assert_eq!(r.chat_usage.as_ref().unwrap().prompt_tokens, 10);
    assert_eq!(v["tool_choice"], "auto");
}

fn chunk(delta: Delta, finish: Option<&str>) -> ChatCompletionChunk {
    ChatCompletionChunk::single("c", 1, "m", delta, finish)
}

#[test]
fn a_chat_stream_becomes_responses_events_in_order() {
    let mut b = Bridge::new(&req(json!({"model": "m", "input": "x", "stream": true})));
    let mut events = b.start();
    events.extend(b.chunk(chunk(
        Delta {
            reasoning_content: Some("hm".into()),
            ..Default::default()
        },
        None,
    )));
    events.extend(b.chunk(chunk(
        Delta {
            content: Some("Hel".into()),
            ..Default::default()
        },
        None,
    )));
    events.extend(b.chunk(chunk(
        Delta {
            content: Some("lo".into()),
            ..Default::default()
        },
        None,
    )));
    let call = |id: Option<&str>, name: Option<&str>, args: &str| Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index: 0,
            id: id.map(str::to_string),
            kind: None,
            function: Some(FunctionCallDelta {
                name: name.map(str::to_string),
                arguments: Some(args.into()),
            }),
            extra: Default::default(),
        }]),
        ..Default::default()
    };
    events.extend(b.chunk(chunk(call(Some("call_1"), Some("f"), "{\"a\""), None)));
    events.extend(b.chunk(chunk(call(None, None, ":1}"), Some("tool_calls"))));
    let usage = ChatCompletionChunk {
        usage: Some(Usage::new(3, 4)),
        ..Default::default()
    };
    events.extend(b.chunk(usage));
    events.extend(b.finish());
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let seq: Vec<u64> = events.iter().map(|e| e.sequence_number).collect();
    assert_eq!(seq, (0..events.len() as u64).collect::<Vec<_>>());
    let done = events.last().unwrap().response.as_ref().unwrap();
    assert_eq!(done.output.len(), 3);
    assert_eq!(done.output[1]["content"][0]["text"], "Hello");
    assert_eq!(done.output[2]["arguments"], "{\"a\":1}");
    assert_eq!(done.output[2]["call_id"], "call_1");
    assert_eq!(done.usage.as_ref().unwrap().output_tokens, 4);
    assert_eq!(done.status, "completed");
    let created = events[0].response.as_ref().unwrap();
    assert_eq!(created.id, done.id);
}

#[test]
fn a_stream_cut_by_max_tokens_is_incomplete_and_a_failure_is_failed() {
    let mut b = Bridge::new(&req(json!({"model": "m", "input": "x"})));
    b.start();
    b.chunk(chunk(
        Delta {
            content: Some("a".into()),
            ..Default::default()
        },
        Some("length"),
    ));
    let end = b.finish();
    assert_eq!(end.last().unwrap().kind, "response.incomplete");
    let mut b = Bridge::new(&req(json!({"model": "m", "input": "x"})));
    b.start();
    let f = b.failed(&crate::LlmError::bad_request("boom"));
    assert_eq!(f[0].kind, "response.failed");
    assert_eq!(
        f[0].response.as_ref().unwrap().extra["error"]["message"],
        "boom"
    );
}

#[test]
fn signed_thinking_travels_in_encrypted_content_and_comes_back() {
    let chat: ChatCompletionResponse = serde_json::from_value(json!({
        "id": "c", "created": 1, "model": "claude",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null, "reasoning_content": "plan",
            "thinking_blocks": [{"type": "thinking", "thinking": "plan", "signature": "sig1"}],
            "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
    }))
    .unwrap();
    let r = answer::from_chat(&req(json!({"model": "m", "input": "x"})), chat);
    let enc = r.output[0]["encrypted_content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        answer::decode_thinking(&enc).unwrap(),
        vec![json!({"type": "thinking", "thinking": "plan", "signature": "sig1"})]
    );
    // The next turn: reasoning item, function call, its output.
    let mut input = r.output.clone();
    input.push(json!({"type": "function_call_output", "call_id": "toolu_1", "output": "ok"}));
    let c = request::to_chat(&req(json!({"model": "m", "input": input}))).unwrap();
    let v = serde_json::to_value(&c).unwrap();
    let a = &v["messages"][0];
    assert_eq!(a["role"], "assistant");
    assert_eq!(a["thinking_blocks"][0]["signature"], "sig1");
    assert_eq!(a["reasoning_content"], "plan");
    assert_eq!(a["tool_calls"][0]["id"], "toolu_1");
    // Someone else's encrypted reasoning (OpenAI's) is not a thinking block.
    assert!(answer::decode_thinking("gAAAAABo-opaque").is_none());
}

#[test]
fn streamed_thinking_signatures_reach_the_reasoning_item() {
    let mut b = Bridge::new(&req(json!({"model": "m", "input": "x"})));
    b.start();
    let think = |text: Option<&str>, block: serde_json::Value| {
        let mut d = Delta {
            reasoning_content: text.map(str::to_string),
            ..Default::default()
        };
        d.extra.insert("thinking_blocks".into(), json!([block]));
        chunk(d, None)
    };
    b.chunk(think(
        Some("a"),
        json!({"type": "thinking", "thinking": "a", "index": 0}),
    ));
    b.chunk(think(
        Some("b"),
        json!({"type": "thinking", "thinking": "b", "index": 0}),
    ));
    b.chunk(think(
        None,
        json!({"type": "thinking", "thinking": "", "signature": "S", "index": 0}),
    ));
    b.chunk(chunk(
        Delta {
            content: Some("hi".into()),
            ..Default::default()
        },
        Some("stop"),
    ));
    let end = b.finish();
    let done = end.last().unwrap().response.as_ref().unwrap();
    assert_eq!(done.output[0]["summary"][0]["text"], "ab");
    let blocks =
        answer::decode_thinking(done.output[0]["encrypted_content"].as_str().unwrap()).unwrap();
    assert_eq!(
        blocks,
        vec![json!({"type": "thinking", "thinking": "ab", "signature": "S"})]
    );
}

#[test]
fn a_tool_choice_without_function_tools_is_left_out() {
    let c = request::to_chat(&req(json!({
        "model": "m", "input": "x", "tools": [{"type": "web_search"}], "tool_choice": "required",
        "parallel_tool_calls": true,
    })))
    .unwrap();
    assert!(c.tools.is_none() && c.tool_choice.is_none() && c.parallel_tool_calls.is_none());
    let c = request::to_chat(&req(json!({
        "model": "m", "input": "x",
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        "tool_choice": {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "f"}]},
    })))
    .unwrap();
    assert_eq!(c.tool_choice, Some(json!("required")));
}
