//! The batch's shared concurrency controller ([`Throttle`]): how many sessions may run at once,
//! halved when the API rate-limits a request (a 429) and raised by one after a stretch of
//! successes, up to `--parallel` (additive increase, multiplicative decrease, as TCP's
//! congestion control, and as TCP it starts small and doubles until the first 429: a batch of
//! 256 sessions does not open with 256 requests at once), the same bound on the batch's
//! requests in flight at once (sessions started before a 429 keep running, but no more of
//! their requests go out together than the limit), and the hold every request of the batch
//! waits out after a 429 until its `retry-after` has passed. From the first 429 on it also
//! paces the batch's requests, one every so often: a limit of requests a minute is not kept
//! by fewer at once when each takes milliseconds. The pace is halved at each 429 (from the
//! pace the requests went at, measured) and quickened by a 32nd at each success, and a new
//! session starts only when no request waits for its turn, so no more sessions run than the
//! pace keeps busy. Waiting requests go in the order of their deadlines (the nearest first,
//! which is the oldest session's first): sessions begun before the first 429 end one after
//! the other, not all of them late together. It is the batch client's attempt hook, so it sees every
//! request of every session, and it has a 429 tried again after the hold (the API acted on
//! none it refused) instead of each call spending its own few retries. With `--fixed-parallel`
//! it only counts: `--parallel` sessions at once, and each call retries its 429s on its own
//! as the official SDKs do.

use managed_agents::{Attempt, AttemptHook, AttemptOutcome, Deadline, RetryChoice};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The hold after a 429 that names no wait.
const DEFAULT_HOLD: Duration = Duration::from_secs(1);
/// The sessions allowed at once when the batch starts (fewer when `--parallel` is fewer).
pub const INITIAL: usize = 4;
/// How often a thread waiting for a slot looks whether it should give up.
const POLL: Duration = Duration::from_millis(100);
/// The requests whose send times measure the pace the batch went at when a 429 came.
const MEASURED: usize = 16;
/// The shortest and longest time between two requests once paced.
const MIN_GAP: Duration = Duration::from_micros(50);
const MAX_GAP: Duration = Duration::from_secs(60);

/// What the batch's rate limiting did, for its closing line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Account {
    /// The 429 answers seen (rate limits, every retry counted).
    pub rate_limited: usize,
    /// The sessions allowed at once now.
    pub limit: usize,
    /// The fewest sessions allowed at once at any time.
    pub lowest: usize,
    /// The most: `--parallel`.
    pub max: usize,
    /// The pace of requests now, a second (none before the first 429).
    pub pace: Option<f64>,
}

/// The sessions allowed at once, the ones running, and the hold after a 429.
#[derive(Debug)]
struct State {
    limit: usize,
    max: usize,
    running: usize,
    /// Requests sent and not yet answered (their heads).
    in_flight: usize,
    /// No request goes out before this, when set (a 429's `retry-after` from when it came).
    hold_until: Option<Instant>,
    /// Successful requests since the limit last changed.
    successes: usize,
    /// No 429 yet: each successful request allows one more session (the limit doubles with
    /// each stretch), not one a stretch.
    slow_start: bool,
    rate_limited: usize,
    lowest: usize,
    /// Set when the batch quits: nothing waits any more.
    released: bool,
    /// The time between two requests, from the first 429 on (none before).
    gap: Option<Duration>,
    /// When the next request may go, once paced.
    next_send: Option<Instant>,
    /// Requests waiting in [`Throttle::send`] for their turn, by deadline (none last), then
    /// by arrival.
    waiting: std::collections::BTreeSet<(Instant, u64)>,
    /// The arrival number of the next request to wait.
    arrivals: u64,
    /// When the last [`MEASURED`] requests went.
    sent: std::collections::VecDeque<Instant>,
}

