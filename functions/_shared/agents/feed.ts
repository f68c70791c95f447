// The agents' live feed: Server-Sent Events of the organisation's agent_events (queue changes,
// assignments, messages), pushed by Postgres NOTIFY and read back by snapshot.
//
// Position: a Postgres snapshot (pg_current_snapshot(): "xmin:xmax:in-progress xids"). A client at
// snapshot S has received every event whose writing transaction is visible in S; a read at the
// current snapshot N sends the events visible in N and not in S (txid >= xmax(S), or among S's
// in-progress xids), and the client is then at N. An event whose transaction commits late is
// still not visible in S, so it is sent by the next read: nothing can slip behind a position. And a
// long transaction elsewhere on the server (another database, a maintenance batch, a migration)
// delays nothing: only transactions that wrote events matter. (The first version waited for
// txid < pg_snapshot_xmin, the oldest running transaction of the whole server: one long write
// anywhere stalled every feed until it ended.)
//
// The SSE id is the snapshot ("123:130:125,127"); EventSource sends it back as Last-Event-ID on
// reconnect and the stream continues exactly there: nothing is lost while the client was away,
// which is how the feed outlives the edge runtime's wall-clock limit (each response ends after
// AGENTS_FEED_MAX_SECONDS and the browser reconnects). A read that finds more than one page sends
// the rest with the same pair of snapshots; events inside such a page carry the composite id
// "S/N/txid/id" (resume after that event within the same pair).
//
// Push: one LISTEN connection per isolate (postgres.js sql.listen) wakes the streams of the notified
// organisation; each then reads its events as its agent (RLS decides what it may see). Every stream
// also reads every AGENTS_FEED_POLL_MS, so a missed notification (or no LISTEN at all, as on the
// embedded database) costs latency only. LISTEN needs a session connection: on Supabase use the
// direct database URL (port 5432), not the transaction pooler (port 6543), for this function.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import { describeError } from "../observability/http.ts";
import type { VerifiedClaims } from "./auth.ts";
import type { AgentStore, Me } from "./store.ts";

export const FEED_CHANNEL = "agent_events";

/** Where a client is: every event visible in `base` received, and, within a page, the events
 * visible in `upto` (and not in `base`) up to (txid, id). */
export interface Cursor {
  base: string;
  upto?: string;
  txid?: string;
  id?: string;
}

const SNAPSHOT = "[0-9]{1,20}:[0-9]{1,20}:(?:[0-9]{1,20}(?:,[0-9]{1,20})*)?";
const EVENT_ID = new RegExp(`^(${SNAPSHOT})(?:/(${SNAPSHOT})/([0-9]{1,20})/([0-9]{1,19}))?$`);

/** A feed event id ("xmin:xmax:xip" or "base/upto/txid/id") → cursor; anything else → null. */
export function parseEventId(text: string | null | undefined): Cursor | null {
  const value = (text ?? "").trim();
  if (value.length > 16_000) return null;
  const m = EVENT_ID.exec(value);
  if (!m || !snapshotValid(m[1]) || (m[2] && !snapshotValid(m[2]))) return null;
  return m[2] ? { base: m[1], upto: m[2], txid: m[3], id: m[4] } : { base: m[1] };
}

/** What Postgres accepts as a pg_snapshot: 0 < xmin <= xip (ascending) < xmax. */
function snapshotValid(text: string): boolean {
  const [xmin, xmax, xip] = text.split(":");
  let previous = BigInt(xmin);
  const hi = BigInt(xmax);
  if (previous < 1n || previous > hi) return false;
  for (const x of xip ? xip.split(",").map(BigInt) : []) {
    if (x < previous || x >= hi) return false;
    previous = x;
  }
  return true;
}

/** The SSE id of a cursor. */
export function formatEventId(c: Cursor): string {
  return c.upto ? `${c.base}/${c.upto}/${c.txid}/${c.id}` : c.base;
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

  const PAGE = 500;

  /** The events after the cursor, at most one page, and the snapshot they were read up to. */
  async function read(): Promise<{ rows: EventRow[]; upto: string }> {
    return await o.store.asAgent(o.claims, async (tx) => {
      const [{ snap }] = await tx<{ snap: string }[]>`select pg_current_snapshot()::text as snap`;
      if (!cursor) {
        // A new client starts at the present.
        cursor = { base: snap };
        return { rows: [], upto: snap };
      }
      const upto = cursor.upto ?? snap;
      const rows = await tx<EventRow[]>`
        select e.id::text as id, e.txid::text as txid, e.type, e.session_id, e.conversation_id, e.agent_id,
               e.payload, e.created_at
        from public.agent_events e
        where e.org_id = ${o.me.org_id}::uuid
          and (e.txid >= pg_snapshot_xmax(${cursor.base}::pg_snapshot)
               or e.txid in (select pg_snapshot_xip(${cursor.base}::pg_snapshot)))
          and not pg_visible_in_snapshot(e.txid, ${cursor.base}::pg_snapshot)
          and pg_visible_in_snapshot(e.txid, ${upto}::pg_snapshot)
          and (e.txid, e.id) > (${cursor.txid ?? "0"}::xid8, ${cursor.id ?? "0"}::bigint)
        order by e.txid, e.id
        limit ${PAGE}`;
      return { rows, upto };
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
          let upto: string | null = null;
          try {
            ({ rows, upto } = await read());
          } catch (error) {
            o.logger.warn("feed: read failed", { error: describeError(error) });
          }
          if (!cursor) break;
          // Tell a new client where it starts, so that a reconnect before any event resumes there.
          if (first && o.lastEventId === null && rows.length === 0) {
            send(`id: ${formatEventId(cursor)}\nevent: ready\ndata: {}\n\n`);
            lastWrite = Date.now();
          }
          first = false;
          const full = rows.length === PAGE;
          rows.forEach((row, i) => {
            const last = i === rows.length - 1;
            // After the last event of a complete read the client is at `upto`; before, inside the pair.
            const at: Cursor = last && !full ? { base: upto! } : { base: cursor!.base, upto: upto!, txid: row.txid, id: row.id };
            send(`id: ${formatEventId(at)}\nevent: ${row.type}\ndata: ${JSON.stringify({
              id: row.id, type: row.type, session_id: row.session_id, conversation_id: row.conversation_id,
              agent_id: row.agent_id, created_at: row.created_at, ...row.payload,
            })}\n\n`);
            lastWrite = Date.now();
          });
          if (upto !== null) {
            const lastRow = rows.at(-1);
            cursor = full && lastRow ? { base: cursor.base, upto, txid: lastRow.txid, id: lastRow.id } : { base: upto };
          }
          if (full) continue;
          // Woken but found nothing (a notification overtook the commit it announces, or a read
          // raced with it): look again soon, a few times.
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
