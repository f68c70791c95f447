-- Alerts, part 1: the tables. What an operator must hear about is kept as data (rules, with
-- per-organisation overrides), what fired is kept as history (incidents and their timeline), and
-- what must be said to whom is a queue of notices with one row per incident transition and
-- destination, so that a notice can never be sent twice for one transition.
--
--   alert_rule_kinds       what the evaluator knows how to check (one SQL function per kind) and
--                          whether a kind concerns the whole system or one organisation.
--   alert_rules            the shipped defaults (and any rule an operator adds): a kind, a target,
--                          a threshold over a time window, a severity, on or off.
--   alert_rule_overrides   an organisation's own values for organisation-scoped rules (null = the
--                          default's value).
--   alert_destinations     webhook URLs notices go to: an organisation's (its incidents only) or the
--                          operator's (org_id null: every incident, system-wide ones included).
--   alert_incidents        one row per incident; at most one open per rule and organisation.
--   alert_incident_events  each incident's timeline (pending, firing, resolved, notices).
--   alert_notices          the delivery queue: one row per (incident, transition, destination).
--   alert_metric_snapshots the counters the metric rules read, as they were at each evaluation, so
--                          that a rule can take their increase over its window.
--
-- Evaluation and delivery are in the next two migrations (20261130000710, 20261130000720).

-- ---------------------------------------------------------------------------------------------
-- Kinds and rules
-- ---------------------------------------------------------------------------------------------
create table public.alert_rule_kinds (
  kind text primary key check (kind ~ '^[a-z][a-z0-9_]*$'),
  -- 'system': one incident for the whole installation (org_id null); 'org': one per organisation.
  scope text not null check (scope in ('system', 'org')),
  -- The function evaluate_alerts() calls: (p_now timestamptz) returns setof alert_observation.
  evaluator text not null,
  -- How values and thresholds read: 'ms', 'ratio' (0..1, shown as a percentage), 'count', 'seconds'.
  unit text not null check (unit in ('ms', 'ratio', 'count', 'seconds')),
  -- Counters (metric_samples names) the kind reads; evaluate_alerts() snapshots them each run.
  metrics text[] not null default '{}',
  description text not null,
  -- Lets alert_rules prove with a foreign key that a rule's scope is its kind's.
  constraint alert_rule_kinds_kind_scope unique (kind, scope)
);
comment on table public.alert_rule_kinds is
  'What evaluate_alerts() can check: one evaluator function per kind. Rows ship with the migrations.';

insert into public.alert_rule_kinds (kind, scope, evaluator, unit, metrics, description) values
  ('http_latency', 'system', 'public.alert_check_http_latency', 'ms',
   '{switchboard_http_request_duration_seconds_sum,switchboard_http_request_duration_seconds_count}',
   'mean response time of a function over the window, in ms, above the threshold'),
  ('http_error_rate', 'system', 'public.alert_check_http_error_rate', 'ratio',
   '{switchboard_http_requests_total,switchboard_degraded_answers_total}',
   'share of a function''s answers that failed (5xx) or fell back (degraded), above the threshold; refused requests (4xx: forged, unsigned, malformed) count neither way'),
  ('cache_hit_ratio', 'system', 'public.alert_check_cache_hit_ratio', 'ratio',
   '{switchboard_cache_requests_total}',
   'share of a cache''s lookups that hit, below the threshold'),
  ('breaker_open', 'system', 'public.alert_check_breaker_open', 'count', '{}',
   'circuit breakers not closed, as isolates reported them in the last window'),
  ('cron_failed', 'system', 'public.alert_check_cron_failed', 'count', '{}',
   'pg_cron jobs whose last run failed'),
  ('webhook_silence', 'org', 'public.alert_check_webhook_silence', 'count', '{}',
   'Telnyx webhook requests in the window, below the threshold, during the organisation''s business hours, when it had at least min_events in the hour before'),
  ('outbox_stuck', 'org', 'public.alert_check_outbox_stuck', 'count', '{}',
   'outbox messages undelivered (pending, sending, failed) for longer than the window, at least the threshold'),
  ('customers_waiting', 'org', 'public.alert_check_customers_waiting', 'count', '{}',
   'customers waiting for a human for longer than the window, at least the threshold'),
  ('llm_error_rate', 'org', 'public.alert_check_llm_error_rate', 'ratio', '{}',
   'share of LLM calls in the window that failed, above the threshold, with at least min_events calls')
