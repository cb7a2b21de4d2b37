//! How one reconcile sweep spends its invocation, so that nothing planted can pin it
//! (docs/triggers.md, "A sweep nobody can pin"):
//! - the kinds of job run in turn, each with a share of the time (create 40 %, repair 25 %,
//!   retire 25 %, replica 10 %); a share a kind leaves unused passes to the next kind;
//! - a kind stops being attempted after `max(3, 10 %)` of its jobs failed;
//! - `MAX_RETIRE_PER_RUN` counts retirements that succeeded (a planted orphan that cannot be
//!   retired never uses up the allowance);
//! - orphans are taken in an order shuffled with a seed from the date and place, so names that
//!   sort first gain nothing.
//!
//! Nothing here is kept across runs: every run starts afresh, and no state is ever written to
//! the (possibly hostile) secrets themselves.

#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

use sha2::{Digest, Sha256};

/// The kinds of job a sweep does, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Databases without a secret: provisioned.
    Create,
    /// Drifted connection keys (and database-id tags to backfill): repaired.
    Repair,
    /// Orphaned secrets: retired.
    Retire,
    /// Missing replicas: re-created.
    Replica,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Create, Kind::Repair, Kind::Retire, Kind::Replica];

    /// Its share of the sweep's time, in percent.
    pub fn share_percent(self) -> u32 {
        match self {
            Kind::Create => 40,
            Kind::Repair => 25,
            Kind::Retire => 25,
            Kind::Replica => 10,
        }
    }

    /// Its name in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Repair => "repair",
            Kind::Retire => "retire",
            Kind::Replica => "replica",
        }
    }
}

/// After this many failures of a kind, the run attempts no more of that kind: `max(3, 10 %)` of
/// its jobs (rounded up).
pub fn failure_limit(jobs: usize) -> usize {
    jobs.div_ceil(10).max(3)
}

/// When each kind must stop starting jobs, for a sweep that may start jobs until `stop_at`:
/// the shares add up, so a kind that finishes early leaves its time to the next ones. `None`
/// without a deadline.
pub fn kind_deadline(kind: Kind, start: Instant, stop_at: Option<Instant>) -> Option<Instant> {
    let stop_at = stop_at?;
    let budget = stop_at.saturating_duration_since(start);
    let percent: u32 = Kind::ALL
        .iter()
        .take_while(|k| **k <= kind)
        .map(|k| k.share_percent())
        .sum();
    Some(start + budget.mul_f64(f64::from(percent) / 100.0))
}

/// Why a job of a kind is not started now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The kind's share of the time (with what earlier kinds left) is used up.
    OutOfTime,
    /// `max(3, 10 %)` of the kind's jobs failed.
    TooManyFailures,
    /// `MAX_RETIRE_PER_RUN` retirements succeeded (or would, with those in flight).
    RetireLimit,
}

/// How a started job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It did its work (created, repaired, retired, re-created).
    Did,
    /// It found nothing to do (the database is back, the replica is in sync, not ready yet).
    Nothing,
    Failed,
}

/// One kind's run: counts what happened and says whether another job may start.
#[derive(Debug)]
pub struct KindRun {
    kind: Kind,
    deadline: Option<Instant>,
    limit: usize,
    max_successes: Option<usize>,
    failures: usize,
    successes: usize,
    in_flight: usize,
}

impl KindRun {
    /// `jobs` of `kind`, which may start until `deadline`; retirements stop at
    /// `max_retire` successes.
    pub fn new(kind: Kind, jobs: usize, deadline: Option<Instant>, max_retire: usize) -> KindRun {
        KindRun {
            kind,
            deadline,
            limit: failure_limit(jobs),
            max_successes: (kind == Kind::Retire).then_some(max_retire),
            failures: 0,
            successes: 0,
            in_flight: 0,
        }
    }

