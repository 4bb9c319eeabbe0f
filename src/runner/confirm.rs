//! A permission request (`agent.tool_use` or `agent.mcp_tool_use` asking for confirmation):
//! decided by the runner's [`Confirmation`] policy, answered once with a
//! `user.tool_confirmation`, and recorded in the outcome; a call allowed and posted is noted
//! as allowed.

use super::*;

impl SessionRunner<'_> {
    /// Decides and answers one permission request, unless it was answered or handled already.
    pub(super) fn confirm_one(
        &mut self,
        state: &mut State,
        ev: &SessionEvent,
        req: ConfirmationRequest,
    ) {
        if state.answered.contains(&req.tool_use_id) || state.handled.contains(&req.tool_use_id) {
            return;
        }
        state.tool_uses.insert(req.tool_use_id.clone(), ev.clone());
        let Some(decision) = self.confirmation.decide(&req) else {
            return;
        };
        state.handled.insert(req.tool_use_id.clone());
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
        let sent = self.answer(state, EventSendParams::one(params), &req.tool_use_id);
        if sent.is_ok() && decision == Decision::Allow {
            state.allowed.insert(req.tool_use_id.clone());
        }
        state.outcome.confirmations.push(ConfirmationRecord {
            request: req,
            decision,
            posted: sent.is_ok(),
        });
    }
}
