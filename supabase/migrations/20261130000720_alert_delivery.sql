-- Alerts, part 3: what the alerts function (delivery) and the health function (operators' view)
-- read and write, one round trip each.
--
--   alert_claim_notices()    claims due notices for one delivery run (a lease, FOR UPDATE SKIP LOCKED)
--   alert_complete_notice()  records what the attempt did: sent, retried later with backoff, or failed
--   alert_incidents_open()   the open incidents, for /health/detailed
--   alert_incidents_recent() recent incidents with their timelines and notices, for /health/incidents

-- Claims up to p_limit due notices: pending ones whose next attempt is due, and ones claimed by a
-- deliverer whose lease ran out (it died or hung mid-run). Each claimed notice becomes 'sending',
-- its attempt counted, leased for p_lease_seconds (next_attempt_at holds the lease's end).
-- The race: the schedule's request (pg_net) and npm start's timer, or two overlapping runs, can
-- claim at the same moment; FOR UPDATE SKIP LOCKED gives each row to one of them, and the status
-- change makes it invisible to the next claim until the lease ends. A row that completed meanwhile
-- is not due any more and is skipped.
-- Returns [{"id", "attempt", "url", "secret", "org_scoped", "destination_id", "transition",
--          "incident_id", "payload"}].
-- Who may call: the service role only (it returns destination secrets). Changes alert_notices.
create or replace function public.alert_claim_notices(p_limit int default 20, p_lease_seconds int default 60)
returns jsonb
language plpgsql
set search_path = ''
set lock_timeout = '2s'
as $$
declare
  v_claimed jsonb;
begin
  if p_limit not between 1 and 500 or p_lease_seconds not between 5 and 3600 then
    raise exception 'alert_claim_notices: 1-500 notices, a lease of 5-3600 s' using errcode = '22023';
  end if;
  with due as (
    select n.id from public.alert_notices n
    where n.status in ('pending', 'sending') and n.next_attempt_at <= now()
    order by n.next_attempt_at, n.id
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.alert_notices n
      set status = 'sending', attempts = n.attempts + 1, last_attempt_at = now(),
          next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where n.id = due.id
      returning n.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id, 'attempt', c.attempts, 'url', d.url, 'secret', d.secret,
           'org_scoped', d.org_id is not null, 'destination_id', d.id, 'transition', c.transition,
           'incident_id', c.incident_id, 'payload', c.payload) order by c.id), '[]'::jsonb)
    into v_claimed
  from claimed c join public.alert_destinations d on d.id = c.destination_id;
  return v_claimed;
end
$$;
revoke execute on function public.alert_claim_notices(int, int) from public, anon, authenticated;
grant execute on function public.alert_claim_notices(int, int) to service_role;

-- Records the outcome of attempt p_attempt of notice p_id:
--   p_ok               → 'sent';
--   failed, attempts left → 'pending' again, due after an exponential backoff (30 s, 1, 2, 4, 8,
--                        15 min, then every 15 min), or the receiver's Retry-After when longer
--                        (at most an hour);
--   failed, last attempt, or p_give_up (the destination can never take it: a refused URL, 410 Gone)
--                        → 'failed'.
-- Adds the outcome to the incident's timeline. Only the holder of the lease can complete: a notice
-- no longer 'sending' at that attempt (its lease ran out and another run claimed it) is left alone
-- and null is returned. p_error is a short reason ('http_500', 'timeout'), never a response body.
-- Who may call: the service role. Changes alert_notices, alert_incident_events. Returns the status.
create or replace function public.alert_complete_notice(p_id bigint, p_attempt int, p_ok boolean,
                                                        p_error text default null,
                                                        p_retry_after_seconds int default null,
                                                        p_give_up boolean default false)
returns text
language plpgsql
set search_path = ''
as $$
declare
  c_max_attempts constant int := 12;
  c_first_delay constant int := 30;
  c_max_delay constant int := 900;
  c_max_retry_after constant int := 3600;
  v_notice public.alert_notices;
  v_delay int;
begin
  v_delay := least(c_max_delay, c_first_delay * power(2, greatest(p_attempt - 1, 0))::int);
  v_delay := greatest(v_delay, least(coalesce(p_retry_after_seconds, 0), c_max_retry_after));
  update public.alert_notices n set
    status = case when p_ok then 'sent' when n.attempts >= c_max_attempts or p_give_up then 'failed' else 'pending' end,
    sent_at = case when p_ok then now() end,
    next_attempt_at = case when p_ok or n.attempts >= c_max_attempts or p_give_up then n.next_attempt_at
                           else now() + make_interval(secs => v_delay) end,
    last_error = case when p_ok then null else left(coalesce(p_error, 'error'), 100) end
  where n.id = p_id and n.status = 'sending' and n.attempts = p_attempt
  returning n.* into v_notice;
  if v_notice.id is null then
    return null;
  end if;
  insert into public.alert_incident_events (incident_id, org_id, at, kind, details)
  values (v_notice.incident_id, v_notice.org_id, now(),
          case v_notice.status when 'sent' then 'notice_sent' when 'failed' then 'notice_failed' else 'notice_retry' end,
          jsonb_strip_nulls(jsonb_build_object(
            'notice_id', v_notice.id, 'transition', v_notice.transition, 'destination_id', v_notice.destination_id,
            'attempt', v_notice.attempts, 'error', v_notice.last_error,
            'next_attempt_at', case when v_notice.status = 'pending' then v_notice.next_attempt_at end)));
  return v_notice.status;
