-- Status rules for live sessions: the customer may leave a live session with a person ("end chat")
-- and an expired session hands the conversation back, so the bot takes it again. Adds the
-- transitions agent -> bot and queued -> bot to conversation_transition_allowed() (first defined in
-- 20261123000300_conversations.sql; the trigger there calls it, so redefining it is enough). They are
-- made by agent_customer_end() and expire_agent_sessions() (20261130000400_human_agents.sql), which
-- end the session in the same transaction.

-- The allowed status changes, in one place:
--   bot      -> queued (handoff requested), agent (taken directly), resolved
--   queued   -> agent (an agent takes it), bot (the customer ended the wait, or it expired), resolved
--   agent    -> queued (released or transferred), bot (the customer ended the session, or it
--               expired), resolved
--   resolved -> bot, queued (reopened)
-- resolved -> agent goes through the queue.
-- Who may call: anyone. Changes nothing.
create or replace function public.conversation_transition_allowed(p_from text, p_to text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select p_from = p_to or (p_from, p_to) in (
    ('bot', 'queued'), ('bot', 'agent'), ('bot', 'resolved'),
    ('queued', 'agent'), ('queued', 'bot'), ('queued', 'resolved'),
    ('agent', 'queued'), ('agent', 'bot'), ('agent', 'resolved'),
    ('resolved', 'bot'), ('resolved', 'queued'))
$$;
grant execute on function public.conversation_transition_allowed(text, text) to anon, authenticated, service_role;
