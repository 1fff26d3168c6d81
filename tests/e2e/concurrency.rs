//! Many clients at once: no lost or duplicated session, limits hold under contention.

use crate::support::{Raw, create_data, login};
use serde_json::json;
use shared_models::AssetClass;
use simutrador_e2e::{TestDaemon, demo_symbol};
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_clients_create_sessions_without_loss_or_duplicates() {
    let d = TestDaemon::start_with(|c| c.limits.max_sessions_per_user = 1_000)
        .await
        .unwrap();
    let token = login(&d, "alice").await;
    let acme = demo_symbol(AssetClass::Equity);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (token, acme, addr) = (token.clone(), acme.clone(), d.addr());
        tasks.push(tokio::spawn(async move {
            let mut raw = Raw::connect_addr(addr, &token).await;
            let mut ids = Vec::new();
            for _ in 0..5 {
                let r = raw.request("create_session", create_data(&acme)).await;
                assert_eq!(r["type"], "session_created", "{r}");
                ids.push(r["data"]["session_id"].as_str().unwrap().to_string());
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 500);
    assert_eq!(unique.len(), 500, "no duplicated id");

    let mut raw = Raw::connect(&d, &token).await;
    let mut listed = HashSet::new();
    let mut offset = 0;
    loop {
        let page = raw
            .request("list_sessions", json!({"limit": 500, "offset": offset}))
            .await;
        assert_eq!(page["data"]["total"], 500);
        for s in page["data"]["sessions"].as_array().unwrap() {
            listed.insert(s["session_id"].as_str().unwrap().to_string());
        }
        offset += 500;
        if page["data"]["has_more"] == false {
            break;
        }
    }
    assert_eq!(
        listed, unique,
        "every created session is listed exactly once"
    );
    d.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_limit_holds_under_contention() {
    let d = TestDaemon::start_with(|c| c.limits.max_sessions_per_user = 50)
        .await
        .unwrap();
    let token = login(&d, "alice").await;
    let acme = demo_symbol(AssetClass::Equity);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (token, acme, addr) = (token.clone(), acme.clone(), d.addr());
        tasks.push(tokio::spawn(async move {
            let mut raw = Raw::connect_addr(addr, &token).await;
            let r = raw.request("create_session", create_data(&acme)).await;
            r["type"] == "session_created"
        }));
    }
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap());
    }
    assert_eq!(created, 50);
    d.stop().await.unwrap();
}
