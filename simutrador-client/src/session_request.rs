//! Building `create_session` requests: [`SessionRequestBuilder`] for Rust programs, and
//! session files (TOML with exactly the keys of `create_session` data) for the CLI's
//! `session create --config`.
//!
//! ```toml
//! symbols = ["ACME", "GLOBEX"]
//! start_date = 2020-01-02        # TOML dates and "2020-01-02" strings both work
//! end_date = "2020-12-31"
//! timeframe = "1d"
//! initial_capital = 100000
//! commission_rate = 0.001
//! ```

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use shared_models::{CreateSessionRequest, Timeframe};
use std::path::Path;

use crate::error::{ClientError, Result};

/// The server's documented defaults, for showing and pre-filling; the builder leaves unset
/// fields empty so the daemon applies its own.
pub mod defaults {
    use rust_decimal::Decimal;
    use shared_models::Timeframe;

    /// Bar size when none is given.
    pub const TIMEFRAME: Timeframe = Timeframe::D1;
    /// Starting cash when none is given.
    pub const INITIAL_CAPITAL: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);
    /// Costs (commission rate, per share, minimum, slippage) when none are given.
    pub const COST: Decimal = Decimal::ZERO;
    /// Short selling when not said otherwise.
    pub const ALLOW_SHORT: bool = true;
}

/// Builds a [`CreateSessionRequest`]. Fields left unset are omitted from the request, so the
/// daemon applies its defaults (see [`defaults`]).
///
/// ```
/// use rust_decimal::Decimal;
/// use simutrador_client::SessionRequestBuilder;
/// use shared_models::Timeframe;
///
/// let request = SessionRequestBuilder::new(["ACME"], "2020-01-02", "2020-12-31")
///     .timeframe(Timeframe::D1)
///     .capital(Decimal::from(50_000))
///     .commission_rate(Decimal::new(1, 3))
///     .build();
/// assert_eq!(request.symbols, ["ACME"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SessionRequestBuilder {
    request: CreateSessionRequest,
}

impl SessionRequestBuilder {
    /// The required parts: symbols and the inclusive date range (`YYYY-MM-DD` or RFC 3339).
    pub fn new<I, S>(symbols: I, start: impl Into<String>, end: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SessionRequestBuilder {
            request: CreateSessionRequest {
                symbols: symbols.into_iter().map(Into::into).collect(),
                start_date: start.into(),
                end_date: end.into(),
                ..CreateSessionRequest::default()
            },
        }
    }

    /// Start from an existing request (for example one loaded from a file).
    pub fn from_request(request: CreateSessionRequest) -> Self {
        SessionRequestBuilder { request }
    }

    /// Bar size.
    pub fn timeframe(mut self, timeframe: Timeframe) -> Self {
        self.request.timeframe = Some(timeframe.as_str().to_string());
        self
    }

    /// Starting cash.
    pub fn capital(mut self, capital: Decimal) -> Self {
        self.request.initial_capital = Some(capital);
        self
    }

    /// Commission as a fraction of traded value (0.001 = 0.1 %).
    pub fn commission_rate(mut self, rate: Decimal) -> Self {
        self.request.commission_rate = Some(rate);
        self
    }

    /// Commission per unit traded.
    pub fn commission_per_share(mut self, amount: Decimal) -> Self {
        self.request.commission_per_share = Some(amount);
        self
    }

    /// Minimum commission per fill.
    pub fn commission_min(mut self, amount: Decimal) -> Self {
        self.request.commission_min = Some(amount);
        self
    }

    /// Slippage against the trader, in basis points.
    pub fn slippage_bps(mut self, bps: Decimal) -> Self {
        self.request.slippage_bps = Some(bps);
        self
    }

    /// Allow or forbid short selling.
    pub fn allow_short(mut self, allow: bool) -> Self {
        self.request.allow_short = Some(allow);
        self
    }

    /// Add one free-form label.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.request
            .metadata
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// The request.
    pub fn build(self) -> CreateSessionRequest {
        self.request
    }
}

