// Types for scripts/agent-token.mjs (used from TypeScript by the tests).
export declare const DEV_JWT_SECRET_FILE: string;
export declare function loadOrCreateJwtSecret(env?: Record<string, string | undefined>): Promise<{ secret: string; source: "env" | "file"; created: boolean }>;
export declare function signAgentToken(secret: string, claims: { sub: string; email: string; ttlSeconds?: number }): Promise<string>;
