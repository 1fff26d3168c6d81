//! Create, list and delete a session with the SDK.
//!
//! ```sh
//! simutrador-server serve &                      # the daemon, with its built-in demo data
//! export SIMUTRADOR_API_KEY=$(cat ~/.local/state/simutrador/local.key)
//! cargo run -p simutrador-client --example sessions -- [ws://127.0.0.1:8003]
//! ```

use rust_decimal::Decimal;
use simutrador_client::shared_models::Timeframe;
use simutrador_client::shared_models::messages::client::{ListSessions, ListSymbols};
use simutrador_client::{Client, ClientError, SessionRequestBuilder};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(if err.error_code().is_some() { 1 } else { 2 })
        }
    }
}

async fn run() -> Result<(), ClientError> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| simutrador_client::DEFAULT_URL.into());
    let api_key = std::env::var("SIMUTRADOR_API_KEY").map_err(|_| {
        ClientError::Config("set SIMUTRADOR_API_KEY (see `simutrador-server keys add`)".into())
    })?;
    let client = Client::connect_with_api_key(&url, &api_key).await?;
    let me = client.connection_info();
    println!(
        "connected as {} (plan {}) to server {}",
        me.user_id, me.plan, me.server_version
    );

    // Pick the first symbol that has daily bars, and its last year of data.
    let filter = ListSymbols {
        timeframe: Some("1d".into()),
        ..ListSymbols::default()
    };
    let symbols = client.list_symbols(filter).await?.symbols;
    let Some(symbol) = symbols.first() else {
        return Err(ClientError::Config("the daemon has no daily data".into()));
    };
    let range = client
        .symbol_range(&symbol.symbol, Some(Timeframe::D1))
        .await?;
    let end = range.last.date_naive();
    let start = (range.last - chrono::Duration::days(365))
        .date_naive()
        .max(range.first.date_naive());

    let request =
        SessionRequestBuilder::new([symbol.symbol.as_str()], start.to_string(), end.to_string())
            .timeframe(Timeframe::D1)
            .capital(Decimal::from(50_000))
            .commission_rate(Decimal::new(1, 3)) // 0.1 %
            .metadata("created_by", "examples/sessions.rs")
            .build();

    let preview = client.validate_session(request.clone()).await?;
    println!(
        "preview: {} bars of {:?}",
        preview.bar_count, preview.params.symbols
    );

    // Requests can run concurrently on the one connection.
    let (created, pong) = tokio::join!(client.create_session(request), client.ping());
    let session = created?;
    println!(
        "created {} ({}), server time {}",
        session.session_id, session.state, pong?
    );

    let page = client.list_sessions(ListSessions::default()).await?;
    println!("you have {} session(s):", page.total);
    for s in &page.sessions {
        println!(
            "  {}  {}  {}",
            s.session_id,
            s.state,
            s.params.symbols.join(",")
        );
    }

    let deleted = client.delete_session(&session.session_id).await?;
    println!("deleted {deleted}");
    client.close().await;
    Ok(())
}