impl State {
    /// Halves the pace, from the pace the last requests went at when that was slower (the
    /// time between them doubled), and to at most 16 requests in the `hold` the server asked
    /// for (a first 429 after a burst would otherwise start from a pace thousands of times
    /// too quick, and take a dozen more to come down), within [`MIN_GAP`] and [`MAX_GAP`].
    fn slow_down(&mut self, hold: Duration) {
        let measured = match (self.sent.front(), self.sent.back()) {
            (Some(first), Some(last)) if self.sent.len() > 1 => {
                let n = u32::try_from(self.sent.len() - 1).unwrap_or(u32::MAX);
                last.duration_since(*first) / n
            }
            _ => Duration::ZERO,
        };
        let gap = self.gap.unwrap_or(Duration::ZERO).max(measured);
        self.gap = Some((gap * 2).max(hold / 16).clamp(MIN_GAP, MAX_GAP));
    }

    /// Quickens the pace by a 32nd (the time between requests 32/33 of what it was).
    fn speed_up(&mut self) {
        if let Some(gap) = self.gap {
            self.gap = Some((gap * 32 / 33).max(MIN_GAP));
        }
    }
}

/// The batch's shared concurrency controller (see the module's description).
#[derive(Debug)]
pub struct Throttle {
    adaptive: bool,
    state: Mutex<State>,
    changed: Condvar,
}

/// A running session's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit<'a>(&'a Throttle);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.lock().running -= 1;
        self.0.changed.notify_all();
    }
}

impl Throttle {
    /// Makes a controller of at most `max` sessions at once (at least 1), starting at
    /// [`INITIAL`] (or `max` when fewer); `adaptive: false` keeps it at `max` and only counts
    /// the 429s.
    pub fn new(max: usize, adaptive: bool) -> Throttle {
        let max = max.max(1);
        let limit = if adaptive { max.min(INITIAL) } else { max };
        Throttle {
            adaptive,
            state: Mutex::new(State {
                limit,
                max,
                running: 0,
                in_flight: 0,
                hold_until: None,
                successes: 0,
                slow_start: true,
                rate_limited: 0,
                lowest: max,
                released: false,
                gap: None,
                next_send: None,
                waiting: std::collections::BTreeSet::new(),
                arrivals: 0,
                sent: std::collections::VecDeque::with_capacity(MEASURED),
            }),
            changed: Condvar::new(),
        }
    }

    /// Lowers the most sessions at once to `max` (at least 1): a batch of fewer tasks than
    /// `--parallel` never runs more.
    pub fn cap(&self, max: usize) {
        let mut s = self.lock();
        s.max = s.max.min(max.max(1));
        s.limit = s.limit.min(s.max);
        s.lowest = s.lowest.min(s.max);
    }

