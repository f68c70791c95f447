// History: search by phone or name, filter by agent, status and dates, paginated.
import { useEffect, useState } from "preact/hooks";
import type { Api, HistoryQuery } from "../api.ts";
import { customerLabel, dateTime, ENDED_REASONS } from "../format.ts";
import type { Agent, Session, TeamMember } from "../types.ts";

const PAGE = 20;

interface Props {
  api: Api;
  me: Agent;
  team: TeamMember[];
  onError: (e: unknown) => void;
  onOpen: (id: string) => void;
}

export function HistoryView({ api, me, team, onError, onOpen }: Props) {
  const supervisor = me.role === "supervisor";
  const [form, setForm] = useState({ search: "", agent_id: supervisor ? "" : "me", status: "", start_date: "", end_date: "" });
  const [query, setQuery] = useState<HistoryQuery>({ limit: PAGE + 1, offset: 0, agent_id: supervisor ? undefined : "me" });
  const [rows, setRows] = useState<Session[] | null>(null);

  useEffect(() => {
    let cancelled = false;
    setRows(null);
    api.history(query).then((r) => !cancelled && setRows(r.sessions)).catch(onError);
    return () => {
      cancelled = true;
    };
  }, [api, query, onError]);

  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const page = Math.floor(query.offset / PAGE) + 1;

  return (
    <section class="page" aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      <form class="filters" role="search" onSubmit={(e) => {
        e.preventDefault();
        setQuery({ limit: PAGE + 1, offset: 0, search: form.search.trim() || undefined, agent_id: form.agent_id || undefined,
          status: form.status || undefined, start_date: form.start_date || undefined, end_date: form.end_date || undefined });
      }}>
        <div><label for="h-search">Phone or name</label><input id="h-search" type="search" value={form.search} onInput={set("search")} /></div>
        <div><label for="h-agent">Agent</label>
          <select id="h-agent" value={form.agent_id} onChange={set("agent_id")} disabled={!supervisor}>
            {supervisor && <option value="">Everyone</option>}
            <option value="me">Me</option>
            {supervisor && team.filter((a) => a.id !== me.id).map((a) => <option key={a.id} value={a.id}>{a.display_name}</option>)}
          </select>
        </div>
        <div><label for="h-status">Status</label>
          <select id="h-status" value={form.status} onChange={set("status")}>
            <option value="">Any</option><option value="waiting">Waiting</option><option value="active">Active</option><option value="ended">Ended</option>
          </select>
        </div>
        <div><label for="h-from">From</label><input id="h-from" type="date" value={form.start_date} onInput={set("start_date")} /></div>
        <div><label for="h-to">To</label><input id="h-to" type="date" value={form.end_date} onInput={set("end_date")} /></div>
        <div class="submit"><button type="submit" class="primary">Search</button></div>
      </form>
      {rows === null ? <p class="muted" role="status">Loading…</p> : rows.length === 0 ? <p class="muted" role="status">No conversations match.</p> : (
        <div class="table-wrap">
          <table class="history">
            <thead><tr><th scope="col">Customer</th><th scope="col">Phone</th><th scope="col">Channel</th><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Started</th></tr></thead>
            <tbody>
              {rows.slice(0, PAGE).map((s) => (
                <tr key={s.id} data-session={s.id}>
                  <td><button type="button" class="link" onClick={() => onOpen(s.id)}>{customerLabel(s)}</button></td>
                  <td>{s.conversation.customer_phone ?? "–"}</td>
                  <td>{s.conversation.channel}</td>
                  <td>{s.agent_name ?? "–"}</td>
                  <td>{s.status === "ended" ? ENDED_REASONS[s.ended_reason ?? ""] ?? "ended" : s.status}</td>
                  <td>{dateTime(s.queued_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={query.offset === 0} onClick={() => setQuery({ ...query, offset: Math.max(0, query.offset - PAGE) })}>Previous</button>
        <span>Page {page}</span>
        <button type="button" disabled={!rows || rows.length <= PAGE} onClick={() => setQuery({ ...query, offset: query.offset + PAGE })}>Next</button>
      </nav>
    </section>
  );
}
