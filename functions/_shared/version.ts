// Sent as X-Switchboard-Version on every answer; bump with package.json.
export const VERSION = "0.1.0";
