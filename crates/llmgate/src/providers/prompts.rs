//! LiteLLM's prompt templates for text-generation APIs that take one prompt string (watsonx's
//! `/text/generation`, SageMaker's TGI containers): `custom_prompt` and the role tables built
//! on it, byte for byte as `prompt_templates/factory.py` writes them.

use llmgate_types::ChatMessage;

/// What goes before and after one role's message.
#[derive(Clone, Copy, Default)]
pub struct Wrap {
    pub pre: &'static str,
    pub post: &'static str,
}

/// `custom_prompt`: each message wrapped by its role; `bos` opens the prompt and every
/// system/human turn after an assistant one, `eos` closes each assistant turn.
pub fn custom(
    messages: &[ChatMessage],
    roles: &dyn Fn(&str) -> Wrap,
    initial: &str,
    fin: &str,
    bos: &str,
    eos: &str,
) -> String {
    let mut prompt = format!("{bos}{initial}");
    let mut bos_open = true;
    for m in messages {
        let role = m.role.as_str();
        if matches!(role, "system" | "human") && !bos_open {
            prompt.push_str(bos);
            bos_open = true;
        }
        let w = roles(role);
        prompt.push_str(w.pre);
        prompt.push_str(&m.text_content());
        prompt.push_str(w.post);
        if role == "assistant" {
            prompt.push_str(eos);
            bos_open = false;
        }
    }
    prompt.push_str(fin);
    prompt
}

/// `default_pt`: the contents joined by spaces.
pub fn default(messages: &[ChatMessage]) -> String {
    messages
        .iter()
        .map(ChatMessage::text_content)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `llama_2_chat_pt`.
pub fn llama2_chat(messages: &[ChatMessage]) -> String {
    let roles = |r: &str| match r {
        "system" => Wrap {
            pre: "[INST] <<SYS>>\n",
            post: "\n<</SYS>>\n [/INST]\n",
        },
        "user" => Wrap {
            pre: "[INST] ",
            post: " [/INST]\n",
        },
        "assistant" => Wrap {
            pre: "",
            post: "\n",
        },
        _ => Wrap::default(),
    };
    custom(messages, &roles, "", "", "<s>", "</s>")
}

/// `mistral_instruct_pt`.
pub fn mistral_instruct(messages: &[ChatMessage]) -> String {
    let roles = |r: &str| match r {
        "system" => Wrap {
            pre: "[INST] \n",
            post: " [/INST]\n",
        },
        "user" => Wrap {
            pre: "[INST] ",
            post: " [/INST]\n",
        },
        "assistant" => Wrap {
            pre: " ",
            post: "</s> ",
        },
        _ => Wrap::default(),
    };
    custom(messages, &roles, "<s>", "", "", "")
}

/// `ibm_granite_pt` (stripped, as LiteLLM returns it).
pub fn granite(messages: &[ChatMessage]) -> String {
    let roles = |r: &str| match r {
        "system" => Wrap {
            pre: "<|system|>\n",
            post: "\n",
        },
        "user" => Wrap {
            pre: "<|user|>\n",
            post: "\n<|assistant|>\n",
        },
        "assistant" => Wrap {
            pre: "",
            post: "\n",
        },
        _ => Wrap::default(),
    };
    custom(messages, &roles, "", "", "", "").trim().to_string()
}

/// The Llama 3 instruct template LiteLLM applies on watsonx.
pub fn llama3_instruct(messages: &[ChatMessage]) -> String {
    let roles = |r: &str| match r {
        "system" => Wrap {
            pre: "<|start_header_id|>system<|end_header_id|>\n",
            post: "<|eot_id|>",
        },
        "user" => Wrap {
            pre: "<|start_header_id|>user<|end_header_id|>\n",
            post: "<|eot_id|>",
        },
        "assistant" => Wrap {
            pre: "<|start_header_id|>assistant<|end_header_id|>\n",
            post: "<|eot_id|>",
        },
        _ => Wrap::default(),
    };
    custom(
        messages,
        &roles,
        "<|begin_of_text|>",
        "<|start_header_id|>assistant<|end_header_id|>\n",
        "",
        "",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv() -> Vec<ChatMessage> {
        vec![
            ChatMessage::text("system", "Be brief."),
            ChatMessage::text("user", "Hi"),
            ChatMessage::text("assistant", "Hello"),
            ChatMessage::text("user", "Bye"),
        ]
    }

    #[test]
    fn templates_match_litellm() {
        assert_eq!(default(&conv()), "Be brief. Hi Hello Bye");
        assert_eq!(
            llama2_chat(&conv()),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n [/INST]\n[INST] Hi [/INST]\nHello\n</s>[INST] Bye [/INST]\n"
        );
        assert_eq!(
            granite(&conv()),
            "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\nHello\n<|user|>\nBye\n<|assistant|>"
        );
        assert_eq!(
            mistral_instruct(&conv()),
            "<s>[INST] \nBe brief. [/INST]\n[INST] Hi [/INST]\n Hello</s> [INST] Bye [/INST]\n"
        );
        assert!(llama3_instruct(&conv()).starts_with(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\nBe brief.<|eot_id|>"
        ));
    }
}
