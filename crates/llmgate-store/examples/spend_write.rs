//! Micro-benchmark of the spend writer on the embedded SQLite:
//! `cargo run --release -p llmgate-store --example spend_write [rows]`.
use llmgate_store::spend::SpendLog;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let path = std::env::temp_dir().join(format!("llmgate-spend-bench-{}.db", std::process::id()));
    let store = llmgate_store::Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    let now = llmgate_store::now_ms();
    let logs: Vec<SpendLog> = (0..n)
        .map(|i| SpendLog {
            request_id: format!("bench-{i}"),
            call_type: "acompletion".into(),
            api_key: "bench-key".into(),
            spend: 7.5e-5,
            total_tokens: 15,
            prompt_tokens: 10,
            completion_tokens: 5,
            start_time: now,
            end_time: now,
            model: "gpt-4o".into(),
            model_group: Some("bench".into()),
            custom_llm_provider: Some("openai".into()),
            request_tags: serde_json::json!([]),
            metadata: Default::default(),
            status: Some("success".into()),
            endpoint: Some("/chat/completions".into()),
            ..Default::default()
        })
        .collect();
    let t = std::time::Instant::now();
    // Batches of 2 000, as ~10 s of traffic at 200 req/s arrive.
    for batch in logs.chunks(2_000) {
        store.write_spend(batch).await.expect("write");
    }
    let e = t.elapsed();
    println!(
        "{n} spend logs in {e:?}: {:.1} µs per row",
        e.as_micros() as f64 / n as f64
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
