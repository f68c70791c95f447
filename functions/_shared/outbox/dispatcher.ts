// Delivers outbox rows (20261130000300_outbox.sql) through one sender per channel. The request that
// queued a reply delivers it right after answering (deliver(ids), in the background); the sweep
// delivers whatever is due (deliverDue). A row is claimed with a lease before it is sent and
// completed with that lease after, so the request and the sweep never both send it. Failures go
// back to the table with a retry time (exponential backoff with full jitter), or stay as 'failed'
// with their error once retrying cannot help or max_attempts is reached: visible, never dropped.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import { describeError } from "../observability/http.ts";
import { metrics } from "../observability/index.ts";

export interface OutboxRow {
  id: number;
  org_id: string;
  conversation_id: string | null;
  message_id: number | null;
  channel: string;
  kind: string;
  recipient: string | null;
  payload: Record<string, unknown>;
  idempotency_key: string;
  attempts: number;
  max_attempts: number;
  lease_token: string;
  /** The customer wrote within the last 24 hours (WhatsApp's customer-service window). */
  window_open: boolean;
  credentials: Record<string, unknown> | null;
}

export type SendResult =
  | { outcome: "sent"; providerMessageId?: string | null }
  | { outcome: "retry"; error: string; retryAfterSeconds?: number | null }
  | { outcome: "failed"; error: string }
  | { outcome: "cancelled"; error: string };

export interface Sender {
  send(row: OutboxRow, options: { requestId?: string }): Promise<SendResult>;
}

export interface OutboxDispatcherOptions {
  sql: Sql;
  senders: Record<string, Sender>;
  logger: Logger;
  /** How long a claim lasts before another worker may take the row. Default 60 s. */
  leaseSeconds?: number;
  /** First retry delay cap and the largest, in seconds. Defaults 5 s and 15 min. */
  backoffBaseSeconds?: number;
  backoffMaxSeconds?: number;
  random?: () => number;
}

export interface DeliveryReport {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
  cancelled: number;
}

export interface OutboxDispatcher {
  deliver(ids: number[], options?: { requestId?: string }): Promise<DeliveryReport>;
  deliverDue(limit?: number, options?: { requestId?: string }): Promise<DeliveryReport>;
}

/** "Full jitter" backoff: a random delay up to base·2^(attempt-1), capped. */
export function backoffSeconds(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(random() * ceiling));
}

export function createOutboxDispatcher(options: OutboxDispatcherOptions): OutboxDispatcher {
  const { sql, senders, logger } = options;
  const lease = options.leaseSeconds ?? 60;
  const base = options.backoffBaseSeconds ?? 5;
  const max = options.backoffMaxSeconds ?? 900;
  const random = options.random ?? Math.random;
  const channels = Object.keys(senders);
  if (channels.length === 0) throw new Error("createOutboxDispatcher: at least one sender is required");
  if (!(lease > 0) || !(base > 0) || !(max >= base)) throw new Error("createOutboxDispatcher: bad lease or backoff");

  async function claim(ids: number[] | null, limit: number): Promise<OutboxRow[]> {
    const [{ rows }] = await sql`
      select public.outbox_claim(${ids}::bigint[], ${limit}, ${lease}, ${channels}::text[]) as rows`;
    return rows as OutboxRow[];
  }

  async function complete(row: OutboxRow, result: SendResult): Promise<void> {
    const retryIn = result.outcome === "retry"
      ? Math.max(result.retryAfterSeconds ?? 0, backoffSeconds(row.attempts, base, max, random))
      : 0;
    await sql`
      select public.outbox_complete(${row.id}::bigint, ${row.lease_token}::uuid, ${result.outcome},
        ${result.outcome === "sent" ? result.providerMessageId ?? null : null},
        ${result.outcome === "sent" ? null : result.error}, ${retryIn})`;
  }

  async function run(rows: OutboxRow[], requestId?: string): Promise<DeliveryReport> {
    const report: DeliveryReport = { claimed: rows.length, sent: 0, retrying: 0, failed: 0, cancelled: 0 };
    for (const row of rows) {
      const log = logger.child({ outbox_id: row.id, channel: row.channel, attempt: row.attempts });
      let result: SendResult;
      try {
        result = await senders[row.channel].send(row, { requestId });
      } catch (error) {
        log.warn("outbox send threw", { error: describeError(error) });
        result = { outcome: "retry", error: describeError(error).name as string };
      }
      if (result.outcome === "retry" && row.attempts >= row.max_attempts) {
        log.error("outbox row failed for good", { error: result.error });
      }
      try {
        await complete(row, result);
      } catch (error) {
        // The lease runs out and the sweep takes the row again; it may then be sent a second time,
        // which is why the table keeps provider ids and senders pass idempotency keys where they can.
        log.error("outbox result not recorded", { error: describeError(error), outcome: result.outcome });
        continue;
      }
      const key = result.outcome === "retry" ? "retrying" : result.outcome;
      report[key] += 1;
      metrics.event("outbox", `${row.channel}:${result.outcome}`);
      if (result.outcome !== "sent") log.warn("outbox delivery did not succeed", { outcome: result.outcome, error: result.error });
    }
    return report;
  }

  return {
    async deliver(ids, opts = {}) {
      if (ids.length === 0) return { claimed: 0, sent: 0, retrying: 0, failed: 0, cancelled: 0 };
      return await run(await claim(ids, ids.length), opts.requestId);
    },
    async deliverDue(limit = 100, opts = {}) {
      return await run(await claim(null, limit), opts.requestId);
    },
  };
}
