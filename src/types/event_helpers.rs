//! Hand-written helpers on the generated event types, beside the types they serve: whether an
//! event ends the agent's turn, and the text of an agent's message.

use crate::types::{
    AgentMessageEvent, AgentMessageEventContent, SessionEvent, SessionStatusIdleEventStopReason,
};

impl SessionEvent {
    /// Returns whether this event ends the agent's turn for good: `session.status_terminated`,
    /// `session.deleted`, or `session.status_idle` unless it is waiting for you
    /// (`requires_action`).
    pub fn ends_turn(&self) -> bool {
        match self {
            SessionEvent::SessionStatusTerminated(_) | SessionEvent::SessionDeleted(_) => true,
            SessionEvent::SessionStatusIdle(idle) => !matches!(
                idle.stop_reason,
                SessionStatusIdleEventStopReason::RequiresAction(_)
            ),
            _ => false,
        }
    }
}

impl AgentMessageEvent {
    /// Returns the text of the message's text blocks, joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                AgentMessageEventContent::Text(t) => Some(t.text.as_str()),
                _ => None,
            })
            .collect()
    }
}
