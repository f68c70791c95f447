-- Chat channels: where customers reach an organisation's bot in writing, and the bot's settings.
-- Adds:
--   * chat_sites: an organisation's public web-chat widget keys (several per organisation, each can
--     be switched off); the widget names its site with site_key;
--   * chat_sessions: one per web-chat conversation, holding the hash of the customer's session token
--     (the token itself is never stored) and the customer's timezone;
--   * whatsapp_numbers: the WhatsApp Cloud API numbers (phone_number_id) events arrive for, each
--     tied to one organisation, optionally with its own access token and a template for replies
--     outside the 24-hour customer-service window;
--   * bot_settings: per-organisation prompt, model and behaviour of the chat bot (a missing row
--     means the defaults).
-- Conversations and messages are the existing tables (channel 'web' or 'whatsapp').

-- ---------------------------------------------------------------------------------------------
-- Web chat sites and sessions
-- ---------------------------------------------------------------------------------------------
create table public.chat_sites (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  -- Public: it is in the widget's page source. It names the organisation, it grants nothing else.
  site_key text not null,
  name text not null default 'Website',
  enabled boolean not null default true,
  -- Requests per minute for the whole site (all visitors together); null means the function default.
  rate_limit_per_minute int,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint chat_sites_key_unique unique (site_key),
  constraint chat_sites_key_format check (site_key ~ '^[A-Za-z0-9_-]{3,64}$'),
  constraint chat_sites_rate_limit_positive check (rate_limit_per_minute is null or rate_limit_per_minute > 0),
  constraint chat_sites_id_org_unique unique (id, org_id)
);
comment on table public.chat_sites is
  'Web-chat widget keys. A disabled site refuses new sessions and messages (404).';
create index chat_sites_org_idx on public.chat_sites (org_id);
create trigger chat_sites_touch before update on public.chat_sites
  for each row execute function public.touch_updated_at();

create table public.chat_sessions (
  -- The session_id the API returns; also the conversation's external_id.
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  site_id uuid not null,
  conversation_id uuid not null,
  -- SHA-256 of the bearer token. A database dump does not let anyone post as the customer.
  token_hash bytea not null,
  -- IANA zone the widget reported; null means the organisation's.
  timezone text,
  customer_name text,
  customer_email text,
  created_at timestamptz not null default now(),
  constraint chat_sessions_token_hash_length check (octet_length(token_hash) = 32),
  constraint chat_sessions_conversation_unique unique (conversation_id),
  foreign key (site_id, org_id) references public.chat_sites (id, org_id) on delete cascade,
  foreign key (conversation_id, org_id) references public.conversations (id, org_id) on delete cascade
);
comment on table public.chat_sessions is
  'One web-chat session per conversation: the token hash that authorises the customer, and their timezone.';

-- ---------------------------------------------------------------------------------------------
-- WhatsApp numbers
-- ---------------------------------------------------------------------------------------------
create table public.whatsapp_numbers (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  -- Meta's id of the business number (metadata.phone_number_id in webhooks; the path of sends).
  phone_number_id text not null,
  display_phone_number text,
  -- A token for this number; null means WHATSAPP_ACCESS_TOKEN. Members may write it, never read it.
  access_token text,
  -- What to send when a reply falls outside the 24-hour window: null keeps it as a note only;
  -- else {"name": "...", "language": "en_US"} of an approved template (its {{1}} gets the text).
  outside_window_template jsonb,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint whatsapp_numbers_phone_number_id_unique unique (phone_number_id),
  constraint whatsapp_numbers_phone_number_id_format check (phone_number_id ~ '^[0-9]{5,32}$'),
  constraint whatsapp_numbers_template_shape check (outside_window_template is null or (
    jsonb_typeof(outside_window_template) = 'object'
    and outside_window_template ? 'name' and outside_window_template ? 'language'))
);
comment on constraint whatsapp_numbers_phone_number_id_unique on public.whatsapp_numbers is
  'An event for a number belongs to exactly one organisation.';
create trigger whatsapp_numbers_touch before update on public.whatsapp_numbers
  for each row execute function public.touch_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Bot settings
-- ---------------------------------------------------------------------------------------------
create table public.bot_settings (
  org_id uuid primary key references public.orgs (id) on delete cascade,
  -- Added to the system prompt after the organisation's facts.
  system_prompt text,
  -- Null means OPENAI_MODEL.
  llm_model text,
  temperature real,
  -- Conversation history sent to the model, in (estimated) tokens.
  max_history_tokens int not null default 3000,
  -- Callbacks: when true, times outside business hours are refused and the bot asks again.
  callbacks_within_business_hours boolean not null default false,
  -- Language of the rule-based brain's phrases ('en', 'fr', ...).
  language text not null default 'en',
  -- Priority given to conversations the bot hands over (0 low .. 3 urgent).
  handoff_priority smallint not null default 1,
  -- Bot working memory is dropped after this long without activity.
  idle_timeout interval not null default interval '30 minutes',
  updated_at timestamptz not null default now(),
  constraint bot_settings_temperature_range check (temperature is null or temperature between 0 and 2),
  constraint bot_settings_history_bounds check (max_history_tokens between 200 and 100000),
  constraint bot_settings_priority_range check (handoff_priority between 0 and 3),
  constraint bot_settings_idle_positive check (idle_timeout > interval '0')
);
comment on table public.bot_settings is
  'Per-organisation chat bot settings; a missing row means the defaults of each column.';
create trigger bot_settings_touch before update on public.bot_settings
  for each row execute function public.touch_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Row-level security: members read and manage their organisations' rows. The WhatsApp token and
-- the session token hash are never readable by members.
-- ---------------------------------------------------------------------------------------------
alter table public.chat_sites enable row level security;
alter table public.chat_sessions enable row level security;
alter table public.whatsapp_numbers enable row level security;
alter table public.bot_settings enable row level security;

create policy chat_sites_member on public.chat_sites for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy chat_sessions_member_read on public.chat_sessions for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy whatsapp_numbers_member on public.whatsapp_numbers for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy bot_settings_member on public.bot_settings for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));

revoke all on public.chat_sites, public.chat_sessions, public.whatsapp_numbers, public.bot_settings
  from anon, authenticated;
grant select, insert, update, delete on public.chat_sites, public.bot_settings to authenticated;
grant select (id, org_id, site_id, conversation_id, timezone, customer_name, customer_email, created_at)
  on public.chat_sessions to authenticated;
grant select (id, org_id, phone_number_id, display_phone_number, outside_window_template, enabled, created_at, updated_at)
  on public.whatsapp_numbers to authenticated;
grant insert (org_id, phone_number_id, display_phone_number, access_token, outside_window_template, enabled)
  on public.whatsapp_numbers to authenticated;
grant update (phone_number_id, display_phone_number, access_token, outside_window_template, enabled)
  on public.whatsapp_numbers to authenticated;
grant delete on public.whatsapp_numbers to authenticated;
grant all on public.chat_sites, public.chat_sessions, public.whatsapp_numbers, public.bot_settings to service_role;

-- Audited: who changed a widget key or the bot's behaviour. whatsapp_numbers is not audited: the
-- trail would copy its access token into audit_logs, which members can read.
select public.enable_audit('public.chat_sites');
select public.enable_audit('public.bot_settings');
