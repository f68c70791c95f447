// Structured JSON logs, one line per event, with the request id on every line so that work done
// after the response (background tasks, outbound calls) can be followed. Secrets, raw bodies and SQL
// parameters never go here; phone numbers go through maskPhone().

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string, level: LogLevel) => void;

const consoleSink: LogSink = (line, level) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};

export function createLogger(
  base: LogFields = {},
  options: { level?: LogLevel; sink?: LogSink } = {},
): Logger {
  const min = ORDER[options.level ?? "info"];
  const sink = options.sink ?? consoleSink;
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const record: LogFields = { level, time: new Date().toISOString(), msg, ...base, ...fields };
    if (record.error instanceof Error) {
      record.error = { name: record.error.name, message: record.error.message };
    }
    sink(JSON.stringify(record), level);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }, options),
  };
}

/** "+14165550199" → "+*********99": enough to tell two calls apart in a log, not to call anyone. */
export function maskPhone(value: string | null | undefined): string | null {
  if (!value) return null;
  const digits = value.replace(/[^0-9]/g, "");
  if (digits.length < 4) return "*".repeat(value.length);
  return `${value.startsWith("+") ? "+" : ""}${"*".repeat(digits.length - 2)}${digits.slice(-2)}`;
}
