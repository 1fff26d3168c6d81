//! Built-in strategies on a multi-symbol session, through the SDK against the real daemon:
//! every symbol is traded, each with an equal share of the account (`docs/strategies.md`,
//! "Several symbols"), and the results are the same on every run.

use rust_decimal::Decimal;
use shared_models::results::SimulationResults;
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::TestDaemon;

async fn run_builtin(c: &Client, name: &str, params: &[(&str, &str)]) -> SimulationResults {
    let request = SessionRequestBuilder::new(["ACME", "GLOBEX"], "2015-01-01", "2019-12-31")
        .commission_rate(Decimal::new(1, 3))
        .build();
    let session = c.create_session(request).await.unwrap();
    let spec = StrategySpec {
        name: name.into(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let mut strategy = build_strategy(&spec).unwrap();
    c.run_simulation(
        &session.session_id,
        strategy.as_mut(),
        RunOptions::default(),
    )
    .await
    .unwrap()
}

fn traded_symbols(r: &SimulationResults) -> Vec<String> {
    let mut symbols: Vec<String> = r
        .trades
        .iter()
        .map(|t| t.symbol.to_string())
        .chain(r.open_positions.iter().map(|p| p.symbol.clone()))
        .collect();
    symbols.sort();
    symbols.dedup();
    symbols
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_ins_trade_every_symbol_with_an_equal_share() {
    let d = TestDaemon::start_with(|c| c.limits.max_sessions_per_user = 20)
        .await
        .unwrap();
    let key = d.add_key("alice").unwrap();
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();

    // Buy and hold: both symbols bought at the first bar, half of the capital each.
    let hold = run_builtin(&c, "buy-and-hold", &[]).await;
    assert_eq!(traded_symbols(&hold), ["ACME", "GLOBEX"]);
    let values: Vec<Decimal> = hold
        .open_positions
        .iter()
        .map(|p| p.quantity * p.avg_price)
        .collect();
    assert_eq!(values.len(), 2, "{:?}", hold.open_positions);
    let capital = Decimal::from(100_000);
    for v in &values {
        // Half of the capital, less the commission and the last unit's rounding.
        let share = *v / capital;
        assert!(
            share > Decimal::new(49, 2) && share <= Decimal::new(50, 2),
            "{values:?}"
        );
    }

    for (name, params) in [
        ("sma-cross", &[("fast", "5"), ("slow", "15")][..]),
        ("rsi-reversion", &[("period", "5"), ("lower", "35")][..]),
    ] {
        let first = run_builtin(&c, name, params).await;
        assert_eq!(traded_symbols(&first), ["ACME", "GLOBEX"], "{name}");
        let again = run_builtin(&c, name, params).await;
        assert_eq!(
            serde_json::to_string(&first).unwrap(),
            serde_json::to_string(&again).unwrap(),
            "{name} is deterministic"
        );
    }
    d.stop().await.unwrap();
}
