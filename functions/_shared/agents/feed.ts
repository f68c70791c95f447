// The agents' live feed: Server-Sent Events of the organisation's agent_events (queue changes,
// assignments, messages), pushed by Postgres NOTIFY and read back by position.
//
// Position: events are read in (txid, id) order and only from transactions older than every one
// still running (txid < pg_snapshot_xmin), so an event can never commit behind a position already
// handed out. The SSE id is "<txid>-<id>"; a client that reconnects with Last-Event-ID (EventSource
// does it by itself) continues exactly after it: nothing is lost while it was away, which is how the
// feed outlives the edge runtime's wall-clock limit (each response ends after AGENTS_FEED_MAX_SECONDS
// and the browser reconnects).
//
// Push: one LISTEN connection per isolate (postgres.js sql.listen) wakes the streams of the notified
// organisation; each then reads its events as its agent (RLS decides what it may see). A read that
// finds nothing yet (the writer's transaction is visible but an older one still runs) is retried a
// few times within ~0.5 s, and every stream also reads every AGENTS_FEED_POLL_MS, so a missed
// notification costs latency only. LISTEN needs a session connection: on Supabase use the direct
// database URL (port 5432), not the transaction pooler (port 6543), for this function.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import { describeError } from "../observability/http.ts";
import type { VerifiedClaims } from "./auth.ts";
import type { AgentStore, Me } from "./store.ts";

export const FEED_CHANNEL = "agent_events";

export interface Cursor {
  txid: string;
  id: string;
}

/** "123-45" → cursor; anything else → null. */
export function parseEventId(text: string | null | undefined): Cursor | null {
  const m = /^([0-9]{1,20})-([0-9]{1,19})$/.exec((text ?? "").trim());
  return m ? { txid: m[1], id: m[2] } : null;
}

/** Wakes the streams of an organisation when its events are notified. One per isolate. */
export function createFeedHub(sql: Sql, logger: Logger) {
  const subscribers = new Map<string, Set<() => void>>();
  let listening: Promise<unknown> | null = null;

  function ensureListening() {
    listening ??= sql.listen(FEED_CHANNEL, (payload) => {
      for (const wake of subscribers.get(payload) ?? []) wake();
    }).catch((error) => {
      // Polling still delivers; try LISTEN again with the next subscriber.
      logger.warn("feed: LISTEN failed, polling only", { error: describeError(error) });
      listening = null;
    });
  }

  return {
    subscribe(orgId: string, wake: () => void): () => void {
      ensureListening();
      let set = subscribers.get(orgId);
      if (!set) subscribers.set(orgId, (set = new Set()));
      set.add(wake);
      return () => {
        set!.delete(wake);
        if (set!.size === 0) subscribers.delete(orgId);
      };
    },
  };
}

export type FeedHub = ReturnType<typeof createFeedHub>;

interface EventRow {
  id: string;
  txid: string;
  type: string;
  session_id: string | null;
  conversation_id: string | null;
  agent_id: string | null;
  payload: Record<string, unknown>;
  created_at: Date;
}

export interface FeedOptions {
  store: AgentStore;
  hub: FeedHub;
  claims: VerifiedClaims;
  me: Me;
  lastEventId: Cursor | null;
  maxSeconds: number;
  heartbeatMs: number;
  pollMs: number;
  logger: Logger;
  signal?: AbortSignal;
}

const encoder = new TextEncoder();

export function feedStream(o: FeedOptions): ReadableStream<Uint8Array> {
  let cursor: Cursor | null = o.lastEventId;
  let closed = false;
  let wakeUp: (() => void) | null = null;
  let woken = false;
  const timers: number[] = [];

  const wake = () => {
    woken = true;
    wakeUp?.();
  };

  async function read(): Promise<EventRow[]> {
    return await o.store.asAgent(o.claims, async (tx) => {
      if (!cursor) {
        // A new client starts at the present: everything from transactions still running on.
        const [{ xmin }] = await tx<{ xmin: string }[]>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`;
        cursor = { txid: (BigInt(xmin) - 1n).toString(), id: "9223372036854775807" };
      }
      return await tx<EventRow[]>`
        select e.id::text as id, e.txid::text as txid, e.type, e.session_id, e.conversation_id, e.agent_id,
               e.payload, e.created_at
        from public.agent_events e
        where e.org_id = ${o.me.org_id}::uuid
          and (e.txid, e.id) > (${cursor.txid}::xid8, ${cursor.id}::bigint)
          and e.txid < pg_snapshot_xmin(pg_current_snapshot())
        order by e.txid, e.id
        limit 500`;
    });
  }

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const unsubscribe = o.hub.subscribe(o.me.org_id, wake);
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      let finished = false;
      const close = () => {
        closed = true;
        wakeUp?.();
        if (finished) return;
        finished = true;
        unsubscribe();
        for (const t of timers) clearTimeout(t);
        try {
          controller.close();
        } catch { /* already closed by the client */ }
      };
      o.signal?.addEventListener("abort", close, { once: true });
      timers.push(setTimeout(close, o.maxSeconds * 1000) as unknown as number);
      // Reconnect quickly; the client resumes from its last id.
      send(`retry: 1000\n: agents feed for ${o.me.id}\n\n`);

      let lastWrite = Date.now();
      let retries = 0;
      let first = true;
      void (async () => {
        while (!closed) {
          let rows: EventRow[] = [];
          try {
            rows = await read();
          } catch (error) {
            o.logger.warn("feed: read failed", { error: describeError(error) });
          }
          if (!cursor) break;
          // Tell a new client where it starts, so that a reconnect before any event resumes there.
          if (first && o.lastEventId === null && rows.length === 0) {
            send(`id: ${cursor.txid}-${cursor.id}\nevent: ready\ndata: {}\n\n`);
            lastWrite = Date.now();
          }
          first = false;
          for (const row of rows) {
            cursor = { txid: row.txid, id: row.id };
            send(`id: ${row.txid}-${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify({
              id: row.id, type: row.type, session_id: row.session_id, conversation_id: row.conversation_id,
              agent_id: row.agent_id, created_at: row.created_at, ...row.payload,
            })}\n\n`);
            lastWrite = Date.now();
          }
          if (rows.length === 500) continue;
          // Woken but found nothing: the writer's commit is not readable yet (an older transaction
          // still runs). Look again soon, a few times.
          let delay = o.pollMs;
          if (woken && rows.length === 0 && retries < 8) {
            delay = Math.min(o.pollMs, 10 * 2 ** retries);
            retries += 1;
          } else {
            retries = rows.length ? 0 : retries;
          }
          woken = false;
          const untilHeartbeat = Math.max(0, o.heartbeatMs - (Date.now() - lastWrite));
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Math.min(delay, untilHeartbeat)) as unknown as number;
            wakeUp = () => {
              clearTimeout(t);
              resolve();
            };
            if (woken || closed) wakeUp();
          });
          wakeUp = null;
          if (Date.now() - lastWrite >= o.heartbeatMs) {
            send(`: heartbeat ${new Date().toISOString()}\n\n`);
            lastWrite = Date.now();
          }
        }
        close();
      })();
    },
    cancel() {
      // The client went away: the loop ends at its next turn and cleans up.
      closed = true;
      wakeUp?.();
    },
  });
}
