//! Checking one value of a batch file on its own: the `create_session` keys (symbols, dates,
//! timeframe, money, limits) and strategy parameters. Each check returns the value in the form
//! the request needs (dates and decimals as strings) or a sentence saying what is wrong.

use rust_decimal::Decimal;
use shared_models::Timeframe;
use shared_models::dates::DateBound;
use shared_models::market::{is_valid_symbol, normalize_symbol};
use std::str::FromStr;
use toml::Value;

/// The keys of `create_session` a batch file may set (in `[defaults]`, `[[simulation]]` or a
/// sweep).
pub const SESSION_KEYS: &[&str] = &[
    "symbols",
    "start_date",
    "end_date",
    "timeframe",
    "initial_capital",
    "commission_rate",
    "commission_per_share",
    "commission_min",
    "slippage_bps",
    "allow_short",
    "close_at_end",
    "max_duration",
    "loss_limit_amount",
    "loss_limit_pct",
    "halt_threshold_pct",
    "halt_bars",
    "metadata",
];

/// True for a `create_session` key.
pub fn is_session_key(key: &str) -> bool {
    SESSION_KEYS.contains(&key)
}

/// Check a session value; returns it normalized.
pub fn check_session_value(key: &str, value: &Value) -> Result<Value, String> {
    match key {
        "symbols" => symbols(value),
        "start_date" | "end_date" => date(value).map(Value::String),
        "timeframe" => {
            let text = text(value, "a timeframe such as \"1d\"")?;
            Timeframe::from_str(text.trim())
                .map(|_| Value::String(text.trim().to_string()))
                .map_err(|_| {
                    format!("'{text}' is not a timeframe; use 1m 5m 15m 30m 1h 4h 1d 1w 1mo")
                })
        }
        "initial_capital" => money(value, false, None),
        "commission_rate"
        | "commission_per_share"
        | "commission_min"
        | "slippage_bps"
        | "loss_limit_amount" => money(value, true, None),
        "loss_limit_pct" | "halt_threshold_pct" => money(value, true, Some(Decimal::ONE_HUNDRED)),
        "allow_short" | "close_at_end" => match value {
            Value::Boolean(_) => Ok(value.clone()),
            other => Err(format!(
                "expected true or false, found {}",
                other.type_str()
            )),
        },
        "max_duration" => {
            let text = text(value, "a duration such as \"4h\"")?;
            shared_models::lifecycle::parse_duration(&text).map(|_| Value::String(text.clone()))
        }
        "halt_bars" => match value {
            Value::Integer(n) if *n >= 1 && *n <= i64::from(u32::MAX) => Ok(value.clone()),
            Value::Integer(n) => Err(format!("halt_bars must be at least 1 (got {n})")),
            other => Err(format!(
                "expected a whole number, found {}",
                other.type_str()
            )),
        },
        "metadata" => match value {
            Value::Table(_) => Ok(value.clone()),
            other => Err(format!("expected a table, found {}", other.type_str())),
        },
        _ => Err(format!("'{key}' is not a session parameter")),
    }
}

/// A strategy parameter as text: numbers, booleans and strings.
pub fn param_text(value: &Value) -> Result<String, String> {
    match value {
        Value::Integer(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Boolean(b) => Ok(b.to_string()),
        Value::String(s) => Ok(s.trim().to_string()),
        other => Err(format!(
            "a strategy parameter is a number, true/false or text, found {}",
            other.type_str()
        )),
    }
}

/// A value as the text shown in run names and summaries (`["GOOG"]` → `GOOG`).
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(display_value)
            .collect::<Vec<_>>()
            .join("+"),
        other => other.to_string(),
    }
}

fn text(value: &Value, what: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("expected {what}, found {}", other.type_str())),
    }
}

fn symbols(value: &Value) -> Result<Value, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "expected a list of symbols such as [\"GOOG\"], found {}",
            value.type_str()
        ));
    };
    if items.is_empty() {
        return Err("the symbol list is empty; give at least one symbol".into());
    }
    for item in items {
        let s = text(item, "a symbol in quotes")?;
        if !is_valid_symbol(&normalize_symbol(&s)) {
            return Err(format!(
                "'{s}' is not a valid symbol; use letters, digits and . _ - / ^ = (at most 24)"
            ));
        }
    }
    Ok(value.clone())
}

fn date(value: &Value) -> Result<String, String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Datetime(d) => d.to_string(),
        other => {
            return Err(format!(
                "expected a date such as 2004-08-19, found {}",
                other.type_str()
            ));
        }
    };
    DateBound::parse(&text)
        .map(|_| text.clone())
        .map_err(|_| format!("'{text}' is not a date; write YYYY-MM-DD or an RFC 3339 time"))
}

fn money(value: &Value, zero_ok: bool, max: Option<Decimal>) -> Result<Value, String> {
    let text = match value {
        Value::Integer(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => f.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => return Err(format!("expected a number, found {}", other.type_str())),
    };
    let d = Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| format!("'{text}' is not a number"))?;
    if d.is_sign_negative() && !d.is_zero() || (!zero_ok && d.is_zero()) {
        return Err(format!(
            "{text} is out of range; it must be {}",
            if zero_ok { "0 or more" } else { "above 0" }
        ));
    }
    if let Some(max) = max
        && d > max
    {
        return Err(format!("{text} is out of range; it must be at most {max}"));
    }
    Ok(Value::String(d.normalize().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_values_are_checked_and_normalized() {
        let v = |s: &str| -> Value {
            toml::from_str::<toml::Table>(&format!("v = {s}")).unwrap()["v"].clone()
        };
        assert_eq!(
            check_session_value("commission_rate", &v("0.002")).unwrap(),
            Value::String("0.002".into())
        );
        assert_eq!(
            check_session_value("start_date", &v("2004-08-19")).unwrap(),
            Value::String("2004-08-19".into())
        );
        assert!(check_session_value("start_date", &v("\"2004-13-40\"")).is_err());
        assert!(check_session_value("symbols", &v("[\"GO OG\"]")).is_err());
        assert!(check_session_value("symbols", &v("[]")).is_err());
        assert!(check_session_value("symbols", &v("\"GOOG\"")).is_err());
        assert!(check_session_value("timeframe", &v("\"2d\"")).is_err());
        assert!(check_session_value("initial_capital", &v("0")).is_err());
        assert!(check_session_value("initial_capital", &v("\"lots\"")).is_err());
        assert!(check_session_value("loss_limit_pct", &v("150")).is_err());
        assert!(check_session_value("allow_short", &v("1")).is_err());
        assert_eq!(display_value(&v("[\"GOOG\", \"ACME\"]")), "GOOG+ACME");
    }
}
