-- The agents' dashboard (dashboard/): what it reads besides the agents' API of 20261130000400/0410.
--   * agent_settings.canned_replies: an organisation's canned replies, [{"shortcut", "text"}], which an
--     agent inserts by typing "/shortcut" in the reply box. A column of the settings row rather than a
--     table: a short list, read whole, edited rarely, with the organisation's other agent settings.
--   * outbox_agent_read: an agent may read the delivery state (status, delivery_status) of the outbox
--     rows of conversations whose sessions they may see (RLS on agent_sessions decides), so that the
--     conversation view shows whether a WhatsApp reply was sent, delivered or read. The column grants
--     of 20261130000300_outbox.sql still apply (no payload).

alter table public.agent_settings
  add column canned_replies jsonb not null default '[]'::jsonb;
-- An array of at most 200 objects, each with a shortcut of 2-32 word characters and a text of
-- 1-2000 characters (the reply box's limit is the API's, 4000; a canned reply is a starting point).
create or replace function public.canned_replies_valid(p jsonb) returns boolean
language sql immutable set search_path = ''
as $$
  select jsonb_typeof(p) = 'array' and jsonb_array_length(p) <= 200
    and not exists (
      select 1 from jsonb_array_elements(p) r
      where jsonb_typeof(r) <> 'object'
         or coalesce(r ->> 'shortcut', '') !~ '^[a-z0-9_-]{2,32}$'
         or length(btrim(coalesce(r ->> 'text', ''))) not between 1 and 2000)
    and (select count(distinct r ->> 'shortcut') from jsonb_array_elements(p) r) = jsonb_array_length(p)
$$;
-- Who may call: anyone (a pure check, used by the constraint below). Changes nothing.
grant execute on function public.canned_replies_valid(jsonb) to public;
-- Invariant: shortcuts are lower-case words, unique within the organisation; texts are not empty.
alter table public.agent_settings
  add constraint agent_settings_canned_replies_valid check (public.canned_replies_valid(canned_replies));
comment on column public.agent_settings.canned_replies is
  'Canned replies for the dashboard: [{"shortcut": "hours", "text": "..."}], shortcuts unique.';

create policy outbox_agent_read on public.outbox for select to authenticated
  using (org_id = (select public.current_agent_org_id())
         and conversation_id in (select s.conversation_id from public.agent_sessions s));