on conflict (kind) do nothing;

create table public.alert_rules (
  id bigint generated always as identity primary key,
  -- Stable name: incidents, overrides and notices refer to it.
  name text not null unique check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  kind text not null,
  scope text not null,
  -- What the kind looks at: a function name for http_*, a cache name for cache_hit_ratio, a
  -- webhook_logs source for webhook_silence; null = all.
  target text check (length(target) between 1 and 100),
  enabled boolean not null default true,
  threshold float8 not null check (threshold >= 0),
  -- How far back the rule looks (or, for age rules, how old is too old).
  window_seconds int not null check (window_seconds between 10 and 86400),
  -- The condition must hold this long before the incident fires (a pending incident until then).
  for_seconds int not null default 0 check (for_seconds between 0 and 86400),
  -- The condition must stay clear this long before the incident resolves: no flapping.
  clear_seconds int not null default 60 check (clear_seconds between 0 and 86400),
  -- Ratio rules: fewer events than this in the window is no evidence (the condition is false).
  -- webhook_silence: requests needed in the hour before the window for silence to mean anything.
  min_events int not null default 0 check (min_events >= 0),
  severity text not null default 'warning' check (severity in ('critical', 'warning')),
  description text not null check (length(description) between 1 and 300),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A rule's scope is its kind's (composite key).
  foreign key (kind, scope) references public.alert_rule_kinds (kind, scope),
  -- Lets overrides prove with a foreign key that they override an organisation-scoped rule.
  constraint alert_rules_name_scope unique (name, scope)
);
comment on table public.alert_rules is
  'Alert rules: the shipped defaults and any an operator adds. Organisations override org-scoped ones in alert_rule_overrides.';
create trigger alert_rules_touch before update on public.alert_rules
  for each row execute function public.touch_updated_at();

-- The shipped defaults. The four the replaced system listed (response time over 2,000 ms, error rate
-- over 5 %, no webhook logs for 5 minutes, cache hit rate under 50 %), then the ones it promised.
-- Windows are short for the webhook rules so that an incident resolves within minutes of recovery.
insert into public.alert_rules
  (name, kind, scope, target, threshold, window_seconds, for_seconds, clear_seconds, min_events, severity, description)
values
  ('telnyx_response_time', 'http_latency', 'system', 'telnyx-webhook', 2000, 60, 0, 60, 5, 'critical',
   'Telnyx webhook mean response time over 2,000 ms'),
  ('telnyx_error_rate', 'http_error_rate', 'system', 'telnyx-webhook', 0.05, 60, 0, 60, 10, 'critical',
   'Telnyx webhook errors over 5 % of answers'),
  ('telnyx_silence', 'webhook_silence', 'org', 'telnyx', 1, 300, 0, 60, 5, 'critical',
   'No Telnyx webhook requests for 5 minutes during business hours'),
  ('config_cache_hit_ratio', 'cache_hit_ratio', 'system', 'dispatcher_config', 0.5, 900, 0, 300, 100, 'warning',
   'Dispatcher configuration cache hit rate under 50 %'),
  ('breaker_open', 'breaker_open', 'system', null, 1, 120, 120, 60, 0, 'critical',
   'A circuit breaker open for more than 2 minutes'),
  ('cron_job_failed', 'cron_failed', 'system', null, 1, 3600, 0, 0, 0, 'warning',
   'A pg_cron job whose last run failed'),
  ('outbox_undelivered', 'outbox_stuck', 'org', null, 1, 300, 0, 60, 0, 'critical',
   'Outbox messages undelivered for more than 5 minutes'),
  ('customers_waiting', 'customers_waiting', 'org', null, 1, 300, 0, 60, 0, 'warning',
   'Customers waiting for a human for more than 5 minutes'),
  ('llm_error_rate', 'llm_error_rate', 'org', null, 0.2, 600, 0, 120, 5, 'warning',
   'LLM errors over 20 % of calls in 10 minutes')
on conflict (name) do nothing;

