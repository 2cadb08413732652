//! Spend reporting: `/spend/logs` and `/global/spend` (admin only).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::spend::SpendFilter;
use serde::Deserialize;
use serde_json::{json, Value};

use super::keys::{admin_store, db, run};
use crate::auth::{hash_key, AuthContext};
use crate::error::GatewayError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LogsQuery {
    api_key: Option<String>,
    user_id: Option<String>,
    request_id: Option<String>,
    team_id: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

use llmgate_store::time::day_ms;

pub async fn logs(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<LogsQuery>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/spend/logs")?;
        let date = |s: &Option<String>, end: bool| -> Result<Option<i64>, GatewayError> {
            s.as_ref()
                .map(|d| {
                    day_ms(d)
                        .map(|ms| if end { ms + 86_400_000 - 1 } else { ms })
                        .ok_or_else(|| {
                            GatewayError::BadRequest(format!("invalid date '{d}': use YYYY-MM-DD"))
                        })
                })
                .transpose()
        };
        let filter = SpendFilter {
            api_key: q.api_key.map(|k| {
                if k.starts_with("sk-") {
                    hash_key(&k)
                } else {
                    k
                }
            }),
            user: q.user_id,
            request_id: q.request_id,
            team_id: q.team_id,
            start_ms: date(&q.start_date, false)?,
            end_ms: date(&q.end_date, true)?,
        };
        let logs = store.spend_logs(&filter, 10_000).await.map_err(db)?;
        let out: Vec<Value> = logs
            .iter()
            .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
            .collect();
        Ok(Json(out).into_response())
    })
    .await
}

pub async fn global(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/global/spend")?;
        let spend = store.total_spend().await.map_err(db)?;
        Ok(Json(json!({"spend": spend, "max_budget": null})).into_response())
    })
    .await
}
