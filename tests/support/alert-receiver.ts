// A webhook receiver as an alert destination runs one: an HTTP server that checks each request's
// Standard Webhooks signature (the project's own verifier, as a receiver would use the spec's
// libraries) and keeps what it accepted. `failNext` makes it answer 500 to that many requests first.
import http from "node:http";
import type net from "node:net";
import { verifyStandardWebhook } from "../../functions/_shared/signatures/standard-webhooks.ts";

export interface ReceivedNotice {
  webhookId: string;
  body: { type: string; timestamp: string; text: string; data: Record<string, unknown> & { rule: string; status: string } };
}

export interface AlertReceiver {
  url: string;
  /** Every request, in order, accepted or not. */
  attempts: { webhookId: string | null; status: number }[];
  /** Requests with a valid signature that were answered 200. */
  accepted: ReceivedNotice[];
  failNext: number;
  close(): Promise<void>;
}

export async function startAlertReceiver(secret: string): Promise<AlertReceiver> {
  const receiver: AlertReceiver = {
    url: "",
    attempts: [],
    accepted: [],
    failNext: 0,
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      let status = 200;
      if (receiver.failNext > 0) {
        receiver.failNext--;
        status = 500;
      } else {
        try {
          await verifyStandardWebhook(secret, headers, raw);
          receiver.accepted.push({ webhookId: headers.get("webhook-id")!, body: JSON.parse(raw) });
        } catch {
          status = 401;
        }
      }
      receiver.attempts.push({ webhookId: headers.get("webhook-id"), status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hooks/alerts`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}
