//! watsonx.ai transcriptions as LiteLLM's `IBMWatsonXAudioTranscriptionConfig` sends them:
//! OpenAI's form to `{base}/ml/v1/audio/transcriptions?version=` with the call's
//! `Authorization`, `model` and `project_id` as fields beside the file, and only OpenAI's
//! `language`, `prompt`, `response_format`, `temperature` and `timestamp_granularities` of the
//! client's fields (LiteLLM forwards no other). The answer is OpenAI's, passed on as it is.

use crate::media::Form;

/// The transcription params LiteLLM forwards to watsonx.
const FIELDS: &[&str] = &[
    "language",
    "prompt",
    "response_format",
    "temperature",
    "timestamp_granularities",
    "timestamp_granularities[]",
];

/// The form watsonx gets: `model`, `project_id` (empty when the deployment names only a
/// space, as LiteLLM sends it), then the OpenAI fields it takes.
pub fn form(form: &mut Form, model: &str, project_id: Option<&str>) {
    form.fields.retain(|(k, _)| FIELDS.contains(&k.as_str()));
    form.fields.insert(0, ("model".into(), model.into()));
    form.fields
        .insert(1, ("project_id".into(), project_id.unwrap_or("").into()));
    // A single file, in `file`.
    form.files.retain(|f| f.name == "file");
    form.files.truncate(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_litellms_fields_go() {
        let mut f = Form {
            fields: vec![
                ("model".into(), "group".into()),
                ("language".into(), "en".into()),
                ("diarize".into(), "true".into()),
                ("timestamp_granularities[]".into(), "word".into()),
            ],
            files: vec![],
        };
        form(&mut f, "openai/whisper-tiny", Some("p1"));
        let got: Vec<_> = f
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("model", "openai/whisper-tiny"),
                ("project_id", "p1"),
                ("language", "en"),
                ("timestamp_granularities[]", "word")
            ]
        );
    }
}
