// Rows for tests, written with plain SQL so that triggers and constraints run as in production.
import type postgres from "postgres";

export interface OrgFixture {
  orgId: string;
  numberId: string;
}

export async function createOrgWithNumber(
  sql: postgres.Sql,
  options: {
    name?: string;
    number: string;
    country?: string;
    currency?: string;
    timezone?: string;
    enabled?: boolean;
    companyName?: string;
    greeting?: string;
    businessHours?: Record<string, unknown>;
    variables?: Record<string, unknown>;
  },
): Promise<OrgFixture> {
  const [org] = await sql`
    insert into public.orgs (name, default_country, currency, timezone)
    values (${options.name ?? "Test Org"}, ${options.country ?? "CA"}, ${options.currency ?? "CAD"},
            ${options.timezone ?? "America/Toronto"})
    returning id`;
  const [number] = await sql`
    insert into public.phone_numbers (org_id, phone_number, ai_dispatcher_enabled)
    values (${org.id}, ${options.number}, ${options.enabled ?? true})
    returning id`;
  await sql`
    insert into public.ai_dispatcher_configs (phone_number_id, org_id, company_name, agent_name, greeting_message,
      business_hours, default_variables)
    values (${number.id}, ${org.id}, ${options.companyName ?? options.name ?? "Test Org"}, 'Nova',
      ${options.greeting ?? "Hi {{customer_first_name}}, this is {{company_name}}."},
      ${sql.json((options.businessHours ?? {}) as never)}, ${sql.json((options.variables ?? {}) as never)})`;
  return { orgId: org.id, numberId: number.id };
}

export async function createClient(sql: postgres.Sql, orgId: string, name: string, phone: string | null): Promise<string> {
  const [row] = await sql`insert into public.clients (org_id, name, phone) values (${orgId}, ${name}, ${phone}) returning id`;
  return row.id;
}

export async function createJob(
  sql: postgres.Sql,
  orgId: string,
  clientId: string,
  job: { status: string; services: unknown; scheduledAt: string; total?: number; paid?: number },
): Promise<void> {
  await sql`
    insert into public.jobs (org_id, client_id, status, services, scheduled_at, completed_at, total_amount, amount_paid)
    values (${orgId}, ${clientId}, ${job.status}, ${sql.json(job.services as never)}, ${job.scheduledAt},
      ${job.status === "completed" ? job.scheduledAt : null}, ${job.total ?? 0}, ${job.paid ?? 0})`;
}
