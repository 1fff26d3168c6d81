//! Live and replayed runs are the same run: a random live run (random decisions at random
//! ticks, random pacing), cut at a random journal flush as a crash would, rebuilt by feeding
//! its journal to a fresh core and resumed by a client that resends what it decided after the
//! last journaled acknowledgement, ends with bit-for-bit the results of the uninterrupted
//! run.

use proptest::prelude::*;
use serde_json::json;
use shared_models::messages::simulation::{EventMode, OrderBatch, TickAck};
use shared_models::results::SimulationResults;
use shared_models::trading::OrderRequest;
use std::collections::BTreeMap;

use super::core::{RunCore, StopFlag};
use super::io::{Effect, Input, Output};
use super::test_harness::*;
use crate::session::limits::RiskLimits;
use crate::session::store::{RunRecord, StoredRun};

/// What the client decides on one tick.
#[derive(Debug, Clone)]
pub(super) struct Decision {
    orders: Vec<OrderRequest>,
    cancels: Vec<String>,
    /// An `order_batch` sent after the ack that covers this tick.
    batch: Vec<OrderRequest>,
}

pub(super) fn decision_strategy() -> impl Strategy<Value = (u64, u8, u8, u32, u8)> {
    // (tick, kind, side, quantity, price offset in ‰)
    (0u64..240, 0u8..6, 0u8..2, 1u32..60, 0u8..40)
}

/// Turn drawn numbers into decisions, prices relative to the tick's close.
pub(super) fn decisions(drawn: Vec<(u64, u8, u8, u32, u8)>) -> BTreeMap<u64, Decision> {
    let bars = bars();
    let mut out: BTreeMap<u64, Decision> = BTreeMap::new();
    for (n, (tick, kind, side, qty, off)) in drawn.into_iter().enumerate() {
        let Some(bar) = bars.get(tick as usize) else {
            continue;
        };
        let side_s = if side == 0 { "buy" } else { "sell" };
        let delta = bar.candle.close * rust_decimal::Decimal::new(i64::from(off), 3);
        let (below, above) = (bar.candle.close - delta, bar.candle.close + delta);
        let id = format!("o{n}");
        let d = out.entry(tick).or_insert(Decision {
            orders: Vec::new(),
            cancels: Vec::new(),
            batch: Vec::new(),
        });
        let o = |fields: serde_json::Value| {
            let mut f = json!({"order_id": id, "side": side_s, "quantity": qty.to_string()});
            if let (Some(m), Some(x)) = (f.as_object_mut(), fields.as_object()) {
                m.extend(x.clone());
            }
            order(f)
        };
        match kind {
            0 => d.orders.push(o(json!({}))),
            1 => d.orders.push(o(json!({"order_type": "limit",
                "limit_price": if side == 0 { below } else { above }}))),
            2 => d.orders.push(o(json!({"order_type": "stop",
                "stop_price": if side == 0 { above } else { below }}))),
            3 => d.orders.push(o(json!({"take_profit": if side == 0 { above } else { below },
                "stop_loss": if side == 0 { below * rust_decimal::Decimal::new(99, 2) } else { above * rust_decimal::Decimal::new(101, 2) }}))),
            4 => d.cancels.push(format!("o{}", n.saturating_sub(1 + off as usize % 3))),
            _ => d.batch.push(o(json!({}))),
        }
    }
    out
}

/// A client driving `core` to the end: acks `stride` ticks at a time (decisions as their own
/// entries), sends batches after the ack that covers their tick, checkpoints when it would
/// wait. Batches whose ids are in `skip` were journaled before a crash: not resent. Every
/// output goes to `log`.
pub(super) fn drive(
    core: &mut RunCore,
    plan: &BTreeMap<u64, Decision>,
    stride: u64,
    skip: &[String],
    log: &mut Vec<Output>,
) {
    drive_rounds(core, plan, stride, skip, log, usize::MAX);
}

/// [`drive`] for at most `rounds` acknowledgements (then the client stops, e.g. to pause).
pub(super) fn drive_rounds(
    core: &mut RunCore,
    plan: &BTreeMap<u64, Decision>,
    stride: u64,
    skip: &[String],
    log: &mut Vec<Output>,
    rounds: usize,
) {
    let mut out = Vec::new();
    let mut round = 0;
    while !core.is_ended() && round < rounds {
        round += 1;
        while core.can_send() {
            core.handle(Input::Pump, &mut out);
        }
        let (from, sent) = (core.acked() as u64, core.sent() as u64);
        if from >= sent {
            break; // nothing to acknowledge: the run waits (cannot happen while attached)
        }
        let to = (from + stride).min(sent) - 1;
        let mut acks = Vec::new();
        for t in from..=to {
            if let Some(d) = plan
                .get(&t)
                .filter(|d| !d.orders.is_empty() || !d.cancels.is_empty())
            {
                acks.push(TickAck {
                    session_id: "s-1".into(),
                    sequence_id: t,
                    orders: d.orders.clone(),
                    cancels: d.cancels.clone(),
                });
            }
        }
        if acks.last().is_none_or(|a| a.sequence_id != to) {
            acks.push(ack(to, Vec::new()));
        }
        core.handle(Input::Acks(acks), &mut out);
        for t in from..=to {
            if let Some(d) = plan.get(&t).filter(|d| !d.batch.is_empty()) {
                let batch_id = format!("b{t}");
                if !skip.contains(&batch_id) {
                    let batch = OrderBatch {
                        session_id: "s-1".into(),
                        batch_id,
                        orders: d.batch.clone(),
                    };
                    core.handle(Input::Batch(batch), &mut out);
                }
            }
        }
        core.handle(Input::Checkpoint, &mut out);
        log.append(&mut out);
    }
}

