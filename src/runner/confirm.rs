//! Permission requests (`agent.tool_use` or `agent.mcp_tool_use` whose `evaluated_permission`
//! asks for a confirmation) that the session waits on: decided by the runner's
//! [`Confirmation`] policy, answered once with a `user.tool_confirmation`, and recorded in the
//! outcome. The call itself runs (or not) on the first confirmation the session records, this
//! runner's or anyone else's, as the view reads it.

use super::post;
use super::state::State;
use super::{Confirmation, ConfirmationRecord, ConfirmationRequest, Decision, SessionRunner};
use crate::types::{
    EventSendParams, SessionEvent, UserToolConfirmationEventParams,
    UserToolConfirmationEventParamsResult,
};

impl SessionRunner<'_> {
    /// Decides and answers the permission requests the session waits on that the policy
    /// answers, each once.
    pub(super) fn confirm_waiting(&mut self, state: &mut State) {
        if matches!(self.confirmation, Confirmation::Leave) {
            return;
        }
        let requests: Vec<ConfirmationRequest> = state
            .view
            .unconfirmed()
            .into_iter()
            .filter(|c| !state.confirmed.contains(&c.id))
            .filter_map(|c| match &c.event {
                Some(SessionEvent::AgentToolUse(u)) => Some(ConfirmationRequest::of_tool_use(u)),
                Some(SessionEvent::AgentMcpToolUse(u)) => Some(ConfirmationRequest {
                    tool_use_id: u.id.clone(),
                    name: u.name.clone(),
                    mcp_server_name: Some(u.mcp_server_name.clone()),
                    input: u.input.clone(),
                }),
                _ => None,
            })
            .collect();
        for req in requests {
            if self.cancel.is_set() {
                return;
            }
            let Some(decision) = self.confirmation.decide(&req) else {
                return;
            };
            state.confirmed.insert(&req.tool_use_id);
            let params = match &decision {
                Decision::Allow => UserToolConfirmationEventParams::new(
                    UserToolConfirmationEventParamsResult::Allow,
                    req.tool_use_id.clone(),
                ),
                Decision::Deny(m) => UserToolConfirmationEventParams::new(
                    UserToolConfirmationEventParamsResult::Deny,
                    req.tool_use_id.clone(),
                )
                .deny_message(m.clone()),
            };
            let sent = post::send_answer(
                self.client,
                &self.session_id,
                EventSendParams::one(params),
                &req.tool_use_id,
                &state.floor,
                self.deadline,
                &self.cancel,
            );
            if let Err(e) = &sent {
                log::error!(
                    "posting the confirmation of {} ({}) failed: {e}",
                    req.name,
                    req.tool_use_id
                );
            }
            state.confirmations.push(ConfirmationRecord {
                request: req,
                decision,
                posted: sent.is_ok(),
            });
        }
    }
}