create table public.alert_rule_overrides (
  org_id uuid not null references public.orgs (id) on delete cascade,
  rule_name text not null,
  -- Always 'org': with the foreign key below, only organisation-scoped rules can be overridden.
  scope text not null default 'org' check (scope = 'org'),
  -- Null means the rule's own value.
  enabled boolean,
  threshold float8 check (threshold >= 0),
  window_seconds int check (window_seconds between 10 and 86400),
  for_seconds int check (for_seconds between 0 and 86400),
  clear_seconds int check (clear_seconds between 0 and 86400),
  min_events int check (min_events >= 0),
  severity text check (severity in ('critical', 'warning')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, rule_name),
  foreign key (rule_name, scope) references public.alert_rules (name, scope) on delete cascade on update cascade
);
comment on table public.alert_rule_overrides is
  'An organisation''s own values for organisation-scoped alert rules; null columns keep the rule''s value.';
create trigger alert_rule_overrides_touch before update on public.alert_rule_overrides
  for each row execute function public.touch_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Destinations
-- ---------------------------------------------------------------------------------------------
create table public.alert_destinations (
  id uuid primary key default gen_random_uuid(),
  -- Null: the operator's destination, which receives every incident (system-wide ones included).
  org_id uuid references public.orgs (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  -- Where notices are POSTed (JSON, Standard Webhooks signature, a Slack-compatible "text" field).
  url text not null check (url ~ '^https?://[^\s/?#]+' and length(url) <= 2000),
  -- Standard Webhooks secret: whsec_ + base64 of 24 to 64 bytes, as integrations check theirs.
  secret text not null check (secret ~ '^whsec_[A-Za-z0-9+/]{30,88}={0,2}$'
                              and length(secret) between 38 and 94 and (length(secret) - 6) % 4 = 0),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint alert_destinations_name_unique unique nulls not distinct (org_id, name)
);
comment on column public.alert_destinations.secret is
  'Signing secret. Writable by members, never readable by them (column privileges); delivery reads it via alert_claim_notices().';
create trigger alert_destinations_touch before update on public.alert_destinations
  for each row execute function public.touch_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Incidents and their timeline
-- ---------------------------------------------------------------------------------------------
create table public.alert_incidents (
  id bigint generated always as identity primary key,
  rule_name text not null references public.alert_rules (name) on delete cascade on update cascade,
  -- Null for system-wide rules.
  org_id uuid references public.orgs (id) on delete cascade,
  -- pending: the condition holds but not yet for the rule's for_seconds; firing; resolved.
  status text not null check (status in ('pending', 'firing', 'resolved')),
  severity text not null check (severity in ('critical', 'warning')),
  -- The last observed value while the condition held, and the threshold it was compared with.
  value float8,
  threshold float8 not null,
  window_seconds int not null,
  -- Copied from the rule when the condition is seen, so that clearing needs no rule lookup.
  clear_seconds int not null,
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  started_at timestamptz not null,
  fired_at timestamptz,
  -- Set when an evaluation first finds the condition clear; reset when it holds again.
  cleared_since timestamptz,
  resolved_at timestamptz,
  last_seen_at timestamptz not null,
  -- Each status has its timestamps.
  constraint alert_incidents_status_times check (
    case status
      when 'pending' then fired_at is null and resolved_at is null
      when 'firing' then fired_at is not null and resolved_at is null
      else fired_at is not null and resolved_at is not null and cleared_since is not null
    end)
);
-- One open incident per rule and organisation (system rules: org_id null, counted as one value):
-- an evaluation that finds the condition again updates that incident instead of opening another.
create unique index alert_incidents_one_open on public.alert_incidents (rule_name, org_id) nulls not distinct
  where status <> 'resolved';
create index alert_incidents_recent_idx on public.alert_incidents (started_at desc);
create index alert_incidents_org_idx on public.alert_incidents (org_id, started_at desc) where org_id is not null;
comment on table public.alert_incidents is
  'One row per alert incident; at most one open (pending or firing) per rule and organisation.';

create table public.alert_incident_events (
  id bigint generated always as identity primary key,
  incident_id bigint not null references public.alert_incidents (id) on delete cascade,
  org_id uuid,
  at timestamptz not null,
  kind text not null check (kind in ('pending', 'firing', 'resolved', 'notice_sent', 'notice_retry', 'notice_failed')),
  value float8,
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object')
);
create index alert_incident_events_incident_idx on public.alert_incident_events (incident_id, at, id);

-- ---------------------------------------------------------------------------------------------
-- Notices: the delivery queue
-- ---------------------------------------------------------------------------------------------
create table public.alert_notices (
  id bigint generated always as identity primary key,
  incident_id bigint not null references public.alert_incidents (id) on delete cascade,
  org_id uuid,
  destination_id uuid not null references public.alert_destinations (id) on delete cascade,
  transition text not null check (transition in ('firing', 'resolved')),
  -- pending: due at next_attempt_at; sending: claimed until next_attempt_at (a lease: a deliverer
  -- that died is replaced after it); sent; failed: gave up after the last attempt.
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
  -- The JSON body, fixed when the transition happened: every attempt sends the same message.
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  attempts int not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null,
  last_attempt_at timestamptz,
  -- A short reason for the last failure ('http_500', 'timeout', 'network', ...), never a body.
  last_error text check (length(last_error) <= 100),
  created_at timestamptz not null,
  sent_at timestamptz,
  constraint alert_notices_sent_at check ((status = 'sent') = (sent_at is not null)),
  -- The idempotency key: one notice per incident transition and destination, whoever evaluates.
  constraint alert_notices_once unique (incident_id, transition, destination_id)
);
create index alert_notices_due_idx on public.alert_notices (next_attempt_at) where status in ('pending', 'sending');
create index alert_notices_incident_idx on public.alert_notices (incident_id);

-- ---------------------------------------------------------------------------------------------
-- Counter snapshots for the metric rules. UNLOGGED like metric_samples, whose values they copy: a
-- crash loses both, and the rules then see no data for one window (no false alert).
-- ---------------------------------------------------------------------------------------------
create unlogged table public.alert_metric_snapshots (
  taken_at timestamptz not null,
  name text not null,
  labels jsonb not null,
  value float8 not null,
  primary key (taken_at, name, labels)
);

-- ---------------------------------------------------------------------------------------------
-- Row-level security and privileges
-- ---------------------------------------------------------------------------------------------
alter table public.alert_rule_kinds enable row level security;
alter table public.alert_rules enable row level security;
alter table public.alert_rule_overrides enable row level security;
alter table public.alert_destinations enable row level security;
alter table public.alert_incidents enable row level security;
alter table public.alert_incident_events enable row level security;
alter table public.alert_notices enable row level security;
alter table public.alert_metric_snapshots enable row level security;

-- Rules and kinds hold no tenant data: every signed-in user may read them; only operators (the
-- service role, the owner) change them.
create policy alert_rule_kinds_read on public.alert_rule_kinds for select to authenticated using (true);
create policy alert_rules_read on public.alert_rules for select to authenticated using (true);
-- Members manage their organisation's overrides and destinations, and read its incidents and
-- notices; system-wide incidents (org_id null) and the operator's destinations are not theirs.
create policy alert_rule_overrides_member on public.alert_rule_overrides for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy alert_destinations_member on public.alert_destinations for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy alert_incidents_member_read on public.alert_incidents for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy alert_incident_events_member_read on public.alert_incident_events for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy alert_notices_member_read on public.alert_notices for select to authenticated
  using (org_id in (select public.user_org_ids()));

-- Supabase grants every privilege on new tables to anon and authenticated: start from nothing.
revoke all on public.alert_rule_kinds, public.alert_rules, public.alert_rule_overrides,
  public.alert_destinations, public.alert_incidents, public.alert_incident_events, public.alert_notices,
  public.alert_metric_snapshots from anon, authenticated;
grant select on public.alert_rule_kinds, public.alert_rules, public.alert_incidents,
  public.alert_incident_events to authenticated;
grant select (id, incident_id, org_id, destination_id, transition, status, attempts, next_attempt_at,
  last_attempt_at, last_error, created_at, sent_at) on public.alert_notices to authenticated;
grant select, insert, update, delete on public.alert_rule_overrides to authenticated;
-- The secret can be written (create, rotate) but never read back, nor probed in a WHERE clause.
grant select (id, org_id, name, url, enabled, created_at, updated_at) on public.alert_destinations to authenticated;
grant insert (org_id, name, url, secret, enabled) on public.alert_destinations to authenticated;
grant update (name, url, secret, enabled) on public.alert_destinations to authenticated;
grant delete on public.alert_destinations to authenticated;
grant all on public.alert_rule_kinds, public.alert_rules, public.alert_rule_overrides,
  public.alert_destinations, public.alert_incidents, public.alert_incident_events, public.alert_notices,
  public.alert_metric_snapshots to service_role;
grant usage, select on all sequences in schema public to service_role;

-- Who changed a rule or an override, and when.
select public.enable_audit('public.alert_rules');
select public.enable_audit('public.alert_rule_overrides');