    /// Whether another job may start at `now`; `Ok` counts it as in flight.
    pub fn start(&mut self, now: Instant) -> Result<(), Hold> {
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(Hold::OutOfTime);
        }
        if self.failures >= self.limit {
            return Err(Hold::TooManyFailures);
        }
        // In-flight retirements may all succeed: never start more than could fit.
        if self
            .max_successes
            .is_some_and(|max| self.successes + self.in_flight >= max)
        {
            return Err(Hold::RetireLimit);
        }
        self.in_flight += 1;
        Ok(())
    }

    /// A started job ended.
    pub fn ended(&mut self, ended: Ended) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match ended {
            Ended::Did => self.successes += 1,
            Ended::Nothing => {}
            Ended::Failed => self.failures += 1,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

/// The seed of one sweep's order: the UTC date (or `SWEEP_SEED`, which tests set) and the
/// place. The order changes every day and differs between accounts and regions.
pub fn seed(date_or_seed: &str, account: &str, region: &str) -> String {
    format!("{date_or_seed}|{account}|{region}")
}

/// Shuffles `items` in the order a keyed hash of each name gives: a permutation fixed by the
/// seed, and one a name cannot choose its place in without knowing the seed's date.
pub fn shuffle<T>(items: &mut [T], seed: &str, name: impl Fn(&T) -> &str) {
    items.sort_by_cached_key(|item| {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update([0]);
        h.update(name(item).as_bytes());
        let digest: [u8; 32] = h.finalize().into();
        digest
    });
}

/// The most secrets one place (account and region) retires in a sweep: a fraction of its live
/// managed secrets (`MAX_RETIRE_FRACTION`, in millionths), at least 1, and never more than
/// `MAX_RETIRE_PER_RUN`.
pub fn retire_limit(managed: usize, fraction_ppm: u32, max_per_run: usize) -> usize {
    let share = (managed as u128 * u128::from(fraction_ppm) / 1_000_000) as usize;
    share.max(1).min(max_per_run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_retires_a_fifth_of_its_secrets_at_least_one_at_most_the_cap() {
        assert_eq!(retire_limit(0, 200_000, 10), 1);
        assert_eq!(retire_limit(4, 200_000, 10), 1);
        assert_eq!(retire_limit(10, 200_000, 10), 2);
        assert_eq!(retire_limit(1000, 200_000, 10), 10);
        assert_eq!(
            retire_limit(1000, 200_000, 0),
            0,
            "MAX_RETIRE_PER_RUN=0 retires nothing"
        );
        assert_eq!(retire_limit(7, 1_000_000, 100), 7);
    }

    #[test]
    fn a_kind_stops_after_max_3_or_10_percent_failures() {
        assert_eq!(failure_limit(0), 3);
        assert_eq!(failure_limit(4), 3);
        assert_eq!(failure_limit(30), 3);
        assert_eq!(failure_limit(31), 4);
        assert_eq!(failure_limit(400), 40);
        let now = Instant::now();
        let mut run = KindRun::new(Kind::Repair, 400, None, 10);
        for _ in 0..40 {
            run.start(now).unwrap();
            run.ended(Ended::Failed);
        }
        assert_eq!(run.start(now), Err(Hold::TooManyFailures));
    }

    #[test]
    fn max_retire_counts_successes_and_in_flight_never_overshoots() {
        let now = Instant::now();
        let mut run = KindRun::new(Kind::Retire, 100, None, 2);
        run.start(now).unwrap();
        run.ended(Ended::Failed);
        run.start(now).unwrap();
        run.ended(Ended::Failed);
        // Two failures used nothing of the allowance.
        run.start(now).unwrap();
        run.start(now).unwrap();
        assert_eq!(run.start(now), Err(Hold::RetireLimit), "two in flight");
        run.ended(Ended::Failed);
        run.start(now).unwrap();
        run.ended(Ended::Did);
        run.ended(Ended::Nothing);
        assert_eq!(
            run.start(now),
            Ok(()),
            "an orphan whose database is back counts nothing"
        );
        run.ended(Ended::Did);
        assert_eq!(run.start(now), Err(Hold::RetireLimit));
        // Other kinds have no such limit.
        let mut repair = KindRun::new(Kind::Repair, 20, None, 0);
        assert_eq!(repair.start(now), Ok(()));
    }

    #[test]
    fn shares_add_up_so_unused_time_passes_on() {
        let start = Instant::now();
        let stop = start + Duration::from_secs(100);
        let at = |k| kind_deadline(k, start, Some(stop)).unwrap() - start;
        assert_eq!(at(Kind::Create), Duration::from_secs(40));
        assert_eq!(at(Kind::Repair), Duration::from_secs(65));
        assert_eq!(at(Kind::Retire), Duration::from_secs(90));
        assert_eq!(at(Kind::Replica), Duration::from_secs(100));
        assert_eq!(kind_deadline(Kind::Retire, start, None), None);
        let mut run = KindRun::new(Kind::Retire, 1, Some(start + at(Kind::Retire)), 10);
        assert_eq!(run.start(stop), Err(Hold::OutOfTime));
        assert_eq!(run.start(start), Ok(()));
    }

    #[test]
    fn the_shuffle_depends_on_the_seed_not_on_how_names_sort() {
        let names: Vec<String> = (0..50)
            .map(|i| format!("db-secrets/rds/o{i:02}/u"))
            .collect();
        let mut a = names.clone();
        shuffle(
            &mut a,
            &seed("2026-12-03", "111111111111", "us-east-1"),
            |s| s,
        );
        let mut again = names.clone();
        shuffle(
            &mut again,
            &seed("2026-12-03", "111111111111", "us-east-1"),
            |s| s,
        );
        assert_eq!(a, again, "one seed, one order");
        let mut b = names.clone();
        shuffle(
            &mut b,
            &seed("2026-12-04", "111111111111", "us-east-1"),
            |s| s,
        );
        assert_ne!(a, b, "the next day, another order");
        let mut c = names.clone();
        shuffle(
            &mut c,
            &seed("2026-12-03", "222222222222", "us-east-1"),
            |s| s,
        );
        assert_ne!(a, c, "another account, another order");
        assert_ne!(a, names, "not the sorted order");
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, names, "a permutation");
    }
}
