//! The store against a real SQLite file and the PostgreSQL server on this machine.

use llmgate_store::keys::{KeyFilter, KeyRow};
use llmgate_store::spend::{SpendFilter, SpendLog};
use llmgate_store::{now_ms, Store};
use serde_json::json;

/// A fresh database of each kind. PostgreSQL: `LLMGATE_TEST_PG` (default the local server).
async fn stores() -> Vec<Store> {
    let dir =
        std::env::temp_dir().join(format!("llmgate-store-{}-{}", std::process::id(), now_ms()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .unwrap();
    let pg_base = std::env::var("LLMGATE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let admin = Store::connect(&format!("{pg_base}/postgres"))
        .await
        .expect("PostgreSQL is running");
    let name = format!("llmgate_t_{}_{}", std::process::id(), now_ms());
    if let llmgate_store::Db::Postgres(p) = &admin.db {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(p)
            .await
            .unwrap();
    }
    let pg = Store::connect(&format!("{pg_base}/{name}")).await.unwrap();
    vec![sqlite, pg]
}

/// Drops the PostgreSQL databases this test process created.
async fn cleanup(stores: Vec<Store>) {
    drop(stores);
    let pg_base = std::env::var("LLMGATE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let Ok(Store {
        db: llmgate_store::Db::Postgres(admin),
        ..
    }) = Store::connect(&format!("{pg_base}/postgres")).await
    else {
        return;
    };
    let pattern = format!("llmgate_t_{}_%", std::process::id());
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(pattern)
            .fetch_all(&admin)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await;
    }
}

fn key(token: &str) -> KeyRow {
    KeyRow {
        token: token.into(),
        key_name: Some("sk-...abcd".into()),
        key_alias: Some("alias".into()),
        models: vec!["gpt-4o".into()],
        metadata: json!({"team": "x"}),
        max_budget: Some(1.5),
        user_id: Some("u1".into()),
        expires: Some(now_ms() + 3_600_000),
        created_at: Some(now_ms()),
        ..Default::default()
    }
}

#[tokio::test]
async fn keys_round_trip_on_both_databases() {
    let all = stores().await;
    for store in all.clone() {
        store.migrate().await.unwrap();
        // Migrating twice changes nothing.
        store.migrate().await.unwrap();
        let k = key("hash-1");
        store.insert_key(&k).await.unwrap();
        let got = store.get_key("hash-1").await.unwrap().unwrap();
        assert_eq!(got.models, vec!["gpt-4o"], "{}", store.kind());
        assert_eq!(got.metadata, json!({"team": "x"}));
        assert_eq!(got.max_budget, Some(1.5));
        assert!(
            (got.expires.unwrap() - k.expires.unwrap()).abs() <= 1,
            "{} {:?}",
            store.kind(),
            got.expires
        );
        assert_eq!(got.spend, 0.0);

        let mut changed = got.clone();
        changed.blocked = Some(true);
        changed.models = vec![];
        assert!(store.update_key(&changed).await.unwrap());
        let got = store.get_key("hash-1").await.unwrap().unwrap();
        assert_eq!(got.blocked, Some(true));
        assert!(got.models.is_empty());

        store
            .insert_key(&KeyRow {
                user_id: Some("u2".into()),
                ..key("hash-2")
            })
            .await
            .unwrap();
        let (page, total) = store
            .list_keys(
                &KeyFilter {
                    user_id: Some("u2".into()),
                    ..Default::default()
                },
                1,
                10,
            )
            .await
            .unwrap();
        assert_eq!((page.len(), total), (1, 1));
        let (_, total) = store.list_keys(&KeyFilter::default(), 1, 1).await.unwrap();
        assert_eq!(total, 2);

        assert!(store.delete_key("hash-2").await.unwrap());
        assert!(store.get_key("hash-2").await.unwrap().is_none());
        assert!(store.get_key("nope").await.unwrap().is_none());
    }
    cleanup(all).await;
}

#[tokio::test]
async fn spend_batches_are_idempotent_on_request_id() {
    let all = stores().await;
    for store in all.clone() {
        store.migrate().await.unwrap();
        store.insert_key(&key("hash-s")).await.unwrap();
        let log = |id: &str, spend: f64| SpendLog {
            request_id: id.into(),
            call_type: "acompletion".into(),
            api_key: "hash-s".into(),
            spend,
            total_tokens: 15,
            prompt_tokens: 10,
            completion_tokens: 5,
            start_time: now_ms(),
            end_time: now_ms(),
            model: "gpt-4o".into(),
            status: Some("success".into()),
            request_tags: json!(["a"]),
            ..Default::default()
        };
        let batch = vec![log("r1", 0.25), log("r2", 0.5)];
        assert_eq!(store.write_spend(&batch).await.unwrap(), 2);
        // The same batch again (a retry) adds nothing.
        assert_eq!(store.write_spend(&batch).await.unwrap(), 0);
        assert_eq!(store.write_spend(&[log("r3", 0.125)]).await.unwrap(), 1);
        let k = store.get_key("hash-s").await.unwrap().unwrap();
        assert!(
            (k.spend - 0.875).abs() < 1e-12,
            "{} {}",
            store.kind(),
            k.spend
        );
        let logs = store
            .spend_logs(
                &SpendFilter {
                    api_key: Some("hash-s".into()),
                    ..Default::default()
                },
                100,
            )
            .await
            .unwrap();
        assert_eq!(logs.len(), 3);
        assert_eq!(logs[0].request_tags, json!(["a"]));
    }
    cleanup(all).await;
}

/// Logs keyed by the answer's id: an upstream that repeats ids (in one batch or across batches)
/// loses no call, and writing a batch again still adds nothing.
#[tokio::test]
async fn repeated_answer_ids_are_rekeyed_by_call_id() {
    let all = stores().await;
    for store in all.clone() {
        store.migrate().await.unwrap();
        store.insert_key(&key("hash-c")).await.unwrap();
        let log = |call: &str| SpendLog {
            request_id: "chatcmpl-same".into(),
            litellm_call_id: Some(call.into()),
            api_key: "hash-c".into(),
            spend: 0.25,
            ..spend_log("unused", 0.0)
        };
        let first = vec![log("call-1"), log("call-2")];
        assert_eq!(
            store.write_spend(&first).await.unwrap(),
            2,
            "{}",
            store.kind()
        );
        assert_eq!(
            store.write_spend(&first).await.unwrap(),
            0,
            "{}",
            store.kind()
        );
        assert_eq!(store.write_spend(&[log("call-3")]).await.unwrap(), 1);
        assert_eq!(store.write_spend(&[log("call-3")]).await.unwrap(), 0);
        let k = store.get_key("hash-c").await.unwrap().unwrap();
        assert!(
            (k.spend - 0.75).abs() < 1e-12,
            "{} {}",
            store.kind(),
            k.spend
        );
        let filter = SpendFilter {
            api_key: Some("hash-c".into()),
            ..Default::default()
        };
        let mut ids: Vec<String> = store
            .spend_logs(&filter, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.request_id)
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            ["call-2", "call-3", "chatcmpl-same"],
            "{}",
            store.kind()
        );
    }
    cleanup(all).await;
}

