-- A demo organisation for `npm start` and `npm run call`: a home-services company in Toronto with one
-- AI-answered number, a known caller, two clients who share a number (an ambiguous caller) and a
-- disabled number. Safe to load twice.
insert into public.orgs (id, name, default_country, currency, timezone, locale) values
  ('00000000-0000-4000-8000-000000000001', 'Pinecrest Home Services', 'CA', 'CAD', 'America/Toronto', 'en-CA')
on conflict (id) do nothing;

insert into public.phone_numbers (id, org_id, phone_number, label, ai_dispatcher_enabled) values
  ('00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000001', '+1 416 555 0100', 'Main line', true),
  ('00000000-0000-4000-8000-000000000102', '00000000-0000-4000-8000-000000000001', '+1 416 555 0109', 'Old line (AI off)', false)
on conflict (id) do nothing;

insert into public.ai_dispatcher_configs
  (id, phone_number_id, org_id, company_name, agent_name, greeting_message, instructions, business_hours, default_variables)
values (
  '00000000-0000-4000-8000-000000000201',
  '00000000-0000-4000-8000-000000000101',
  '00000000-0000-4000-8000-000000000001',
  'Pinecrest Home Services',
  'Nova',
  'Hi {{customer_first_name}}, thanks for calling {{company_name}}, this is {{agent_name}}. How can I help you today?',
  'You are {{agent_name}}, the phone assistant of {{company_name}}. It is {{current_date}} {{current_time}}; we are {{business_status}}. Caller: {{customer_name}} ({{lookup_status}}). Outstanding balance: {{outstanding_balance}}. Never read out a balance unless the caller asks.',
  '{"mon": [["08:00","18:00"]], "tue": [["08:00","18:00"]], "wed": [["08:00","18:00"]], "thu": [["08:00","18:00"]], "fri": [["08:00","17:00"]], "sat": [["09:00","13:00"]]}',
  '{"services_offered": "furnace and AC repair, plumbing, water heaters", "service_area": "Toronto and the GTA", "diagnostic_fee": "$89, waived if you go ahead with the repair", "payment_methods": "card, e-transfer, cheque", "warranty": "1 year parts and labour", "emergency_hours": "24/7 for no-heat and flooding calls"}'
) on conflict (id) do nothing;

insert into public.clients (id, org_id, name, phone, email) values
  ('00000000-0000-4000-8000-000000000301', '00000000-0000-4000-8000-000000000001', 'Jane Cooper', '(416) 555-0199', 'jane@example.com'),
  ('00000000-0000-4000-8000-000000000302', '00000000-0000-4000-8000-000000000001', 'Sam Patel', '416.555.0142', null),
  ('00000000-0000-4000-8000-000000000303', '00000000-0000-4000-8000-000000000001', 'Priya Patel', '1-416-555-0142', null)
on conflict (id) do nothing;

insert into public.jobs (id, org_id, client_id, status, services, scheduled_at, completed_at, total_amount, amount_paid) values
  ('00000000-0000-4000-8000-000000000401', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000301',
   'completed', '["Furnace repair"]', date_trunc('day', now()) - interval '40 days' + interval '15 hours',
   date_trunc('day', now()) - interval '40 days' + interval '17 hours', 420.00, 300.00),
  ('00000000-0000-4000-8000-000000000402', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000301',
   'completed', '"AC tune-up and filter change"', date_trunc('day', now()) - interval '200 days' + interval '14 hours',
   date_trunc('day', now()) - interval '200 days' + interval '15 hours', 150.00, 150.00),
  ('00000000-0000-4000-8000-000000000403', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000301',
   -- 14:00 UTC: mid-morning in Toronto.
   'scheduled', '["Water heater inspection"]', date_trunc('day', now()) + interval '6 days 14 hours', null, 95.00, 0)
on conflict (id) do nothing;

-- Chat: the demo organisation's web-chat widget key and its WhatsApp number (Meta's phone_number_id;
-- `npm start` answers Graph API calls for it locally).
insert into public.chat_sites (id, org_id, site_key, name) values
  ('00000000-0000-4000-8000-000000000501', '00000000-0000-4000-8000-000000000001', 'pinecrest-demo', 'pinecrest.example website')
on conflict (id) do nothing;

insert into public.whatsapp_numbers (id, org_id, phone_number_id, display_phone_number) values
  ('00000000-0000-4000-8000-000000000601', '00000000-0000-4000-8000-000000000001', '100000000000001', '+1 416 555 0100')
on conflict (id) do nothing;

