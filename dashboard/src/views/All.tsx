// Supervisors: every live session of the organisation, grouped by agent, with Assign.
import { useState } from "preact/hooks";
import { customerLabel, priorityLabel, waitedFor } from "../format.ts";
import type { Session, TeamMember } from "../types.ts";

interface Props {
  sessions: Session[];
  team: TeamMember[];
  now: number;
  onOpen: (id: string) => void;
  onAssign: (sessionId: string, agentId: string) => void;
}

export function AllView({ sessions, team, now, onOpen, onAssign }: Props) {
  const groups = new Map<string, { title: string; rows: Session[] }>();
  groups.set("waiting", { title: "Waiting", rows: [] });
  for (const s of sessions) {
    const key = s.status === "waiting" ? "waiting" : s.agent_id ?? "none";
    if (!groups.has(key)) groups.set(key, { title: s.agent_name ?? "Unassigned", rows: [] });
    groups.get(key)!.rows.push(s);
  }
  return (
    <section class="page" aria-labelledby="all-title">
      <h1 id="all-title">All live conversations <span class="muted">({sessions.length})</span></h1>
      {[...groups.entries()].map(([key, g]) => (
        <section key={key} class="group" aria-label={g.title}>
          <h2>{g.title} <span class="muted">({g.rows.length})</span></h2>
          {g.rows.length === 0 ? <p class="muted small">None.</p> : (
            <div class="table-wrap">
              <table>
                <thead><tr><th scope="col">Customer</th><th scope="col">Channel</th><th scope="col">Priority</th><th scope="col">Since</th><th scope="col">Assign</th></tr></thead>
                <tbody>
                  {g.rows.map((s) => <Row key={s.id} s={s} team={team} now={now} onOpen={onOpen} onAssign={onAssign} />)}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ))}
    </section>
  );
}

function Row({ s, team, now, onOpen, onAssign }: { s: Session; team: TeamMember[]; now: number; onOpen: (id: string) => void; onAssign: (s: string, a: string) => void }) {
  const candidates = team.filter((a) => a.id !== s.agent_id);
  const [agent, setAgent] = useState(candidates[0]?.id ?? "");
  return (
    <tr data-session={s.id}>
      <td><button type="button" class="link" onClick={() => onOpen(s.id)}>{customerLabel(s)}</button></td>
      <td>{s.conversation.channel}</td>
      <td>{priorityLabel(s.priority)}</td>
      <td>{waitedFor(s.assigned_at ?? s.queued_at, now)}</td>
      <td class="assign">
        <label class="visually-hidden" for={`assign-${s.id}`}>Assign {customerLabel(s)} to</label>
        <select id={`assign-${s.id}`} value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
          {candidates.map((a) => <option key={a.id} value={a.id}>{a.display_name} ({a.active_sessions}/{a.max_concurrent})</option>)}
        </select>
        <button type="button" disabled={!agent} onClick={() => onAssign(s.id, agent)}>Assign</button>
      </td>
    </tr>
  );
}