    /// Waits for a session's slot: until fewer sessions run than the limit allows, no hold
    /// is on and, once paced, no request waits for its turn. `None` once `give_up` says so
    /// (asked at least every 100 ms) or the controller was released.
    pub fn acquire(&self, give_up: impl Fn() -> bool) -> Option<Permit<'_>> {
        let mut s = self.lock();
        loop {
            if s.released || give_up() {
                return None;
            }
            let now = Instant::now();
            let held = s.hold_until.and_then(|t| t.checked_duration_since(now));
            // paced: a session more would only make the waiting longer
            let busy = s.gap.is_some() && !s.waiting.is_empty();
            match held {
                None if s.running < s.limit && !busy => {
                    s.running += 1;
                    return Some(Permit(self));
                }
                _ => {
                    let wait = held.unwrap_or(POLL).min(POLL);
                    s = self.wait(s, wait);
                }
            }
        }
    }

    /// Takes in a 429 whose server asked for `wait` (else 1 s): the sessions allowed at once
    /// and the pace are halved (not below 1 session), unless a hold from an earlier 429 is
    /// still on (the same burst of refusals), and no request goes out until the wait has
    /// passed.
    pub fn rate_limited(&self, wait: Option<Duration>) {
        let now = Instant::now();
        let until = now + wait.unwrap_or(DEFAULT_HOLD);
        let mut s = self.lock();
        s.rate_limited += 1;
        if !self.adaptive {
            return;
        }
        let on_hold = s.hold_until.is_some_and(|t| t > now);
        s.slow_start = false;
        if !on_hold {
            s.limit = (s.limit / 2).max(1);
            s.lowest = s.lowest.min(s.limit);
            s.successes = 0;
            s.slow_down(until - now);
        }
        s.hold_until = Some(s.hold_until.map_or(until, |t| t.max(until)));
        drop(s);
        self.changed.notify_all();
    }

    /// Takes in a successful request: after as many in a row as sessions are allowed at once
    /// (about one each), one more is allowed, up to the most; before the first 429, one more
    /// after each. Once paced, the pace quickens by a 32nd.
    pub fn succeeded(&self) {
        if !self.adaptive {
            return;
        }
        let mut s = self.lock();
        s.speed_up();
        s.successes += 1;
        let stretch = if s.slow_start { 1 } else { s.limit };
        if s.successes >= stretch && s.limit < s.max {
            s.limit += 1;
            s.successes = 0;
            drop(s);
            self.changed.notify_all();
        }
    }

    /// Waits until the hold after a 429 has passed, fewer requests are in flight than
    /// sessions are allowed at once, no waiting request has a nearer deadline and, once paced,
    /// its turn has come (or until `deadline`, or the release), then counts one more request
    /// in flight, until [`answered`](Self::answered). A request whose deadline passes or whose
    /// caller lets go of it (`cancelled`, asked at least every 100 ms) stops waiting, takes no
    /// turn and is not sent.
    pub fn send(&self, deadline: Deadline, cancelled: impl Fn() -> bool) {
        let mut s = self.lock();
        let key = (deadline.instant().unwrap_or_else(far_future), s.arrivals);
        s.arrivals += 1;
        s.waiting.insert(key);
        let mut unsent = false;
        loop {
            if s.released {
                break;
            }
            if deadline.is_expired() || cancelled() {
                unsent = true;
                break;
            }
            let now = Instant::now();
            // the later of the hold's end and this request's turn
            let until = match (s.hold_until, s.next_send) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let first = s.waiting.first() == Some(&key);
            let wait = match until.and_then(|t| t.checked_duration_since(now)) {
                Some(left) => left,
                None if first && s.in_flight < s.limit => break,
                None => POLL,
            };
            let wait = deadline.remaining().map_or(wait, |r| r.min(wait)).min(POLL);
            s = self.wait(s, wait);
        }
        s.waiting.remove(&key);
        s.in_flight += 1;
        if unsent {
            drop(s);
            self.changed.notify_all();
            return;
        }
        let now = Instant::now();
        if let Some(gap) = s.gap {
            // a turn not taken is not saved up: after a quiet spell the next goes a gap later
            s.next_send = Some(now + gap);
        }
        if s.sent.len() == MEASURED {
            s.sent.pop_front();
        }
        s.sent.push_back(now);
        drop(s);
        // the next in line recounts its wait
        self.changed.notify_all();
    }

    /// Counts a request of [`send`](Self::send) answered (or failed): no longer in flight.
    pub fn answered(&self) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.changed.notify_all();
    }

    /// Lets every waiting thread and request go, now and from now on: the batch is quitting.
    pub fn release(&self) {
        self.lock().released = true;
        self.changed.notify_all();
    }

    /// Returns what the controller did so far.
    pub fn account(&self) -> Account {
        let s = self.lock();
        Account {
            rate_limited: s.rate_limited,
            limit: s.limit,
            lowest: s.lowest,
            max: s.max,
            pace: s.gap.map(|g| 1.0 / g.as_secs_f64()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, s: MutexGuard<'a, State>, d: Duration) -> MutexGuard<'a, State> {
        match self.changed.wait_timeout(s, d) {
            Ok((s, _)) => s,
            Err(p) => p.into_inner().0,
        }
    }
}

/// A time later than any deadline: the place in line of a request that has none.
fn far_future() -> Instant {
    static FAR: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *FAR.get_or_init(|| {
        let now = Instant::now();
        [100 * 365 * 24 * 3600, 365 * 24 * 3600]
            .into_iter()
            .find_map(|s| now.checked_add(Duration::from_secs(s)))
            .unwrap_or(now)
    })
}

impl AttemptHook for Throttle {
    fn before_attempt(&self, attempt: &Attempt<'_>) {
        if self.adaptive {
            self.send(attempt.deadline, || attempt.is_cancelled());
        }
    }

    fn after_attempt(&self, _: &Attempt<'_>, outcome: &AttemptOutcome) -> RetryChoice {
        if self.adaptive {
            // every attempt told before is told after: the counts stay true
            self.answered();
        }
        match outcome {
            AttemptOutcome::Status { server_wait, .. } if outcome.is_rate_limited() => {
                self.rate_limited(*server_wait);
                if self.adaptive {
                    // refused, so not acted on: sent again after the hold, within its deadline
                    RetryChoice::Again
                } else {
                    RetryChoice::AsPlanned
                }
            }
            AttemptOutcome::Success { .. } => {
                self.succeeded();
                RetryChoice::AsPlanned
            }
            _ => RetryChoice::AsPlanned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(t: &Throttle) -> usize {
        t.account().limit
    }

    /// A controller of `max` sessions grown to `max` by successes.
    fn grown(max: usize) -> Throttle {
        let t = Throttle::new(max, true);
        while limit(&t) < max {
            t.succeeded();
        }
        t
    }

    /// A controller of 8 sessions paced at one request every 400 ms, one just gone: the next
    /// waits for its turn.
    fn paced_slowly() -> Throttle {
        let t = grown(8);
        t.after_attempt(&attempt(), &limited(Duration::from_millis(1)));
        t.lock().gap = Some(Duration::from_millis(400));
        std::thread::sleep(Duration::from_millis(5));
        t.before_attempt(&attempt());
        t.answered();
        t
    }

    fn attempt() -> Attempt<'static> {
        Attempt::new(
            "sessions.create",
            "POST",
            "/v1/sessions",
            0,
            Deadline::never(),
        )
    }

    fn limited(wait: Duration) -> AttemptOutcome {
        AttemptOutcome::Status {
            status: 429,
            retryable: true,
            server_wait: Some(wait),
        }
    }

    #[test]
    fn it_starts_small_and_doubles_until_the_first_429() {
        let t = Throttle::new(256, true);
        assert_eq!(limit(&t), INITIAL);
        // one more a success: the limit doubles with each stretch
        for _ in 0..4 {
            t.succeeded();
        }
        assert_eq!(limit(&t), 8);
        for _ in 0..8 {
            t.succeeded();
        }
        assert_eq!(limit(&t), 16);
        t.rate_limited(Some(Duration::from_millis(1)));
        assert_eq!(limit(&t), 8);
        // then one more a stretch of as many successes as the limit
        for _ in 0..7 {
            t.succeeded();
        }
        assert_eq!(limit(&t), 8);
        t.succeeded();
        assert_eq!(limit(&t), 9);
        // fewer sessions than the start: all of them at once
        assert_eq!(limit(&Throttle::new(2, true)), 2);
        assert_eq!(limit(&Throttle::new(256, false)), 256);
    }

    #[test]
    fn a_429_halves_the_limit_once_per_hold_and_never_below_one() {
        let t = grown(16);
        t.rate_limited(Some(Duration::from_millis(50)));
        assert_eq!(limit(&t), 8);
        // the same burst: held already, not halved again
        t.rate_limited(Some(Duration::from_millis(50)));
        assert_eq!(limit(&t), 8);
        std::thread::sleep(Duration::from_millis(60));
        for want in [4, 2, 1, 1] {
            t.rate_limited(Some(Duration::from_millis(1)));
            assert_eq!(limit(&t), want);
            std::thread::sleep(Duration::from_millis(3));
        }
        let a = t.account();
        assert_eq!((a.rate_limited, a.lowest, a.max), (6, 1, 16));
    }

    #[test]
    fn successes_raise_the_limit_by_one_per_stretch_up_to_the_most() {
        let t = grown(4);
        t.rate_limited(Some(Duration::from_millis(1)));
        assert_eq!(limit(&t), 2);
        t.succeeded();
        assert_eq!(limit(&t), 2, "a stretch is as many successes as the limit");
        t.succeeded();
        assert_eq!(limit(&t), 3);
        for _ in 0..3 {
            t.succeeded();
        }
        assert_eq!(limit(&t), 4);
        for _ in 0..100 {
            t.succeeded();
        }
        assert_eq!(limit(&t), 4, "never past the most");
        assert_eq!(t.account().lowest, 2);
    }

    #[test]
    fn slots_follow_the_limit_and_the_hold() {
        let t = grown(4);
        let mut permits: Vec<_> = (0..4).filter_map(|_| t.acquire(|| false)).collect();
        assert_eq!(permits.len(), 4);
        // all four taken: a fifth waits, until it gives up
        let started = Instant::now();
        assert!(t
            .acquire(|| started.elapsed() > Duration::from_millis(150))
            .is_none());
        // a 429: two at once from now on, and none before the hold has passed
        assert_eq!(
            t.after_attempt(&attempt(), &limited(Duration::from_millis(300))),
            RetryChoice::Again
        );
        permits.truncate(1);
        let started = Instant::now();
        let p = t.acquire(|| false).expect("a slot after the hold");
        assert!(started.elapsed() >= Duration::from_millis(250), "held");
        assert!(t
            .acquire(|| started.elapsed() > Duration::from_millis(500))
            .is_none());
        drop((p, permits));
        assert!(t.acquire(|| false).is_some());
    }

    #[test]
    fn requests_wait_out_the_hold_within_their_deadline_or_the_release() {
        let t = Throttle::new(4, true);
        t.after_attempt(&attempt(), &limited(Duration::from_millis(200)));
        let started = Instant::now();
        t.before_attempt(&attempt());
        assert!(started.elapsed() >= Duration::from_millis(150));
        t.after_attempt(&attempt(), &limited(Duration::from_secs(30)));
        let started = Instant::now();
        let short = Attempt::new(
            "x",
            "GET",
            "/",
            0,
            Deadline::after(Duration::from_millis(100)),
        );
        t.before_attempt(&short);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "bounded by the deadline"
        );
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                t.release();
            });
            let started = Instant::now();
            t.before_attempt(&attempt());
            assert!(started.elapsed() < Duration::from_secs(5), "released");
        });
        assert!(t.acquire(|| false).is_none(), "released: no new session");
        // a 429 the server says not to retry is no rate limit to pace
        let t = Throttle::new(4, true);
        let refused = AttemptOutcome::Status {
            status: 429,
            retryable: false,
            server_wait: None,
        };
        assert_eq!(
            t.after_attempt(&attempt(), &refused),
            RetryChoice::AsPlanned
        );
        assert_eq!(t.account().rate_limited, 0);
    }

    #[test]
    fn no_more_requests_are_in_flight_than_sessions_are_allowed() {
        let t = grown(2);
        t.before_attempt(&attempt());
        t.before_attempt(&attempt());
        // a third waits for an answer to one of them
        std::thread::scope(|s| {
            let answered = s.spawn(|| {
                std::thread::sleep(Duration::from_millis(200));
                t.after_attempt(&attempt(), &AttemptOutcome::Success { status: 200 });
            });
            let started = Instant::now();
            t.before_attempt(&attempt());
            assert!(started.elapsed() >= Duration::from_millis(150), "waited");
            answered.join().unwrap();
        });
        // an attempt that ends unsent still frees its place
        t.after_attempt(&attempt(), &AttemptOutcome::Failed { retryable: false });
        let started = Instant::now();
        t.before_attempt(&attempt());
        assert!(started.elapsed() < Duration::from_millis(100));
        // a deadline bounds the wait
        let short = Attempt::new(
            "x",
            "GET",
            "/",
            0,
            Deadline::after(Duration::from_millis(100)),
        );
        let started = Instant::now();
        t.before_attempt(&short);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn from_the_first_429_requests_are_paced_at_half_the_pace_they_went() {
        let t = grown(64);
        assert_eq!(t.account().pace, None, "not paced before a 429");
        // 9 requests 20 ms apart, then a 429: paced at one every 40 ms (25 a second)
        for _ in 0..9 {
            t.before_attempt(&attempt());
            t.after_attempt(&attempt(), &AttemptOutcome::Success { status: 200 });
            std::thread::sleep(Duration::from_millis(20));
        }
        t.after_attempt(&attempt(), &limited(Duration::from_millis(1)));
        let pace = t.account().pace.expect("paced");
        assert!((10.0..=26.0).contains(&pace), "{pace} a second");
        std::thread::sleep(Duration::from_millis(5));
        let started = Instant::now();
        for _ in 0..4 {
            t.before_attempt(&attempt());
            t.answered();
        }
        // the first at once, each of the others a gap after the one before
        assert!(
            started.elapsed() >= Duration::from_millis(110),
            "{:?}",
            started.elapsed()
        );
        // a success quickens the pace by a 32nd
        t.succeeded();
        let quicker = t.account().pace.unwrap();
        assert!(
            (quicker / pace - 33.0 / 32.0).abs() < 0.01,
            "{pace} then {quicker}"
        );
        // a second 429 halves it
        t.after_attempt(&attempt(), &limited(Duration::from_millis(1)));
        let halved = t.account().pace.unwrap();
        assert!(halved <= quicker / 2.0 + 0.01, "{quicker} then {halved}");
    }

    #[test]
    fn once_paced_no_session_starts_while_a_request_waits_its_turn() {
        let t = paced_slowly();
        std::thread::scope(|s| {
            // the next request waits for its turn; meanwhile no session starts
            let waiting = s.spawn(|| {
                t.before_attempt(&attempt());
                t.answered();
            });
            std::thread::sleep(Duration::from_millis(100));
            let started = Instant::now();
            assert!(t
                .acquire(|| started.elapsed() > Duration::from_millis(100))
                .is_none());
            waiting.join().unwrap();
        });
        assert!(
            t.acquire(|| false).is_some(),
            "nothing waits: a session starts"
        );
    }

    #[test]
    fn waiting_requests_go_nearest_deadline_first() {
        let t = paced_slowly();
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            // arriving in the order late, none, soon: going soon, late, none
            for (name, deadline) in [
                ("late", Deadline::after(Duration::from_secs(600))),
                ("none", Deadline::never()),
                ("soon", Deadline::after(Duration::from_secs(60))),
            ] {
                let (t, order) = (&t, &order);
                s.spawn(move || {
                    let a = Attempt::new("x", "GET", "/", 0, deadline);
                    t.before_attempt(&a);
                    order.lock().unwrap().push(name);
                    t.answered();
                });
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        assert_eq!(*order.lock().unwrap(), ["soon", "late", "none"]);
    }

    #[test]
    fn a_request_let_go_of_stops_waiting_and_takes_no_turn() {
        let t = grown(8);
        t.after_attempt(&attempt(), &limited(Duration::from_secs(30)));
        // held for 30 s; let go of after 100 ms
        let started = Instant::now();
        t.send(Deadline::never(), || {
            started.elapsed() > Duration::from_millis(100)
        });
        t.answered();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stopped waiting"
        );
        let s = t.lock();
        assert!(s.waiting.is_empty() && s.in_flight == 0, "{s:?}");
        assert!(s.sent.is_empty(), "no turn taken: {:?}", s.sent);
    }

    #[test]
    fn a_first_429_after_a_burst_paces_at_most_16_requests_a_hold() {
        let t = grown(64);
        for _ in 0..16 {
            t.before_attempt(&attempt());
            t.answered();
        }
        // 16 requests in a few microseconds, then a 429 asking for 1 s
        t.after_attempt(&attempt(), &limited(Duration::from_secs(1)));
        let pace = t.account().pace.expect("paced");
        assert!(pace <= 16.0 + 1e-9, "{pace} a second");
    }

    #[test]
    fn a_fixed_throttle_only_counts() {
        let t = Throttle::new(4, false);
        let outcome = limited(Duration::from_secs(30));
        assert_eq!(
            t.after_attempt(&attempt(), &outcome),
            RetryChoice::AsPlanned
        );
        let started = Instant::now();
        t.before_attempt(&attempt());
        assert!(started.elapsed() < Duration::from_secs(1), "no hold");
        let a = t.account();
        assert_eq!((a.rate_limited, a.limit, a.lowest), (1, 4, 4));
        let permits: Vec<_> = (0..4).filter_map(|_| t.acquire(|| false)).collect();
        assert_eq!(permits.len(), 4);
        assert!(t.acquire(|| true).is_none());
    }

    #[test]
    fn a_cap_lowers_the_most() {
        let t = Throttle::new(256, true);
        t.cap(10);
        let a = t.account();
        assert_eq!((a.limit, a.max), (INITIAL, 10));
        t.cap(2);
        assert_eq!((limit(&t), t.account().max), (2, 2));
        t.cap(0);
        assert_eq!(t.account().max, 1);
    }
}