end
$$;
revoke execute on function public.alert_complete_notice(bigint, int, boolean, text, int, boolean) from public, anon, authenticated;
grant execute on function public.alert_complete_notice(bigint, int, boolean, text, int, boolean) to service_role;

-- An incident as the operators' endpoints show it.
-- Who may call: the read functions below. Changes nothing.
create or replace function public.alert_incident_json(p_incident public.alert_incidents) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_incident.id, 'rule', p_incident.rule_name, 'kind', r.kind, 'severity', p_incident.severity,
    'status', p_incident.status, 'description', r.description, 'org_id', p_incident.org_id, 'org_name', o.name,
    'value', p_incident.value, 'threshold', p_incident.threshold, 'unit', k.unit,
    'window_seconds', p_incident.window_seconds, 'details', p_incident.details,
    'started_at', p_incident.started_at, 'fired_at', p_incident.fired_at,
    'cleared_since', p_incident.cleared_since, 'resolved_at', p_incident.resolved_at,
    'last_seen_at', p_incident.last_seen_at)
  from public.alert_rules r
  join public.alert_rule_kinds k on k.kind = r.kind
  left join public.orgs o on o.id = p_incident.org_id
  where r.name = p_incident.rule_name
$$;
revoke execute on function public.alert_incident_json(public.alert_incidents) from public, anon, authenticated;
grant execute on function public.alert_incident_json(public.alert_incidents) to service_role;

-- The open incidents (pending and firing), most severe and oldest first. For /health/detailed.
-- Who may call: the service role. Changes nothing.
create or replace function public.alert_incidents_open() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(public.alert_incident_json(i)
                            order by i.status = 'firing' desc, i.severity, i.started_at), '[]'::jsonb)
  from public.alert_incidents i
  where i.status <> 'resolved'
$$;
revoke execute on function public.alert_incidents_open() from public, anon, authenticated;
grant execute on function public.alert_incidents_open() to service_role;

-- The p_limit most recent incidents (by start), each with its timeline (in the order it happened) and its
-- notices. p_status: 'open' (pending or firing), 'resolved' or 'all'; p_org_id narrows to one
-- organisation. For GET /health/incidents.
-- Who may call: the service role. Changes nothing.
create or replace function public.alert_incidents_recent(p_limit int default 50, p_status text default 'all',
                                                         p_org_id uuid default null)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  if p_limit not between 1 and 500 or p_status not in ('open', 'resolved', 'all') then
    raise exception 'alert_incidents_recent: 1-500 incidents, status open, resolved or all' using errcode = '22023';
  end if;
  return (
    select coalesce(jsonb_agg(x.incident order by x.started_at desc, x.id desc), '[]'::jsonb)
    from (
      select i.id, i.started_at, public.alert_incident_json(i) || jsonb_build_object(
        'timeline', (select coalesce(jsonb_agg(jsonb_build_object('at', e.at, 'event', e.kind, 'value', e.value,
                                                                  'details', e.details) order by e.id), '[]'::jsonb)
                     from public.alert_incident_events e where e.incident_id = i.id),
        'notices', (select coalesce(jsonb_agg(jsonb_build_object(
                                      'id', n.id, 'transition', n.transition, 'destination', d.name,
                                      'status', n.status, 'attempts', n.attempts, 'last_error', n.last_error,
                                      'sent_at', n.sent_at) order by n.id), '[]'::jsonb)
                    from public.alert_notices n join public.alert_destinations d on d.id = n.destination_id
                    where n.incident_id = i.id)) as incident
      from public.alert_incidents i
      where (p_status = 'all' or (p_status = 'open') = (i.status <> 'resolved'))
        and (p_org_id is null or i.org_id = p_org_id)
      order by i.started_at desc, i.id desc
      limit p_limit) x);
end
$$;
revoke execute on function public.alert_incidents_recent(int, text, uuid) from public, anon, authenticated;
grant execute on function public.alert_incidents_recent(int, text, uuid) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Gauges read from tables when /metrics is scraped: what the Prometheus alerting rules
-- (prometheus/switchboard-alerts.yml) need beyond the functions' own counters. Tables other features
-- own, and pg_cron's, are read only where they exist.
--   switchboard_alert_incidents_firing{severity}
--   switchboard_circuit_breaker_reported_open{dependency}     1 when an isolate reported it not closed in 2 min
--   switchboard_cron_job_last_run_failed{jobname}             1 when the job's last run failed
--   switchboard_outbox_oldest_undelivered_seconds             age of the oldest pending/sending/failed message
--   switchboard_customers_waiting_longest_seconds             longest wait for a human
--   switchboard_llm_org_calls_today{org_id}, switchboard_llm_org_errors_today{org_id},
--   switchboard_llm_org_tokens_today{org_id}                  per organisation since 00:00 UTC (tokens when
--                                                             llm_calls has total_tokens, or prompt/completion
--                                                             or input/output token columns); the 500 busiest
-- Returns [{"name", "labels", "value"}].
-- Who may call: the service role (the metrics function). Changes nothing.
-- security definer: the cron schema is not readable by the service role on every installation.
create or replace function public.metrics_gauges() returns jsonb
language plpgsql stable
security definer
set search_path = ''
set statement_timeout = '2s'
as $$
declare
  c_max_orgs constant int := 500;
  v_out jsonb;
  v_part jsonb;
  v_tokens text;
  v_cols text[];