-- Zoho SalesIQ and Desk for the demo organisation: the Zobot webhook URL ends in this key
-- (functions/v1/salesiq-webhook/pinecrest-demo-salesiq) and callbacks are filed in Desk. `npm start`
-- answers Zoho's APIs locally unless real Zoho settings are given (README, "Zoho SalesIQ and Desk").
insert into public.zoho_settings (org_id, webhook_key, desk_enabled) values
  ('00000000-0000-4000-8000-000000000001', 'pinecrest-demo-salesiq', true)
on conflict (org_id) do nothing;

-- Knowledge base: the articles the bot answers from (sectioned by a trigger as they are written; an
-- unchanged article costs nothing when the seed runs again). bench/knowledge-eval.mjs asks its
-- questions of exactly these articles.
insert into public.knowledge_documents (id, org_id, external_id, title, url, tags, language, body) values
  ('00000000-0000-4000-8000-000000000701', '00000000-0000-4000-8000-000000000001', 'services', 'Our services',
   'https://pinecrest.example/services', '{services,repair,installation,maintenance}', 'en',
$md$# What we do
Pinecrest Home Services repairs, installs and maintains home heating, cooling and plumbing. Our licensed technicians service every major brand.

## Furnace repair and installation
We repair and replace gas and electric furnaces: no heat, short cycling, strange noises, pilot and ignition problems, blower motors and thermostats. We also do yearly furnace tune-ups and safety inspections before winter.

## Air conditioning
We repair central air conditioners and ductless mini-splits, recharge refrigerant, and install new AC units. A spring AC tune-up keeps your system cooling efficiently through the summer.

## Plumbing
Our plumbers fix leaks, burst pipes, clogged drains and toilets, faucets, sump pumps and flooded basements. We also replace shut-off valves and re-pipe older homes.

## Water heaters
We repair and install tank and tankless water heaters, gas or electric. No hot water, a leaking tank or rusty water usually means your water heater needs service; most replacements are done the same day.

## What we do not do
We work on heating, cooling, plumbing and water heaters only. We do not do electrical panels or wiring, roofing, appliance repair (fridges, washers, dryers, ovens) or pool equipment.
$md$),
  ('00000000-0000-4000-8000-000000000702', '00000000-0000-4000-8000-000000000001', 'service-area', 'Service area',
   'https://pinecrest.example/service-area', '{area,locations,coverage}', 'en',
$md$# Where we work
We serve Toronto and the Greater Toronto Area (GTA), including Mississauga, Brampton, Vaughan, Markham, Richmond Hill, Oakville, Pickering and Ajax, and every Toronto neighbourhood: Etobicoke, North York, Scarborough, East York and downtown.

## Outside the GTA
We do not travel outside the Greater Toronto Area, for example to Hamilton, Barrie, Oshawa or Ottawa.
$md$),
  ('00000000-0000-4000-8000-000000000703', '00000000-0000-4000-8000-000000000001', 'fees', 'Prices and fees',
   'https://pinecrest.example/pricing', '{price,cost,fees,quote}', 'en',
$md$# Diagnostic fee
A service visit starts with a diagnosis. The diagnostic fee is $89, and it is waived if you go ahead with the repair: you only pay for the repair itself.

# Quotes
After the diagnosis the technician gives you a written, upfront quote before any work starts. The price does not change once you approve it. Installations and replacements get a free in-home estimate.
$md$),
  ('00000000-0000-4000-8000-000000000704', '00000000-0000-4000-8000-000000000001', 'warranty', 'Warranty',
   'https://pinecrest.example/warranty', '{warranty,guarantee}', 'en',
$md$# Our warranty
Every repair and installation comes with a 1-year parts and labour warranty. If the same problem comes back within a year, we fix it at no charge.

## What the warranty does not cover
The warranty does not cover damage from misuse, parts you supplied yourself, or work done by another company after our visit. Manufacturer warranties on new equipment are extra and are registered for you.
$md$),
  ('00000000-0000-4000-8000-000000000705', '00000000-0000-4000-8000-000000000001', 'payment', 'Payment',
   'https://pinecrest.example/payment', '{payment,pay,billing}', 'en',
$md$# How to pay
We accept credit and debit cards (Visa, Mastercard, American Express), Interac e-transfer and cheques. Payment is due when the work is finished; the technician emails your invoice and receipt.
$md$),
  ('00000000-0000-4000-8000-000000000706', '00000000-0000-4000-8000-000000000001', 'emergencies', 'Emergencies',
   'https://pinecrest.example/emergency', '{emergency,urgent,after-hours}', 'en',
$md$# 24/7 emergency service
We answer emergencies 24 hours a day, 7 days a week, holidays included, for no-heat calls and flooding or burst pipes. Call +1 416 555 0100 any time and a technician is sent out, usually within a few hours.

## Until the technician arrives
For a leak or flood, turn off the main water shut-off valve. If you smell gas, leave the house and call your gas utility first.
$md$),
  ('00000000-0000-4000-8000-000000000707', '00000000-0000-4000-8000-000000000001', 'booking', 'Booking an appointment',
   'https://pinecrest.example/book', '{booking,appointment,schedule,hours}', 'en',
$md$# How to book
Book a visit in this chat, by phone at +1 416 555 0100, or ask us to call you back. We offer same-day and next-day appointments in a two-hour arrival window.

## Opening hours
Our office is open Monday to Thursday 8 am to 6 pm, Friday 8 am to 5 pm and Saturday 9 am to 1 pm. We are closed on Sundays, except for emergencies.

## Rescheduling or cancelling
You can reschedule or cancel an appointment free of charge up to 24 hours before it; just tell us in the chat or call.
$md$)
on conflict (id) do update set
  title = excluded.title, body = excluded.body, url = excluded.url, tags = excluded.tags,
  language = excluded.language, external_id = excluded.external_id;

