//! Reading a session does not keep it alive: `get_session`, `get_results`,
//! `compare_sessions`, `get_history_stats`, `get_session_events` and a watch's
//! `subscribe_session` leave its idle timer (and `updated_at`) where they were, so a `created`
//! or `paused` session nobody drives still expires after `session_timeout_minutes`; a request
//! that changes it (`update_session`) is use and restarts the timer
//! (docs/session-lifecycle.md).

use serde_json::json;
use simutrador_e2e::TestDaemon;

use crate::support::{Raw, create_data, login};

#[tokio::test]
async fn reads_leave_the_idle_timer_alone_and_an_update_restarts_it() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "ida").await).await;
    let created = raw.request("create_session", create_data("ACME")).await;
    let id = created["data"]["session_id"].as_str().unwrap().to_string();
    let updated_at = created["data"]["updated_at"].clone();
    let session = json!({ "session_id": id });

    let reads = [
        ("get_session", session.clone()),
        ("get_results", session.clone()),
        ("compare_sessions", json!({ "session_ids": [id] })),
        ("get_history_stats", json!({})),
        ("get_session_events", session.clone()),
        ("subscribe_session", session.clone()),
        ("unsubscribe_session", session.clone()),
        ("list_sessions", json!({})),
    ];
    for (kind, data) in reads {
        raw.request(kind, data).await;
    }
    let now = raw.request("get_session", session.clone()).await;
    assert_eq!(now["data"]["state"], "created", "{now}");
    assert_eq!(
        now["data"]["updated_at"], updated_at,
        "a read is not use: {now}"
    );

    let update = json!({ "session_id": id, "metadata": { "note": "changed" } });
    let reply = raw.request("update_session", update).await;
    assert_eq!(reply["type"], "session_updated", "{reply}");
    let now = raw.request("get_session", session).await;
    assert_ne!(now["data"]["updated_at"], updated_at, "an update is use");
}
