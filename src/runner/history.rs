//! Reading a session's history before a run: which calls are answered, which are still
//! pending, and whether the session's turn is already over (so a run with no message has
//! nothing to do).

use super::outcome::StopReason;
use super::state::State;
use super::SessionRunner;
use crate::client::RequestOptions;
use crate::error::Result;
use crate::types::*;

impl SessionRunner<'_> {
    /// Reads the whole history, a page at a time; returns the tool uses still unanswered
    /// (none if a page fails), and how the session's last turn ended when the log's last event
    /// (tool confirmations and thread terminations aside, as the official runner counts them)
    /// ends it.
    pub(super) fn history(
        &self,
        state: &mut State,
    ) -> Result<(Vec<SessionEvent>, Option<StopReason>)> {
        let opts = RequestOptions::new().deadline(self.deadline);
        let params = SessionsEventListParams::default()
            .order(EventsListOrder::Asc)
            .limit(1000);
        let page = self
            .client
            .sessions()
            .events()
            .list_with(&self.session_id, &params, &opts)?;
        let mut pending: Vec<SessionEvent> = Vec::new();
        let mut last_end = None;
        for ev in page {
            let ev = match ev {
                Ok(ev) => ev,
                Err(e) => {
                    log::warn!("reading the history of {} failed part way ({e}); dispatching nothing from it", self.session_id);
                    return Ok((Vec::new(), None));
                }
            };
            state.note(&ev);
            if !matches!(
                ev,
                SessionEvent::UserToolConfirmation(_)
                    | SessionEvent::SessionThreadStatusTerminated(_)
            ) {
                last_end = turn_end(&ev);
            }
            match &ev {
                SessionEvent::AgentToolUse(_) if self.agent.is_some() => pending.push(ev),
                SessionEvent::AgentCustomToolUse(_)
                | SessionEvent::AgentToolUse(_)
                | SessionEvent::AgentMcpToolUse(_) => pending.push(ev),
                SessionEvent::UserCustomToolResult(_)
                | SessionEvent::UserToolConfirmation(_)
                | SessionEvent::UserToolResult(_) => pending.retain(|p| !self.settled(state, p)),
                _ => {}
            }
        }
        pending.retain(|p| !self.settled(state, p));
        Ok((pending, last_end))
    }

    /// Whether a tool use needs nothing more from this runner.
    pub(super) fn settled(&self, state: &State, ev: &SessionEvent) -> bool {
        match (ev, ev.id()) {
            (SessionEvent::AgentToolUse(_), Some(id)) if self.agent.is_some() => {
                Self::agent_settled(state, id)
            }
            (_, Some(id)) => state.answered.contains(id),
            (_, None) => true,
        }
    }
}

/// How an event ends the session's turn, if it does.
fn turn_end(ev: &SessionEvent) -> Option<StopReason> {
    match ev {
        SessionEvent::SessionStatusTerminated(_) => Some(StopReason::Terminated),
        SessionEvent::SessionDeleted(_) => Some(StopReason::Deleted),
        SessionEvent::SessionStatusIdle(idle) => match &idle.stop_reason {
            SessionStatusIdleEventStopReason::RequiresAction(_) => None,
            SessionStatusIdleEventStopReason::EndTurn(_) => Some(StopReason::EndTurn),
            SessionStatusIdleEventStopReason::RetriesExhausted(_) => {
                Some(StopReason::RetriesExhausted)
            }
            other => Some(StopReason::Idle(other.clone())),
        },
        _ => None,
    }
}