-- Human agents: two agents and a supervisor, each a Supabase Auth user (bootstrap.sql makes
-- auth.users locally). `npm run agent-token -- alex@pinecrest.example` prints a token for one.
-- The demo organisation assigns manually, so its walkthrough shows the waiting queue and Accept.
insert into auth.users (id, email) values
  ('00000000-0000-4000-8000-000000000701', 'alex@pinecrest.example'),
  ('00000000-0000-4000-8000-000000000702', 'blair@pinecrest.example'),
  ('00000000-0000-4000-8000-000000000703', 'morgan@pinecrest.example')
on conflict (id) do nothing;

insert into public.support_agents (id, org_id, user_id, display_name, email, role, status, skills, max_concurrent, timezone, shifts) values
  ('00000000-0000-4000-8000-000000000711', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000701',
   'Alex Rivera', 'alex@pinecrest.example', 'agent', 'online', '{hvac,billing}', 3, 'America/Toronto', null),
  ('00000000-0000-4000-8000-000000000712', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000702',
   'Blair Chen', 'blair@pinecrest.example', 'agent', 'online', '{plumbing}', 3, 'America/Vancouver',
   '{"mon": [["08:00","16:00"]], "tue": [["08:00","16:00"]], "wed": [["08:00","16:00"]], "thu": [["08:00","16:00"]], "fri": [["22:00","06:00"]]}'),
  ('00000000-0000-4000-8000-000000000713', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000703',
   'Morgan Lee', 'morgan@pinecrest.example', 'supervisor', 'online', '{hvac,plumbing,billing}', 5, 'America/Toronto', null)
on conflict (id) do nothing;

insert into public.agent_settings (org_id, assignment_mode) values
  ('00000000-0000-4000-8000-000000000001', 'manual')
on conflict (org_id) do nothing;

-- The template builder: the demo organisation's WhatsApp Business Account, pointing at nothing real.
-- Its WABA id and token are those of the local Graph API stand-in (scripts/stand-ins/whatsapp-graph.mjs),
-- so `POST template-builder/session/{id}/submit` works against it locally.
insert into public.whatsapp_template_accounts (org_id, waba_id, access_token) values
  ('00000000-0000-4000-8000-000000000001', '102290129340398', 'EAAG-local-test-token-0123456789')
on conflict (org_id) do nothing;

-- Morgan (the supervisor) is a member of the demo organisation, so the template builder, which reads
-- the caller's organisation from org_members, accepts `npm run agent-token -- morgan@pinecrest.example`.
insert into public.org_members (org_id, user_id, role) values
  ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000703', 'admin')
on conflict (org_id, user_id) do nothing;

-- Canned replies for the dashboard ("/hours" in the reply box); edits made later are kept.
insert into public.canned_replies (org_id, shortcut, body) values
  ('00000000-0000-4000-8000-000000000001', 'hi', 'Hi, this is a person from Pinecrest Home Services. How can I help?'),
  ('00000000-0000-4000-8000-000000000001', 'hours', 'Our office is open Monday to Thursday 8 am to 6 pm, Friday 8 am to 5 pm and Saturday 9 am to 1 pm.'),
  ('00000000-0000-4000-8000-000000000001', 'fee', 'Our diagnostic fee is $89, waived if you go ahead with the repair.'),
  ('00000000-0000-4000-8000-000000000001', 'emergency', 'For no-heat and flooding emergencies we come out 24/7. Can you tell me your address?'),
  ('00000000-0000-4000-8000-000000000001', 'thanks', 'Thanks for chatting with us. Is there anything else I can help with?')
on conflict (org_id, shortcut) do nothing;