begin
  select jsonb_agg(jsonb_build_object('name', 'switchboard_alert_incidents_firing',
                                      'labels', jsonb_build_object('severity', s.severity),
                                      'value', (select count(*) from public.alert_incidents i
                                                where i.status = 'firing' and i.severity = s.severity)))
    into v_out from (values ('critical'), ('warning')) s(severity);

  select coalesce(jsonb_agg(jsonb_build_object('name', 'switchboard_circuit_breaker_reported_open',
                                               'labels', jsonb_build_object('dependency', b.name),
                                               'value', b.open)), '[]'::jsonb)
    into v_part
    from (select r.name, max(case when r.state = 'closed' then 0 else 1 end) as open
          from public.breaker_reports r where r.reported_at > now() - interval '2 minutes'
          group by r.name) b;
  v_out := v_out || v_part;

  if to_regclass('cron.job') is not null and to_regclass('cron.job_run_details') is not null then
    execute $q$
      select coalesce(jsonb_agg(jsonb_build_object('name', 'switchboard_cron_job_last_run_failed',
                                                   'labels', jsonb_build_object('jobname', j.jobname),
                                                   'value', case when l.status = 'failed' then 1 else 0 end)), '[]'::jsonb)
      from cron.job j
      cross join lateral (select d.status from cron.job_run_details d where d.jobid = j.jobid
                          order by d.start_time desc nulls last limit 1) l
      where j.active
    $q$ into v_part;
    v_out := v_out || v_part;
  end if;

  if to_regclass('public.outbox') is not null then
    execute $q$
      select jsonb_build_array(jsonb_build_object('name', 'switchboard_outbox_oldest_undelivered_seconds',
        'labels', '{}'::jsonb,
        'value', coalesce(extract(epoch from now() - min(o.created_at)), 0)))
      from public.outbox o where o.status in ('pending', 'sending', 'failed')
    $q$ into v_part;
    v_out := v_out || v_part;
  end if;

  if to_regclass('public.agent_sessions') is not null then
    execute $q$
      select jsonb_build_array(jsonb_build_object('name', 'switchboard_customers_waiting_longest_seconds',
        'labels', '{}'::jsonb,
        'value', coalesce(extract(epoch from now() - min(a.queued_at)), 0)))
      from public.agent_sessions a where a.status = 'waiting'
    $q$ into v_part;
    v_out := v_out || v_part;
  end if;

  if to_regclass('public.llm_calls') is not null then
    select array_agg(a.attname::text) into v_cols from pg_catalog.pg_attribute a
      where a.attrelid = 'public.llm_calls'::regclass and a.attnum > 0 and not a.attisdropped;
    v_tokens := case
      when 'total_tokens' = any (v_cols) then 'coalesce(l.total_tokens, 0)'
      when v_cols @> array['prompt_tokens', 'completion_tokens'] then 'coalesce(l.prompt_tokens, 0) + coalesce(l.completion_tokens, 0)'
      when v_cols @> array['input_tokens', 'output_tokens'] then 'coalesce(l.input_tokens, 0) + coalesce(l.output_tokens, 0)'
    end;
    execute format($q$
      with per_org as (
        select l.org_id, count(*) as calls, count(*) filter (where l.error_code is not null) as errors, %s as tokens
        from public.llm_calls l
        where l.created_at >= (date_trunc('day', now() at time zone 'UTC') at time zone 'UTC') and l.org_id is not null
        group by l.org_id order by count(*) desc limit %s
      )
      select coalesce(jsonb_agg(x.sample), '[]'::jsonb) from per_org p
      cross join lateral (values
        (jsonb_build_object('name', 'switchboard_llm_org_calls_today', 'labels', jsonb_build_object('org_id', p.org_id), 'value', p.calls)),
        (jsonb_build_object('name', 'switchboard_llm_org_errors_today', 'labels', jsonb_build_object('org_id', p.org_id), 'value', p.errors)),
        (case when p.tokens is not null then jsonb_build_object('name', 'switchboard_llm_org_tokens_today',
                                                                'labels', jsonb_build_object('org_id', p.org_id), 'value', p.tokens) end)
      ) x(sample)
      where x.sample is not null
    $q$, coalesce('sum(' || v_tokens || ')', 'null::numeric'), c_max_orgs) into v_part;
    v_out := v_out || v_part;
  end if;
  return v_out;
end
$$;
revoke execute on function public.metrics_gauges() from public, anon, authenticated;
grant execute on function public.metrics_gauges() to service_role;
