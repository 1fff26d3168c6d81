//! A paused and resumed run ends with the final statistics of the uninterrupted run — the
//! results *and* the figures the session reports (`final_stats`: equity, trades, max
//! drawdown), whether it was resumed in the same process or rebuilt from its journal after a
//! restart. The session's figures are folded from the run's outputs with the very `Session`
//! methods the run actor calls (`publish`, `set_results`).

use proptest::prelude::*;
use shared_models::lifecycle::FinalStats;
use shared_models::messages::simulation::EventMode;

use super::core::{RunCore, StopFlag};
use super::io::{Effect, Input, Output};
use super::replay_tests::{
    decision_strategy, decisions, drive, drive_rounds, journal_until, results,
};
use super::test_harness::*;
use crate::session::Session;
use crate::session::limits::RiskLimits;
use crate::session::store::StoredRun;

/// Apply the run's session changes to `s` as the run actor does.
fn fold(s: &Session, log: &[Output]) {
    for o in log {
        match o {
            Output::Session(Effect::Publish { equity, trades, .. }) => s.publish(*equity, *trades),
            Output::Session(Effect::Results(r)) => s.set_results(r.as_ref().clone()),
            _ => {}
        }
    }
}

fn final_stats(s: &Session) -> FinalStats {
    s.live().final_stats(s.params.initial_capital, 0, 0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn a_paused_and_resumed_run_ends_with_the_statistics_of_the_uninterrupted_run(
        drawn in prop::collection::vec(decision_strategy(), 1..40),
        window in 1usize..6,
        stride in 1u64..4,
        pause_after in 1usize..200,
        restart in any::<bool>(),
    ) {
        let plan = decisions(drawn);
        let opts = options(window, EventMode::Messages);

        // The uninterrupted run.
        let a = session(RiskLimits::none());
        let mut live = core(&a, opts.clone(), StopFlag::default());
        let mut log = Vec::new();
        live.handle(Input::Start { request_id: None }, &mut log);
        drive(&mut live, &plan, stride, &[], &mut log);
        fold(&a, &log);
        let (expected, expected_stats) = (results(&log), final_stats(&a));

        // The same run paused after `pause_after` acknowledgements …
        let b = session(RiskLimits::none());
        let mut paused = core(&b, opts, StopFlag::default());
        let mut before = Vec::new();
        paused.handle(Input::Start { request_id: None }, &mut before);
        drive_rounds(&mut paused, &plan, stride, &[], &mut before, pause_after);
        prop_assume!(!paused.is_ended());
        paused.handle(Input::Pause, &mut before);
        paused.handle(Input::Checkpoint, &mut before);
        fold(&b, &before);

        let mut after = Vec::new();
        let (mut resumed, b) = if restart {
            // … the daemon restarts: the session comes back with the figures it journaled
            // at the pause, the run is rebuilt from its journal (as `RunActor::restored`).
            let flushes = before.iter().filter(|o| matches!(o, Output::FlushJournal)).count();
            let records = journal_until(&before, flushes);
            let b2 = session(RiskLimits::none());
            *b2.live.lock() = b.live();
            let (feed, engine) = super::start::build(&b2, catalog()).expect("build");
            let stored = StoredRun::from_records(records);
            let (core, pending) =
                RunCore::replay(super::start::setup(&b2), feed, engine, stored, StopFlag::default())
                    .expect("journal");
            prop_assert!(pending.is_empty());
            b2.publish(core.engine().equity(), core.engine().trade_count() as u64);
            (core, b2)
        } else {
            (paused, b)
        };
        // … and resumed to the end.
        resumed.handle(Input::Resume { stream_closed: restart }, &mut after);
        let journaled: Vec<String> = Vec::new();
        drive(&mut resumed, &plan, stride, &journaled, &mut after);
        prop_assert!(resumed.is_ended());
        fold(&b, &after);
        prop_assert_eq!(results(&after), expected);
        prop_assert_eq!(final_stats(&b), expected_stats);
    }
}
