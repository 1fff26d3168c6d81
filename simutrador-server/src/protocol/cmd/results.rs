//! `get_results`: the results of an ended run, whole or one page at a time.
//!
//! The summary (metrics, open positions, sizes) is in memory; the equity curve and trades
//! come from [`crate::session::SessionManager::results`] (in memory until journaled, then read
//! back from the store on demand). A reply holds at most
//! [`MAX_PAGE_LIMIT`] trades and as many equity points: larger results must be asked for in
//! pages (`offset` / `limit`; `docs/protocol.md`, "Paged results"), so no request makes the
//! daemon encode tens of megabytes at once.

use serde_json::json;
use shared_models::messages::results::{GetResults, ResultsFormat, ResultsReply};
use shared_models::results_page::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, ResultsPage};
use shared_models::{ErrorCode, ServerMessage};

use super::{Apply, Reply};
use crate::error::{ApiError, ApiResult, api_error};
use crate::protocol::connection::ConnectionContext;
use crate::session::Session;

/// `get_results`.
pub struct Results(pub GetResults);

fn no_results(session: &Session) -> ApiError {
    let state = session.state();
    api_error(
        ErrorCode::InvalidState,
        format!(
            "session {} has no results yet (it is {state}); run it to the end first",
            session.id
        ),
        json!({ "state": state }),
    )
}

fn bad_page(field: &str, message: String, details: serde_json::Value) -> ApiError {
    let mut details = details;
    details["field"] = json!(field);
    details["max_limit"] = json!(MAX_PAGE_LIMIT);
    api_error(ErrorCode::ValidationFailed, message, details)
}

/// The page `req` asks for over lists of `trades` and `equity` items (`None`: the whole
/// results). Errors: `VALIDATION_FAILED` naming `limit` or `offset`.
fn page(req: &GetResults, trades: u64, equity: u64) -> ApiResult<Option<ResultsPage>> {
    let totals = json!({ "trades_total": trades, "equity_total": equity });
    let paged = req.offset.is_some() || req.limit.is_some();
    if req.format == Some(ResultsFormat::Summary) {
        if paged {
            let field = if req.offset.is_some() {
                "offset"
            } else {
                "limit"
            };
            let msg = "format summary has no trades or equity curve to page; leave out offset and limit, or ask for rows or columns".to_string();
            return Err(bad_page(field, msg, totals));
        }
        return Ok(None);
    }
    if !paged {
        let max = u64::from(MAX_PAGE_LIMIT);
        if trades > max || equity > max {
            let msg = format!(
                "these results hold {trades} trades and {equity} equity points, more than one reply carries ({MAX_PAGE_LIMIT} of each); ask for pages with offset and limit (at most {MAX_PAGE_LIMIT})"
            );
            return Err(bad_page("limit", msg, totals));
        }
        return Ok(None);
    }
    let limit = req.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
        let msg =
            format!("limit {limit} is out of range; ask for 1 to {MAX_PAGE_LIMIT} items per page");
        return Err(bad_page("limit", msg, totals));
    }
    let offset = req.offset.unwrap_or(0);
    let end = trades.max(equity);
    if offset > end {
        let msg = format!(
            "offset {offset} is past the end of the results ({trades} trades, {equity} equity points); start at 0 and follow next_offset"
        );
        return Err(bad_page("offset", msg, totals));
    }
    Ok(Some(ResultsPage::new(offset, limit, trades, equity)))
}

impl Apply for Results {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let req = self.0;
        let sessions = &ctx.state.sessions;
        let session = sessions.get(&ctx.user_id, &req.session_id)?;
        let summary = session
            .results_summary()
            .ok_or_else(|| no_results(&session))?;
        let page = page(&req, summary.trades, summary.equity_points)?;
        let format = req.format.unwrap_or_default();
        let parts = if format == ResultsFormat::Summary {
            None
        } else {
            let results = sessions
                .results(&session)?
                .ok_or_else(|| no_results(&session))?;
            Some(match &page {
                Some(p) => (
                    results.trades.slice(p.range(summary.trades)),
                    results.equity.slice(p.range(summary.equity_points)),
                ),
                None => (results.trades.clone(), results.equity.clone()),
            })
        };
        let reply = ResultsReply::from_columns(
            session.id.to_string(),
            summary.metrics.clone(),
            summary.open_positions.clone(),
            parts,
            format,
            page,
        )
        .map(|reply| reply.with_outcome(session.outcome()))
        .map_err(|e| {
            tracing::warn!(session_id = %session.id, "stored results do not convert: {e}");
            api_error(
                ErrorCode::Internal,
                format!(
                    "the stored results of session {} are damaged: {e}",
                    session.id
                ),
                json!({}),
            )
        })?;
        Ok(ServerMessage::Results(reply).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(offset: Option<u64>, limit: Option<u32>, format: Option<ResultsFormat>) -> GetResults {
        GetResults {
            session_id: "s".into(),
            format,
            offset,
            limit,
        }
    }

    fn field(r: ApiResult<Option<ResultsPage>>) -> String {
        let e = r.err().map(|e| e.details["field"].clone());
        e.and_then(|f| f.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn an_unpaged_request_is_answered_whole_only_up_to_the_page_limit() {
        let max = u64::from(MAX_PAGE_LIMIT);
        assert_eq!(page(&req(None, None, None), 10, max).ok(), Some(None));
        assert_eq!(field(page(&req(None, None, None), 10, max + 1)), "limit");
        assert_eq!(field(page(&req(None, None, None), max + 1, 5)), "limit");
        let summary = Some(ResultsFormat::Summary);
        assert_eq!(
            page(&req(None, None, summary), max + 1, max + 1).ok(),
            Some(None),
            "a summary is small whatever the run"
        );
    }

    #[test]
    fn a_page_defaults_its_limit_and_offset() {
        let p = page(&req(Some(5), None, None), 3, 50_000).ok().flatten();
        assert_eq!(
            p.map(|p| (p.offset, p.limit)),
            Some((5, DEFAULT_PAGE_LIMIT))
        );
        let p = page(&req(None, Some(2), None), 3, 4).ok().flatten();
        assert_eq!(p.map(|p| (p.offset, p.next_offset)), Some((0, Some(2))));
    }
}
