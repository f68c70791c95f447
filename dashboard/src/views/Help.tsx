// The keyboard shortcuts overlay (?).
import { useEffect, useRef } from "preact/hooks";

export const SHORTCUTS: [string, string][] = [
  ["j / k", "Next / previous conversation (waiting, then mine)"],
  ["a", "Accept the open waiting conversation (or the first in the queue)"],
  ["r", "Focus the reply box"],
  ["Enter", "Send the reply (Shift+Enter: new line)"],
  ["/word", "Canned reply: type / and its shortcut, Tab or Enter inserts it"],
  ["e", "End the open chat (asks first)"],
  ["1 2 3 4", "Chats, All, Team, History (All and Team: supervisors)"],
  ["Esc", "Leave the reply box, close this help"],
  ["?", "Show or hide this help"],
];

export function HelpOverlay({ shortcuts, onClose }: { shortcuts: [string, string][]; onClose: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    ref.current?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <dl class="keys">
          {shortcuts.map(([k, what]) => <div key={k}><dt><kbd>{k}</kbd></dt><dd>{what}</dd></div>)}
        </dl>
        <button type="button" ref={ref} onClick={onClose}>Close</button>
      </div>
    </div>
  );
}
