// The integrations function's two database calls, one round trip each.
import type { Sql } from "../db/client.ts";
import type { EventEnvelope } from "./envelope.ts";

export interface IntegrationRecord {
  id: string;
  org_id: string;
  scheme: "standard-webhooks" | "legacy-hmac";
  secret: string;
  allowed_ips: string[];
  rate_limit_per_minute: number;
  enabled: boolean;
}

export async function loadIntegration(sql: Sql, id: string): Promise<IntegrationRecord | null> {
  const [row] = await sql<{ i: IntegrationRecord | null }[]>`select public.integration_for_webhook(${id}::uuid) as i`;
  return row?.i ?? null;
}

export type IngestResult = { duplicate: false; id: number } | { duplicate: true } | { missing: true };

export async function ingestEvent(
  sql: Sql,
  args: {
    integrationId: string;
    event: EventEnvelope;
    deliveryId: string | null;
    requestId: string;
    replayTtlSeconds: number;
  },
): Promise<IngestResult> {
  const { integrationId, event, deliveryId, requestId, replayTtlSeconds } = args;
  const [row] = await sql<{ r: IngestResult }[]>`
    select public.ingest_integration_event(
      ${integrationId}::uuid, ${event.id}, ${event.type}, ${event.occurred_at}::timestamptz,
      ${JSON.stringify(event.data)}::text::jsonb, ${deliveryId}, ${requestId}, ${replayTtlSeconds}::int) as r`;
  return row.r;
}
