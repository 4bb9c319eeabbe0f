//! What a batch's sessions cost: US dollar amounts as the CLI takes them (`--max-cost 2.50`)
//! and as the API writes them (integer cents), the usage of results lines totalled once per
//! session ([`Totals`]), and a batch's budget ([`Budget`]): the server-reported `list_cost` of
//! its sessions against `--max-cost`, and the cap each new session is created with. No price is
//! known here: every cost is the API's own.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// Reads a US dollar amount (`5`, `0.5`, `2.50`; at most two decimals, not negative) as cents.
pub fn parse_usd(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?}: a US dollar amount such as 5, 0.50 or 12.25");
    let t = s.trim().trim_start_matches('$');
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return Err(bad());
    }
    let dollars: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let cents: u64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    dollars
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents))
        .ok_or_else(bad)
}

/// Writes cents as dollars: `1234` is `$12.34`.
pub fn usd(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Reads the cents of a usage's `list_cost` (`None` when it has none or another currency).
pub fn list_cost_cents(usage: &Value) -> Option<u64> {
    let cost = &usage["list_cost"];
    if cost["currency"].as_str().is_some_and(|c| c != "USD") {
        return None;
    }
    cost["amount"].as_str()?.parse().ok()
}

/// Totals the usage of results lines, each session once: a session's usage is cumulative, so
/// its last line counts (a task run again in the same session pays once for it); a line with
/// no session counts alone. A line known to be its session's last ([`add_last`](Self::add_last))
/// is summed as it comes and not kept, so a batch's totals do not grow with its tasks.
#[derive(Default)]
pub struct Totals {
    /// The usage of the sessions a later line may name again (their last line so far).
    by_session: HashMap<String, Value>,
    /// Their list cost, in cents (wide enough that no sum of `u64` amounts overflows it).
    by_session_cost: u128,
    /// The usage of the lines no later line replaces, summed field by field.
    settled: Map<String, Value>,
    /// Their list cost, in cents (`None`: none of them had one).
    settled_cost: Option<u64>,
}

impl Totals {
    /// Takes in one results line (its `session_id` and `usage`); a later line of the same
    /// session replaces it.
    pub fn add_line(&mut self, line: &Value) {
        let usage = &line["usage"];
        if !usage.is_object() {
            return;
        }
        match line["session_id"].as_str() {
            Some(s) => {
                self.by_session_cost += u128::from(list_cost_cents(usage).unwrap_or(0));
                if let Some(old) = self.by_session.insert(s.to_string(), usage.clone()) {
                    self.by_session_cost -= u128::from(list_cost_cents(&old).unwrap_or(0));
                }
            }
            None => self.settle(usage),
        }
    }

    /// Takes in the last line of its session: it replaces an earlier line of that session,
    /// and no later one names the session again, so only its sum is kept.
    pub fn add_last(&mut self, line: &Value) {
        let usage = &line["usage"];
        if !usage.is_object() {
            return;
        }
        if let Some(old) = line["session_id"]
            .as_str()
            .and_then(|s| self.by_session.remove(s))
        {
            self.by_session_cost -= u128::from(list_cost_cents(&old).unwrap_or(0));
        }
        self.settle(usage);
    }

    /// Takes in a results line of an earlier run, in the file's order: only a line whose tool
    /// was killed can be followed by another of its session (its task carried on in it), so
    /// only those are kept until then; the others are summed and not kept.
    pub fn add_prior(&mut self, line: &Value) {
        if line["tool_killed"] == json!(true) {
            self.add_line(line);
        } else {
            self.add_last(line);
        }
    }

    /// Adds a usage no later line replaces into the settled sums.
    fn settle(&mut self, usage: &Value) {
        if let Some(o) = usage.as_object() {
            add_numbers(&mut self.settled, o);
        }
        if let Some(c) = list_cost_cents(usage) {
            self.settled_cost = Some(self.settled_cost.unwrap_or(0).saturating_add(c));
        }
    }

    /// Returns the list cost of every session, in cents.
    pub fn list_cost(&self) -> u64 {
        u64::try_from(self.by_session_cost)
            .unwrap_or(u64::MAX)
            .saturating_add(self.settled_cost.unwrap_or(0))
    }

    /// Sums every numeric field (nested objects too) and the list cost (`{"amount", "currency"}`).
    pub fn sum(&self) -> Map<String, Value> {
        let mut sum = self.settled.clone();
        let mut cost = self.settled_cost;
        for u in self.by_session.values() {
            if let Some(o) = u.as_object() {
                add_numbers(&mut sum, o);
            }
            if let Some(c) = list_cost_cents(u) {
                cost = Some(cost.unwrap_or(0).saturating_add(c));
            }
        }
        if let Some(c) = cost {
            sum.insert(
                "list_cost".into(),
                json!({"amount": c.to_string(), "currency": "USD"}),
            );
        }
        sum
    }

    /// Says the totals on one line: tokens, cache tokens, list cost and active seconds.
    pub fn line(&self) -> String {
        let sum = self.sum();
        let n = |k: &str| sum.get(k).and_then(Value::as_u64).unwrap_or(0);
        let cache_created: u64 = sum
            .get("cache_creation")
            .and_then(Value::as_object)
            .map(|o| o.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        let active = sum
            .get("active_seconds")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        format!(
            "input_tokens {}, output_tokens {}, cache_read_input_tokens {}, cache_creation_input_tokens {cache_created}, list_cost {}, active_seconds {active:.1}",
            n("input_tokens"),
            n("output_tokens"),
            n("cache_read_input_tokens"),
            usd(self.list_cost()),
        )
    }
}

/// Adds the numbers of `usage` into `sum`, field by field (nested objects too).
fn add_numbers(sum: &mut Map<String, Value>, usage: &Map<String, Value>) {
    for (k, v) in usage {
        match v {
            Value::Number(n) => {
                let entry = sum.entry(k.clone()).or_insert(json!(0));
                *entry = match (entry.as_u64(), n.as_u64()) {
                    (Some(a), Some(b)) => json!(a.saturating_add(b)),
                    _ => json!(entry.as_f64().unwrap_or(0.0) + n.as_f64().unwrap_or(0.0)),
                };
            }
            Value::Object(o) if k != "list_cost" => {
                let entry = sum.entry(k.clone()).or_insert_with(|| json!({}));
                if let Some(inner) = entry.as_object_mut() {
                    add_numbers(inner, o);
                }
            }
            _ => {}
        }
    }
}

/// A batch's budget: `--max-cost` for the whole batch and `--session-max-cost` for each
/// session, against what its sessions cost (the `list_cost` the API reports in their results,
/// prior runs' included).
pub struct Budget {
    /// The whole batch's cap, in cents.
    pub max: Option<u64>,
    /// Each session's cap, in cents.
    pub session_max: Option<u64>,
    totals: Mutex<Totals>,
}

impl Budget {
    /// Makes the budget of a batch whose results so far are `prior`.
    pub fn new(max: Option<u64>, session_max: Option<u64>, prior: &[Value]) -> Self {
        let mut totals = Totals::default();
        for line in prior {
            totals.add_line(line);
        }
        Budget {
            max,
            session_max,
            totals: Mutex::new(totals),
        }
    }

    /// Takes in a results line of an earlier run, in the file's order (see
    /// [`Totals::add_prior`]): what is kept does not grow with the tasks done.
    pub fn prior(&self, line: &Value) {
        self.totals().add_prior(line);
    }

    fn totals(&self) -> std::sync::MutexGuard<'_, Totals> {
        self.totals.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes in a results line as it is written: its session's last (a batch runs a task once,
    /// in the session its task was given), so only the sums grow, not what is kept.
    pub fn record(&self, line: &Value) {
        self.totals().add_last(line);
    }

    /// Returns what the batch's sessions cost so far, in cents.
    pub fn spent(&self) -> u64 {
        self.totals().list_cost()
    }

    /// Tells whether the batch's cap is reached: no new session may start.
    pub fn is_spent(&self) -> bool {
        self.max.is_some_and(|m| self.spent() >= m)
    }

    /// Returns the cap of a session starting now, in cents: the smaller of `--session-max-cost`
    /// and what is left of `--max-cost` (`None`: no cap; `Some(0)`: none may start).
    pub fn session_cap(&self) -> Option<u64> {
        let left = self.max.map(|m| m.saturating_sub(self.spent()));
        match (left, self.session_max) {
            (Some(l), Some(s)) => Some(l.min(s)),
            (l, s) => l.or(s),
        }
    }

    /// Says the totals of the batch's sessions on one line.
    pub fn line(&self) -> String {
        self.totals().line()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dollars_as_cents() {
        assert_eq!(parse_usd("5"), Ok(500));
        assert_eq!(parse_usd("0.5"), Ok(50));
        assert_eq!(parse_usd("2.25"), Ok(225));
        assert_eq!(parse_usd(".75"), Ok(75));
        assert_eq!(parse_usd("$1"), Ok(100));
        for bad in ["", ".", "-1", "1.234", "1e3", "abc", "99999999999999999999"] {
            assert!(parse_usd(bad).is_err(), "{bad}");
        }
        assert_eq!(usd(1234), "$12.34");
        assert_eq!(usd(5), "$0.05");
    }

    #[test]
    fn an_earlier_run_keeps_only_the_sessions_a_later_line_may_name() {
        let cost = |s: &str, c: u64, killed: bool| {
            json!({"session_id": s, "tool_killed": killed,
                "usage": {"output_tokens": 1, "list_cost": {"amount": c.to_string(), "currency": "USD"}}})
        };
        let mut t = Totals::default();
        t.add_prior(&cost("a", 20, true));
        t.add_prior(&cost("b", 5, false));
        // the killed one's session carried on: its later line replaces it
        t.add_prior(&cost("a", 40, false));
        assert_eq!(t.list_cost(), 45);
        assert!(t.by_session.is_empty());
        assert_eq!(t.sum()["output_tokens"], json!(2));
    }

    #[test]
    fn counts_each_session_once_and_caps_by_what_is_left() {
        let line = |s: &str, cents: u64| {
            json!({"session_id": s, "usage": {"input_tokens": 10,
                "list_cost": {"amount": cents.to_string(), "currency": "USD"}}})
        };
        let b = Budget::new(Some(100), Some(30), &[line("a", 20), line("a", 40)]);
        assert_eq!(b.spent(), 40);
        assert_eq!(b.session_cap(), Some(30));
        b.record(&line("b", 45));
        assert_eq!(b.spent(), 85);
        assert_eq!(b.session_cap(), Some(15));
        assert!(!b.is_spent());
        b.record(&line("c", 15));
        assert!(b.is_spent());
        assert_eq!(b.session_cap(), Some(0));
        let sum = b.totals().sum();
        assert_eq!(sum["input_tokens"], 30);
        assert_eq!(sum["list_cost"]["amount"], "100");
        assert_eq!(Budget::new(None, None, &[]).session_cap(), None);
    }

    #[test]
    fn keeps_nothing_per_recorded_session() {
        let line = |s: &str, cents: u64, secs: f64| {
            json!({"session_id": s, "usage": {"input_tokens": 10, "active_seconds": secs,
                "cache_creation": {"ephemeral_5m_input_tokens": 1},
                "list_cost": {"amount": cents.to_string(), "currency": "USD"}}})
        };
        // an earlier run's two lines of session a, and one of b
        let b = Budget::new(
            Some(100_000),
            None,
            &[line("a", 20, 1.0), line("a", 40, 2.0), line("b", 5, 0.5)],
        );
        assert_eq!(b.spent(), 45);
        // this run carries on in a (its last line replaces the earlier one) and runs many more
        b.record(&line("a", 50, 3.0));
        for i in 0..1000 {
            b.record(&line(&format!("s{i}"), 1, 0.25));
        }
        b.record(&json!({"session_id": null, "usage": {"input_tokens": 7}}));
        assert_eq!(b.spent(), 5 + 50 + 1000);
        let t = b.totals();
        // what is kept per session: the earlier run's b only (a was replaced by its last line)
        assert_eq!(t.by_session.len(), 1);
        let sum = t.sum();
        assert_eq!(sum["input_tokens"], 10 * 1002 + 7);
        assert_eq!(sum["active_seconds"], 0.5 + 3.0 + 250.0);
        assert_eq!(sum["cache_creation"]["ephemeral_5m_input_tokens"], 1002);
        assert_eq!(sum["list_cost"]["amount"], "1055");
        assert!(t.line().contains("list_cost $10.55"), "{}", t.line());
    }

    #[test]
    fn counts_a_later_line_of_a_session_instead_of_its_earlier_one() {
        let mut t = Totals::default();
        let line = |s: &str, cents: u64| {
            json!({"session_id": s, "usage": {"output_tokens": cents,
                "list_cost": {"amount": cents.to_string(), "currency": "USD"}}})
        };
        t.add_line(&line("a", 3));
        t.add_line(&line("a", 8));
        t.add_line(&json!({"session_id": null, "usage": {"output_tokens": 1}}));
        t.add_line(&json!({"session_id": "x", "usage": null}));
        assert_eq!(t.list_cost(), 8);
        assert_eq!(t.sum()["output_tokens"], 9);
        assert!(Totals::default().sum().is_empty());
    }

    #[test]
    fn huge_list_costs_neither_panic_nor_wrap() {
        let max = u64::MAX.to_string();
        let line = |s: &str| json!({"session_id": s, "usage": {"list_cost": {"amount": max, "currency": "USD"}}});
        let mut t = Totals::default();
        t.add_line(&line("a"));
        t.add_line(&line("b"));
        t.add_line(&line("a"));
        t.add_last(&line("c"));
        t.add_last(&line("d"));
        assert_eq!(t.list_cost(), u64::MAX);
        assert_eq!(t.sum()["list_cost"]["amount"], max);
    }
}
