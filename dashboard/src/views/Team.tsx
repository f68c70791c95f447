// Supervisors: today's and this week's figures per agent (GET stats), with small charts: sessions
// per day this week, and average first response. Each chart has the same figures as text.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api.ts";
import { day, duration } from "../format.ts";
import type { DayStats, TeamMember } from "../types.ts";

interface Props {
  api: Api;
  team: TeamMember[];
  version: number;
  onError: (e: unknown) => void;
}

interface Figures {
  id: string;
  name: string;
  status: string;
  today: number;
  week: number;
  perDay: number[];
  firstResponse: number | null;
  handling: number | null;
}

function weekDays(): string[] {
  const d = new Date();
  const monday = new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7));
  return Array.from({ length: 7 }, (_, i) => day(new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + i)));
}

export function TeamView({ api, team, version, onError }: Props) {
  const [rows, setRows] = useState<DayStats[] | null>(null);
  const days = weekDays();
  const today = day(new Date());

  useEffect(() => {
    let cancelled = false;
    api.stats(days[0], days[6]).then((r) => !cancelled && setRows(r.days)).catch(onError);
    return () => {
      cancelled = true;
    };
  }, [api, version, onError, days[0]]);

  if (!rows) return <section class="page"><h1>Team</h1><p class="muted" role="status">Loading…</p></section>;

  const figures: Figures[] = team.map((a) => {
    const mine = rows.filter((r) => r.agent_id === a.id);
    const sum = (f: (r: DayStats) => number) => mine.reduce((t, r) => t + Number(f(r)), 0);
    const firsts = sum((r) => r.first_responses);
    const ended = sum((r) => r.sessions_ended);
    return {
      id: a.id, name: a.display_name, status: a.status,
      today: Number(mine.find((r) => r.day === today)?.sessions_accepted ?? 0),
      week: sum((r) => r.sessions_accepted),
      perDay: days.map((d) => Number(mine.find((r) => r.day === d)?.sessions_accepted ?? 0)),
      firstResponse: firsts ? sum((r) => r.first_response_seconds_total) / firsts : null,
      handling: ended ? sum((r) => r.handling_seconds_total) / ended : null,
    };
  });
  const maxDay = Math.max(1, ...figures.flatMap((f) => f.perDay));
  const maxFirst = Math.max(1, ...figures.map((f) => f.firstResponse ?? 0));

  return (
    <section class="page" aria-labelledby="team-title">
      <h1 id="team-title">Team <span class="muted">(week of {days[0]})</span></h1>
      <div class="cards">
        {figures.map((f) => (
          <article key={f.id} class="card" aria-labelledby={`t-${f.id}`}>
            <h2 id={`t-${f.id}`}>{f.name} <span class={`badge status-${f.status}`}>{f.status}</span></h2>
            <dl class="figures">
              <div><dt>Today</dt><dd>{f.today}</dd></div>
              <div><dt>This week</dt><dd>{f.week}</dd></div>
              <div><dt>First response</dt><dd>{duration(f.firstResponse)}</dd></div>
              <div><dt>Handling</dt><dd>{duration(f.handling)}</dd></div>
            </dl>
            <svg class="bars" viewBox="0 0 140 40" role="img" aria-label={`Sessions accepted per day, Monday to Sunday: ${f.perDay.join(", ")}`}>
              {f.perDay.map((n, i) => {
                const h = Math.round((n / maxDay) * 30);
                return <g key={i}>
                  <rect x={i * 20 + 2} y={32 - h} width={16} height={Math.max(h, 1)} class={days[i] === today ? "today" : ""} />
                  <text x={i * 20 + 10} y={39} text-anchor="middle">{"MTWTFSS"[i]}</text>
                </g>;
              })}
            </svg>
          </article>
        ))}
      </div>
      <h2>Average first response this week</h2>
      <svg class="hbars" viewBox={`0 0 320 ${figures.length * 22 + 4}`} role="img"
        aria-label={figures.map((f) => `${f.name}: ${duration(f.firstResponse)}`).join("; ")}>
        {figures.map((f, i) => (
          <g key={f.id}>
            <text x={0} y={i * 22 + 15}>{f.name}</text>
            <rect x={110} y={i * 22 + 4} height={14} width={Math.max(1, ((f.firstResponse ?? 0) / maxFirst) * 150)} />
            <text x={115 + Math.max(1, ((f.firstResponse ?? 0) / maxFirst) * 150)} y={i * 22 + 15}>{duration(f.firstResponse)}</text>
          </g>
        ))}
      </svg>
    </section>
  );
}