/// Parse a session file's text. `origin` names the file in errors.
///
/// Unknown keys are refused with the key named; `start_date`/`end_date` may be TOML dates or
/// strings. Symbols and dates may be missing here (the CLI can take them from flags); check
/// with [`require_complete`] before sending.
pub fn parse_session_toml(text: &str, origin: &str) -> Result<CreateSessionRequest> {
    let bad = |e: &dyn std::fmt::Display| {
        ClientError::Config(format!(
            "{origin}: {}; a session file takes the keys of create_session (symbols, start_date, \
             end_date, timeframe, initial_capital, commission_rate, commission_per_share, \
             commission_min, slippage_bps, allow_short, metadata) — see configs/session.toml",
            e.to_string().trim_end()
        ))
    };
    let mut table: toml::Table = toml::from_str(text).map_err(|e| bad(&e))?;
    for key in ["start_date", "end_date"] {
        if let Some(toml::Value::Datetime(dt)) = table.get(key) {
            let text = dt.to_string();
            table.insert(key.to_string(), toml::Value::String(text));
        }
    }
    for key in ["symbols", "start_date", "end_date"] {
        if !table.contains_key(key) {
            let empty = match key {
                "symbols" => toml::Value::Array(Vec::new()),
                _ => toml::Value::String(String::new()),
            };
            table.insert(key.to_string(), empty);
        }
    }
    toml::Value::Table(table)
        .try_into::<CreateSessionRequest>()
        .map_err(|e| bad(&e))
}

/// Read a session file.
pub fn load_session_file(path: &Path) -> Result<CreateSessionRequest> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ClientError::Config(format!("cannot read session file {}: {e}", path.display()))
    })?;
    parse_session_toml(&text, &path.display().to_string())
}

/// Fail with a message naming what is missing: symbols, a start date or an end date.
pub fn require_complete(request: &CreateSessionRequest) -> Result<()> {
    let mut missing = Vec::new();
    if request.symbols.iter().all(|s| s.trim().is_empty()) {
        missing.push("symbols");
    }
    if request.start_date.trim().is_empty() {
        missing.push("start_date");
    }
    if request.end_date.trim().is_empty() {
        missing.push("end_date");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ClientError::Config(format!(
            "the session request is missing {} (required by create_session)",
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_builder_leaves_defaults_to_the_server() {
        let request = SessionRequestBuilder::new(["acme"], "2020-01-02", "2020-12-31").build();
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"symbols": ["acme"], "start_date": "2020-01-02", "end_date": "2020-12-31"})
        );
        assert_eq!(defaults::INITIAL_CAPITAL, dec!(100000));
    }

    #[test]
    fn the_builder_sets_every_field() {
        let request = SessionRequestBuilder::new(vec!["A".to_string()], "2020-01-02", "2020-02-01")
            .timeframe(Timeframe::H1)
            .capital(dec!(5000))
            .commission_rate(dec!(0.001))
            .commission_per_share(dec!(0.005))
            .commission_min(dec!(1))
            .slippage_bps(dec!(2.5))
            .allow_short(false)
            .metadata("run", "baseline")
            .build();
        assert_eq!(request.timeframe.as_deref(), Some("1h"));
        assert_eq!(request.initial_capital, Some(dec!(5000)));
        assert_eq!(request.slippage_bps, Some(dec!(2.5)));
        assert_eq!(request.allow_short, Some(false));
        assert_eq!(request.metadata.unwrap()["run"], "baseline");
    }

    #[test]
    fn session_files_take_dates_as_toml_dates_or_strings() {
        let request = parse_session_toml(
            r#"
            symbols = ["ACME"]
            start_date = 2020-01-02
            end_date = "2020-12-31"
            initial_capital = 25000
            commission_rate = 0.002
            [metadata]
            note = "from a file"
            "#,
            "s.toml",
        )
        .unwrap();
        assert_eq!(request.start_date, "2020-01-02");
        assert_eq!(request.end_date, "2020-12-31");
        assert_eq!(request.initial_capital, Some(dec!(25000)));
        assert_eq!(request.commission_rate, Some(dec!(0.002)));
        assert_eq!(request.metadata.unwrap()["note"], "from a file");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse_session_toml("symbols = [\"A\"]\ncapital = 5\n", "my.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("my.toml") && msg.contains("capital"), "{msg}");
        let err = parse_session_toml("initial_capital = \"lots\"\n", "my.toml").unwrap_err();
        assert!(err.to_string().contains("my.toml"), "{err}");
        assert!(parse_session_toml("symbols = [", "x.toml").is_err());
    }

    #[test]
    fn the_example_session_file_parses() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../configs/session.toml"
        ));
        let request = parse_session_toml(text, "configs/session.toml").unwrap();
        require_complete(&request).unwrap();
        assert_eq!(request.symbols, ["ACME", "GLOBEX"]);
        assert_eq!(request.start_date, "2020-01-02");
        assert_eq!(request.commission_rate, Some(dec!(0.001)));
    }

    #[test]
    fn incomplete_requests_name_what_is_missing() {
        let partial = parse_session_toml("timeframe = \"1h\"\n", "p.toml").unwrap();
        let msg = require_complete(&partial).unwrap_err().to_string();
        assert!(msg.contains("symbols, start_date, end_date"), "{msg}");
        let full = SessionRequestBuilder::new(["A"], "2020-01-02", "2020-01-03").build();
        assert!(require_complete(&full).is_ok());
    }
}
