// A new waiting customer: a short chime (Web Audio, no file to load) and a browser notification when
// the page is not in front and the agent allowed them.
let context: AudioContext | null = null;

/** Called from a user gesture (sign-in, a click) so that the browser lets the page play sound later. */
export function unlockSound(): void {
  try {
    context ??= new AudioContext();
    void context.resume();
  } catch { /* no audio */ }
}

export function chime(): void {
  if (!context || context.state !== "running") return;
  const t = context.currentTime;
  for (const [i, freq] of [880, 1320].entries()) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + i * 0.15);
    gain.gain.exponentialRampToValueAtTime(0.2, t + i * 0.15 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.15 + 0.25);
    osc.connect(gain).connect(context.destination);
    osc.start(t + i * 0.15);
    osc.stop(t + i * 0.15 + 0.3);
  }
}

export function canAskForNotifications(): boolean {
  return typeof Notification !== "undefined" && Notification.permission === "default";
}

export async function askForNotifications(): Promise<void> {
  if (typeof Notification !== "undefined") await Notification.requestPermission();
}

export function notify(title: string, body: string): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted" || !document.hidden) return;
  try {
    const n = new Notification(title, { body, tag: "switchboard-queue" });
    n.onclick = () => {
      focus();
      n.close();
    };
  } catch { /* some browsers allow notifications only from a service worker */ }
}