/// Text no compression shrinks below an index entry's limit (as a hostile client would send).
fn noise(len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(len);
    s
}

fn spend_log(id: &str, spend: f64) -> SpendLog {
    SpendLog {
        request_id: id.into(),
        call_type: "acompletion".into(),
        api_key: "hash-b".into(),
        spend,
        start_time: now_ms(),
        end_time: now_ms(),
        model: "gpt-4o".into(),
        status: Some("success".into()),
        ..Default::default()
    }
}

async fn sql(store: &Store, statement: &str) {
    match &store.db {
        llmgate_store::Db::Postgres(p) => sqlx::query(statement).execute(p).await.map(|_| ()),
        llmgate_store::Db::Sqlite(p) => sqlx::query(statement).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

#[tokio::test]
async fn oversized_and_nul_values_are_bounded_on_both_databases() {
    let all = stores().await;
    for store in all.clone() {
        store.migrate().await.unwrap();
        store.insert_key(&key("hash-b")).await.unwrap();
        let long_tag = noise(2000);
        let logs = vec![
            SpendLog {
                end_user: Some(noise(12_000)),
                user: Some(noise(12_000)),
                user_id: Some("u1".into()),
                request_tags: json!([long_tag, "t\u{0}ag"]),
                metadata:
                    json!({"error_information": {"error_message": "up\u{0}stream"}, "k\u{0}": 1})
                        .into(),
                ..spend_log("big", 0.5)
            },
            SpendLog {
                model: "gpt\u{0}-4o".into(),
                end_user: Some("nul\u{0}user".into()),
                endpoint: Some(noise(5000)),
                ..spend_log("nul", 0.25)
            },
        ];
        assert_eq!(
            store.write_spend(&logs).await.unwrap(),
            2,
            "{}",
            store.kind()
        );
        let read = store
            .spend_logs(
                &SpendFilter {
                    api_key: Some("hash-b".into()),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        let big = read.iter().find(|l| l.request_id == "big").unwrap();
        assert_eq!(big.end_user.as_ref().unwrap().len(), 1000);
        assert_eq!(big.user.as_ref().unwrap().len(), 1000);
        assert_eq!(big.request_tags, json!([&long_tag[..1000], "tag"]));
        assert_eq!(
            big.metadata.to_value(),
            json!({"error_information": {"error_message": "upstream"}, "k": 1})
        );
        let nul = read.iter().find(|l| l.request_id == "nul").unwrap();
        assert_eq!(nul.model, "gpt-4o");
        assert_eq!(nul.end_user.as_deref(), Some("nuluser"));
        // The totals and roll-ups were written with the bounded values too.
        assert!((store.get_key("hash-b").await.unwrap().unwrap().spend - 0.75).abs() < 1e-12);
    }
    cleanup(all).await;
}

#[tokio::test]
async fn a_refused_log_is_isolated_and_the_rest_of_its_batch_written() {
    let all = stores().await;
    for store in all.clone() {
        store.migrate().await.unwrap();
        store.insert_key(&key("hash-b")).await.unwrap();
        // A row no bounding can save: the database refuses the model name.
        match store.db {
            llmgate_store::Db::Postgres(_) => {
                sql(
                    &store,
                    r#"ALTER TABLE "LiteLLM_SpendLogs" ADD CONSTRAINT refuse CHECK ("model" <> 'refused')"#,
                )
                .await
            }
            llmgate_store::Db::Sqlite(_) => {
                sql(
                    &store,
                    r#"CREATE TRIGGER refuse BEFORE INSERT ON "LiteLLM_SpendLogs" WHEN NEW."model" = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END"#,
                )
                .await
            }
        }
        let logs: Vec<SpendLog> = (0..10)
            .map(|i| SpendLog {
                model: if i == 3 || i == 7 {
                    "refused"
                } else {
                    "gpt-4o"
                }
                .into(),
                ..spend_log(&format!("r{i}"), 0.125)
            })
            .collect();
        let whole = store.write_spend(&logs).await.unwrap_err();
        assert!(whole.is_refusal(), "{}: {whole}", store.kind());
        let (new, refused) = store.write_spend_isolating(&logs).await.unwrap();
        assert_eq!(new, 8, "{}", store.kind());
        let ids: Vec<&str> = refused.iter().map(|r| r.log.request_id.as_str()).collect();
        assert_eq!(ids, ["r3", "r7"]);
        assert!(refused.iter().all(|r| r.error.is_refusal()));
        let spend = store.get_key("hash-b").await.unwrap().unwrap().spend;
        assert!((spend - 1.0).abs() < 1e-12, "{}: {spend}", store.kind());
        // Again (a retry): nothing new, nothing counted twice.
        assert_eq!(store.write_spend_isolating(&logs).await.unwrap().0, 0);
        // A database that cannot be reached is no refusal: the batch stays whole.
        match &store.db {
            llmgate_store::Db::Postgres(p) => p.close().await,
            llmgate_store::Db::Sqlite(p) => p.close().await,
        }
        let down = store.write_spend_isolating(&logs[..1]).await.unwrap_err();
        assert!(!down.is_refusal(), "{down}");
    }
    cleanup(all).await;
}
