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

-- The template builder: the demo organisation's WhatsApp Business Account, pointing at nothing real.
-- Its WABA id and token are those of the local Graph API stand-in (scripts/stand-ins/whatsapp-graph.mjs),
-- so `POST template-builder/session/{id}/submit` works against it locally.
insert into public.whatsapp_template_accounts (org_id, waba_id, access_token) values
  ('00000000-0000-4000-8000-000000000001', '102290129340398', 'EAAG-local-test-token-0123456789')
on conflict (org_id) do nothing;
