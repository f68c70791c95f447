-- The agents' dashboard (dashboard/): what it reads besides the agents' API of 20261130000400/0410.
--   * canned_replies: an organisation's canned replies, which an agent inserts by typing "/shortcut"
--     in the reply box (GET agents/canned-replies). Organisation members manage them (the same
--     policy as agent_settings); agents read their own organisation's.
--   * outbox_agent_read: an agent may read the delivery state (status, delivery_status) of the outbox
--     rows of conversations whose sessions they may see (RLS on agent_sessions decides), so that the
--     conversation view shows whether a WhatsApp reply was sent, delivered or read. The column grants
--     of 20261130000300_outbox.sql still apply (no payload).

create table public.canned_replies (
  id bigint generated always as identity primary key,
  org_id uuid not null references public.orgs (id) on delete cascade,
  -- What the agent types after "/": a lower-case word.
  shortcut text not null,
  body text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint canned_replies_shortcut_format check (shortcut ~ '^[a-z0-9_-]{2,32}$'),
  constraint canned_replies_body_length check (length(btrim(body)) between 1 and 2000),
  -- One reply per shortcut in an organisation: "/hours" means one thing.
  constraint canned_replies_shortcut_unique unique (org_id, shortcut)
);
comment on table public.canned_replies is
  'Canned replies of an organisation for the agents'' dashboard ("/shortcut" in the reply box).';
create trigger canned_replies_touch before update on public.canned_replies
  for each row execute function public.touch_updated_at();

alter table public.canned_replies enable row level security;
create policy canned_replies_member on public.canned_replies for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy canned_replies_agent_read on public.canned_replies for select to authenticated
  using (org_id = (select public.current_agent_org_id()));
revoke all on public.canned_replies from anon, authenticated;
grant select, insert, update, delete on public.canned_replies to authenticated;
grant all on public.canned_replies to service_role;

create policy outbox_agent_read on public.outbox for select to authenticated
  using (org_id = (select public.current_agent_org_id())
         and conversation_id in (select s.conversation_id from public.agent_sessions s));
