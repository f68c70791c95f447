-- Foundation: organisations and their members, the phone numbers a Telnyx AI Assistant answers,
-- each number's dispatcher configuration, clients and their jobs, webhook logs and call records.
-- Table and column names follow the schema this project replaces (phone_numbers, ai_dispatcher_configs,
-- clients, jobs, webhook_logs) so that its users can move their data across unchanged.
--
-- Row-level security is on for every table. Edge functions connect as the service role (or the
-- database owner), which bypasses it; dashboard users see only the organisations they belong to.

-- ---------------------------------------------------------------------------------------------
-- Organisations and membership
-- ---------------------------------------------------------------------------------------------
create table public.orgs (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) > 0),
  -- ISO 3166-1 alpha-2: how phone numbers typed without a country code are read.
  default_country text not null default 'US' check (default_country ~ '^[A-Z]{2}$'),
  -- ISO 4217: how balances are spoken to callers.
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  -- IANA zone: business hours and "today" are computed here, never in the server's zone.
  timezone text not null default 'America/New_York',
  locale text not null default 'en-US',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.org_members (
  org_id uuid not null references public.orgs (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'agent' check (role in ('owner', 'admin', 'agent')),
  created_at timestamptz not null default now(),
  primary key (org_id, user_id)
);
create index org_members_user_idx on public.org_members (user_id);

-- The organisations the current JWT user belongs to. security definer so that RLS policies can call
-- it without recursing into org_members' own policy. Called by RLS policies; changes nothing.
create or replace function public.user_org_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.org_id from public.org_members m where m.user_id = auth.uid()
$$;
revoke execute on function public.user_org_ids() from public;
grant execute on function public.user_org_ids() to authenticated, service_role;

-- Keeps updated_at honest whoever writes. Attached to every table that has the column.
create or replace function public.touch_updated_at() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Phone numbers to E.164, in SQL, so that every writer (functions, dashboard, SQL console) stores the
-- same form. The rules follow libphonenumber's for the countries listed in phone_country_rules: an
-- input with '+' is international; an input starting with the country's international call prefix
-- (00, 011, ...) is international; otherwise a national trunk prefix is dropped and the calling code
-- added, unless the digits already start with the calling code and have the international length
-- (libphonenumber reads "14165550199" in Canada as +1 416 555 0199). The result must have a national
-- number length the country allows, else it is null: a number we cannot read never matches anyone.
-- tests/integration/phone-normalisation.test.ts compares this function with libphonenumber-js.
-- ---------------------------------------------------------------------------------------------
create table public.phone_country_rules (
  country text primary key check (country ~ '^[A-Z]{2}$'),
  calling_code text not null check (calling_code ~ '^[1-9][0-9]{0,2}$'),
  international_prefix text not null,
  trunk_prefix text,
  national_min_length int not null,
  national_max_length int not null,
  check (national_min_length between 4 and 14 and national_max_length between national_min_length and 14)
);

insert into public.phone_country_rules values
  ('US', '1', '011', '1', 10, 10),
  ('CA', '1', '011', '1', 10, 10),
  ('PR', '1', '011', '1', 10, 10),
  ('GB', '44', '00', '0', 9, 10),
  ('IE', '353', '00', '0', 7, 9),
  ('AU', '61', '0011', '0', 9, 9),
  ('NZ', '64', '00', '0', 8, 10),
  ('IN', '91', '00', '0', 10, 10),
  ('DE', '49', '00', '0', 6, 13),
  ('FR', '33', '00', '0', 9, 9),
  ('ES', '34', '00', null, 9, 9),
  ('IT', '39', '00', null, 6, 11),
  ('NL', '31', '00', '0', 9, 9),
  ('BE', '32', '00', '0', 8, 9),
  ('CH', '41', '00', '0', 9, 9),
  ('AT', '43', '00', '0', 7, 13),
  ('SE', '46', '00', '0', 7, 9),
  ('NO', '47', '00', null, 8, 8),
  ('DK', '45', '00', null, 8, 8),
  ('PT', '351', '00', null, 9, 9),
  ('MX', '52', '00', null, 10, 10),
  ('BR', '55', '00', '0', 10, 11),
  ('ZA', '27', '00', '0', 9, 9),
  ('SG', '65', '000', null, 8, 8),
  ('AE', '971', '00', '0', 8, 9),
  ('PH', '63', '00', '0', 8, 10),
  ('IL', '972', '00', '0', 8, 9);

comment on table public.phone_country_rules is
  'Per-country dialling rules used by normalize_phone(); add a row to support another default country.';

-- Who may call: anyone (it reads only the rules table). Changes nothing.
create or replace function public.normalize_phone(raw text, default_country text default 'US')
returns text
language plpgsql stable
set search_path = ''
as $$
declare
  input text := btrim(coalesce(raw, ''));
  digits text;
  rule public.phone_country_rules;
  cc_rule public.phone_country_rules;
  national text;
  i int;
begin
  if input = '' then
    return null;
  end if;
  -- An extension ("ext. 12", "x12", ";ext=12") is not part of the number.
  input := regexp_replace(input, '\s*(;ext=|ext\.?|extension|#|x)\s*[0-9]+\s*$', '', 'i');
  -- "+44 (0)20 ..." writes the national trunk prefix in brackets; it is never dialled internationally.
  input := replace(input, '(0)', '');
  -- SIP URIs, "anonymous" and other words are not phone numbers.
  if input ~ '[A-Za-z@]' or input !~ '[0-9]' then
    return null;
  end if;
  digits := regexp_replace(input, '[^0-9]', '', 'g');

  if left(input, 1) <> '+' then
    select * into rule from public.phone_country_rules r where r.country = upper(default_country);
    if not found then
      return null;
    end if;
    if left(digits, length(rule.international_prefix)) = rule.international_prefix then
      digits := substr(digits, length(rule.international_prefix) + 1);
    else
      if rule.trunk_prefix is not null and left(digits, length(rule.trunk_prefix)) = rule.trunk_prefix
         and length(digits) - length(rule.trunk_prefix) between rule.national_min_length and rule.national_max_length then
        digits := substr(digits, length(rule.trunk_prefix) + 1);
      elsif left(digits, length(rule.calling_code)) = rule.calling_code
         and length(digits) - length(rule.calling_code) between rule.national_min_length and rule.national_max_length
         and not (length(digits) between rule.national_min_length and rule.national_max_length) then
        digits := substr(digits, length(rule.calling_code) + 1);
      end if;
      if length(digits) not between rule.national_min_length and rule.national_max_length then
        return null;
      end if;
      return '+' || rule.calling_code || digits;
    end if;
  end if;

  -- International form: E.164 allows at most 15 digits. Where we know the calling code, check the
  -- national length too; for other codes accept 8-15 digits as libphonenumber's "possible" test does.
  if length(digits) not between 8 and 15 or left(digits, 1) = '0' then
    return null;
  end if;
  for i in 1..3 loop
    select * into cc_rule from public.phone_country_rules r
      where r.calling_code = left(digits, i) order by r.country limit 1;
    if found then
      national := substr(digits, i + 1);
      if length(national) not between cc_rule.national_min_length and cc_rule.national_max_length then
        return null;
      end if;
      exit;
    end if;
  end loop;
  return '+' || digits;
end
$$;
grant execute on function public.normalize_phone(text, text) to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Phone numbers the assistant answers, and their dispatcher configuration
-- ---------------------------------------------------------------------------------------------
create table public.phone_numbers (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  phone_number text not null,
  -- Set by trigger from phone_number; the called number is matched on this, exactly.
  phone_e164 text,
  label text,
  ai_dispatcher_enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A number rings in one organisation only: the webhook must never answer with another's config.
  constraint phone_numbers_e164_unique unique (phone_e164),
  constraint phone_numbers_e164_valid check (phone_e164 is not null),
  -- Lets child tables prove with a foreign key that they belong to the same organisation.
  constraint phone_numbers_id_org_unique unique (id, org_id)
);
create index phone_numbers_org_idx on public.phone_numbers (org_id);

create table public.ai_dispatcher_configs (
  id uuid primary key default gen_random_uuid(),
  phone_number_id uuid not null unique,
  org_id uuid not null,
  company_name text not null,
  agent_name text not null default 'Alex',
  greeting_message text,
  instructions text,
  -- Null means the organisation's timezone.
  timezone text,
  -- {"mon": [["08:00","17:00"]], "sat": [["09:00","12:00"]], ...}; a missing day is closed.
  business_hours jsonb not null default '{}'::jsonb check (jsonb_typeof(business_hours) = 'object'),
  -- The business's own variables (hours text, services, fees, service area, payment methods,
  -- warranty, emergency hours, ...), returned to the assistant as they are.
  default_variables jsonb not null default '{}'::jsonb check (jsonb_typeof(default_variables) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (phone_number_id, org_id) references public.phone_numbers (id, org_id) on delete cascade
);

-- ---------------------------------------------------------------------------------------------
-- Clients and jobs
-- ---------------------------------------------------------------------------------------------
create table public.clients (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  name text not null,
  -- As the business typed it; phone_e164 is derived by trigger and is what callers are matched on.
  phone text,
  phone_e164 text,
  email text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint clients_id_org_unique unique (id, org_id)
);
-- Serves the caller lookup: (org, exact E.164). Partial: clients without a readable phone never match.
create index clients_org_phone_idx on public.clients (org_id, phone_e164) where phone_e164 is not null;

create table public.jobs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  client_id uuid not null,
  status text not null default 'scheduled'
    check (status in ('pending', 'scheduled', 'in_progress', 'completed', 'cancelled')),
  -- A JSON array of service names, or free text as older records have it.
  services jsonb not null default '[]'::jsonb
    check (jsonb_typeof(services) in ('array', 'string')),
  scheduled_at timestamptz,
  completed_at timestamptz,
  total_amount numeric(12, 2) not null default 0 check (total_amount >= 0),
  amount_paid numeric(12, 2) not null default 0 check (amount_paid >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (client_id, org_id) references public.clients (id, org_id) on delete cascade
);
create index jobs_client_idx on public.jobs (client_id, scheduled_at);

-- ---------------------------------------------------------------------------------------------
-- Normalisation triggers: phone_e164 follows phone and the organisation's default country.
-- ---------------------------------------------------------------------------------------------
create or replace function public.set_phone_e164() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  country text;
begin
  select o.default_country into country from public.orgs o where o.id = new.org_id;
  if tg_table_name = 'phone_numbers' then
    new.phone_e164 := public.normalize_phone(new.phone_number, coalesce(country, 'US'));
    if new.phone_e164 is null then
      raise exception 'phone number % is not a valid phone number for country %', new.phone_number, country
        using errcode = '22023';
    end if;
  else
    new.phone_e164 := public.normalize_phone(new.phone, coalesce(country, 'US'));
  end if;
  return new;
end
$$;

create trigger phone_numbers_e164 before insert or update of phone_number, org_id on public.phone_numbers
  for each row execute function public.set_phone_e164();
create trigger clients_e164 before insert or update of phone, org_id on public.clients
  for each row execute function public.set_phone_e164();

-- When an organisation changes its default country, its stored numbers are read again.
create or replace function public.renormalize_org_phones() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update public.clients c set phone_e164 = public.normalize_phone(c.phone, new.default_country)
    where c.org_id = new.id;
  update public.phone_numbers p set phone_e164 = public.normalize_phone(p.phone_number, new.default_country)
    where p.org_id = new.id;
  return null;
end
$$;
create trigger orgs_default_country after update of default_country on public.orgs
  for each row when (old.default_country is distinct from new.default_country)
  execute function public.renormalize_org_phones();

create trigger orgs_touch before update on public.orgs for each row execute function public.touch_updated_at();
create trigger phone_numbers_touch before update on public.phone_numbers for each row execute function public.touch_updated_at();
create trigger ai_dispatcher_configs_touch before update on public.ai_dispatcher_configs for each row execute function public.touch_updated_at();
create trigger clients_touch before update on public.clients for each row execute function public.touch_updated_at();
create trigger jobs_touch before update on public.jobs for each row execute function public.touch_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Webhook logs and call records
-- ---------------------------------------------------------------------------------------------
create table public.webhook_logs (
  id bigint generated always as identity primary key,
  -- Null when the request could not be tied to an organisation (unknown number, bad signature).
  org_id uuid references public.orgs (id) on delete cascade,
  source text not null,
  event_type text,
  event_id text,
  request_id text,
  status_code int not null,
  outcome text,
  duration_ms int,
  -- Masked: only the last two digits of each number are kept.
  caller_masked text,
  called_masked text,
  error_code text,
  created_at timestamptz not null default now()
);
create index webhook_logs_created_idx on public.webhook_logs using brin (created_at);
create index webhook_logs_org_idx on public.webhook_logs (org_id, created_at);

-- One row per Telnyx call.conversation.ended event. event_id is unique so a redelivery is harmless.
create table public.call_records (
  id uuid primary key default gen_random_uuid(),
  org_id uuid references public.orgs (id) on delete cascade,
  provider text not null default 'telnyx',
  event_id text not null,
  call_control_id text,
  call_session_id text,
  provider_conversation_id text,
  assistant_id text,
  caller text,
  called text,
  duration_sec int,
  end_reason text,
  occurred_at timestamptz,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  constraint call_records_event_unique unique (provider, event_id)
);
create index call_records_org_idx on public.call_records (org_id, occurred_at);

-- ---------------------------------------------------------------------------------------------
-- Row-level security: members read and write their organisations' rows; nobody else sees them.
-- ---------------------------------------------------------------------------------------------
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.phone_country_rules enable row level security;
alter table public.phone_numbers enable row level security;
alter table public.ai_dispatcher_configs enable row level security;
alter table public.clients enable row level security;
alter table public.jobs enable row level security;
alter table public.webhook_logs enable row level security;
alter table public.call_records enable row level security;

create policy orgs_member_read on public.orgs for select to authenticated
  using (id in (select public.user_org_ids()));
create policy orgs_member_update on public.orgs for update to authenticated
  using (id in (select public.user_org_ids())) with check (id in (select public.user_org_ids()));

create policy org_members_read on public.org_members for select to authenticated
  using (org_id in (select public.user_org_ids()));

create policy phone_country_rules_read on public.phone_country_rules for select to anon, authenticated using (true);

create policy phone_numbers_member on public.phone_numbers for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy ai_dispatcher_configs_member on public.ai_dispatcher_configs for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy clients_member on public.clients for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy jobs_member on public.jobs for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy webhook_logs_member_read on public.webhook_logs for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy call_records_member_read on public.call_records for select to authenticated
  using (org_id in (select public.user_org_ids()));

grant select, update on public.orgs to authenticated;
grant select on public.org_members, public.phone_country_rules to authenticated;
grant select on public.phone_country_rules to anon;
grant select, insert, update, delete on public.phone_numbers, public.ai_dispatcher_configs,
  public.clients, public.jobs to authenticated;
grant select on public.webhook_logs, public.call_records to authenticated;
grant all on all tables in schema public to service_role;
grant usage, select on all sequences in schema public to service_role;
