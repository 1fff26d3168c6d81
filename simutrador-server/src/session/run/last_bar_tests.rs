//! A stop or an expiry of a run rebuilt from its journal (after a restart, without a resume)
//! ends with the results of the live run stopped at the same point: the bar the live run had
//! settled after the last acknowledgement — whose fill the client has already seen — is
//! settled again before the flattening, not lost.

use serde_json::json;
use shared_models::lifecycle::Actor;
use shared_models::results::SimulationResults;
use shared_models::{SessionState, TerminationReason};

use super::core::{RunCore, StopFlag};
use super::io::{Effect, Input, Output};
use super::test_harness::*;
use crate::session::limits::RiskLimits;
use crate::session::store::{RunRecord, StoredRun};

fn results(out: &[Output]) -> SimulationResults {
    out.iter()
        .find_map(|o| match o {
            Output::Session(Effect::Results(r)) => Some(whole(r)),
            _ => None,
        })
        .expect("results")
}

fn stop() -> Input {
    Input::Terminate {
        state: SessionState::Expired,
        reason: TerminationReason::TimeLimit,
        actor: Actor::System,
    }
}

#[test]
fn a_rebuilt_run_stopped_without_a_resume_keeps_the_last_reported_fill() {
    let session = session(RiskLimits::none());
    let mut live = Harness::start(
        &session,
        options(4, shared_models::messages::simulation::EventMode::Messages),
    );
    live.ack_through(8);
    // The ack of tick 9 buys: the order fills at the open of bar 10, which the live run
    // settles at once and reports to the client.
    let out = live.ack(
        9,
        vec![order(
            json!({"order_id": "b1", "side": "buy", "quantity": "10"}),
        )],
    );
    assert_eq!(fills(&out).len(), 1, "the client saw the fill");
    let mut journal = std::mem::take(&mut live.out);
    live.core.handle(Input::Checkpoint, &mut journal);
    let mut everything = out;
    everything.append(&mut journal);
    let records: Vec<RunRecord> = everything
        .iter()
        .filter_map(|o| match o {
            Output::Journal(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    let started = RunRecord::Started {
        window: 4,
        account_updates: shared_models::messages::simulation::AccountUpdates::OnDemand,
        encoding: shared_models::messages::simulation::TickEncoding::Tick,
        warmup_bars: 0,
        indicator_warmup_bars: 0,
        events: shared_models::messages::simulation::EventMode::Messages,
        compact_times: false,
    };
    let stored = StoredRun::from_records(std::iter::once(started).chain(records));

    let expected = results(&live.take(stop()));
    assert_eq!(expected.trades.len() + expected.open_positions.len(), 1);

    let (feed, engine) = super::start::build(&session, catalog()).expect("build");
    let setup = super::start::setup(&session);
    let (mut rebuilt, _) =
        RunCore::replay(setup, feed, engine, stored, StopFlag::default()).expect("journal");
    let mut out = Vec::new();
    rebuilt.handle(stop(), &mut out);
    let got = results(&out);
    assert_eq!(
        serde_json::to_string(&got).expect("json"),
        serde_json::to_string(&expected).expect("json"),
        "the rebuilt run ends where the live run ended"
    );
}