pub(super) fn results(log: &[Output]) -> String {
    let r: Vec<SimulationResults> = log
        .iter()
        .filter_map(|o| match o {
            Output::Session(Effect::Results(r)) => Some(whole(r)),
            _ => None,
        })
        .collect();
    assert_eq!(r.len(), 1, "one result");
    serde_json::to_string(&r[0]).expect("json")
}

/// A live run of `plan` on `session`, driven to its end without interruption (events mode
/// `events` as drawn: 0 messages, 1 blocks, 2 fills): every output, and its results.
fn live_run(
    session: &crate::session::Session,
    plan: &BTreeMap<u64, Decision>,
    window: usize,
    stride: u64,
    events: u8,
) -> (Vec<Output>, String) {
    let events = [EventMode::Messages, EventMode::Blocks, EventMode::Fills][events as usize];
    let mut live = core(session, options(window, events), StopFlag::default());
    let mut log = Vec::new();
    live.handle(Input::Start { request_id: None }, &mut log);
    drive(&mut live, plan, stride, &[], &mut log);
    assert!(live.is_ended(), "the live run ends");
    let expected = results(&log);
    (log, expected)
}

/// The journal as a crash leaves it: every record up to the `cut`-th flush.
pub(super) fn journal_until(log: &[Output], cut: usize) -> Vec<RunRecord> {
    let mut records = Vec::new();
    let mut kept = Vec::new();
    let mut flushes = 0;
    for o in log {
        match o {
            Output::Journal(r) => records.push(r.clone()),
            Output::FlushJournal => {
                kept.append(&mut records);
                flushes += 1;
                if flushes > cut {
                    break;
                }
            }
            _ => {}
        }
    }
    kept
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn a_run_rebuilt_from_its_journal_ends_exactly_like_the_live_run(
        drawn in prop::collection::vec(decision_strategy(), 0..40),
        window in 1usize..6,
        stride in 1u64..4,
        events in 0u8..3,
        cut in 0usize..200,
    ) {
        let plan = decisions(drawn);
        let session = session(RiskLimits::none());
        // The live run, uninterrupted.
        let (live_log, expected) = live_run(&session, &plan, window, stride, events);

        // The same run, crashed after the `cut`-th flush of its journal.
        let records = journal_until(&live_log, cut);
        let journaled_batches: Vec<String> = plan
            .iter()
            .filter(|(_, d)| !d.batch.is_empty())
            .map(|(t, _)| format!("b{t}"))
            .take(records.iter().filter(|r| matches!(r, RunRecord::Batch { .. })).count())
            .collect();
        let (feed, engine) = crate::session::run::start::build(&session, catalog()).expect("build");
        let setup = crate::session::run::start::setup(&session);
        let stored = StoredRun::from_records(records);
        let (mut rebuilt, pending) =
            RunCore::replay(setup, feed, engine, stored, StopFlag::default()).expect("journal");
        prop_assert!(pending.is_empty());
        prop_assert!(rebuilt.is_paused());
        let mut log = Vec::new();
        rebuilt.handle(Input::Resume { stream_closed: false }, &mut log);
        drive(&mut rebuilt, &plan, stride, &journaled_batches, &mut log);
        prop_assert!(rebuilt.is_ended());
        prop_assert_eq!(results(&log), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]

    /// A completed session whose results record was lost (a crash after its end was
    /// journaled): replaying its whole run journal and finishing gives the live results.
    #[test]
    fn a_completed_run_finished_from_its_journal_gives_the_live_results(
        drawn in prop::collection::vec(decision_strategy(), 0..40),
        window in 1usize..6,
        stride in 1u64..4,
        events in 0u8..3,
    ) {
        let plan = decisions(drawn);
        let session = session(RiskLimits::none());
        let (live_log, expected) = live_run(&session, &plan, window, stride, events);

        let records = journal_until(&live_log, usize::MAX);
        let (feed, engine) = crate::session::run::start::build(&session, catalog()).expect("build");
        let setup = crate::session::run::start::setup(&session);
        let stored = StoredRun::from_records(records);
        let (mut rebuilt, _) =
            RunCore::replay(setup, feed, engine, stored, StopFlag::default()).expect("journal");
        let mut log = Vec::new();
        rebuilt.finish_replayed(&mut log);
        prop_assert!(rebuilt.is_ended());
        prop_assert_eq!(results(&log), expected);
    }
}

#[test]
fn a_journal_without_a_start_rebuilds_nothing() {
    let session = session(RiskLimits::none());
    let (feed, engine) = crate::session::run::start::build(&session, catalog()).expect("build");
    let setup = crate::session::run::start::setup(&session);
    let stored = StoredRun::default();
    assert!(RunCore::replay(setup, feed, engine, stored, StopFlag::default()).is_none());
}
