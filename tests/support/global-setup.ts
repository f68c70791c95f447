// Builds the migrated template database once per `vitest run`, with the same migrator that local
// runs and production use, and removes it afterwards.
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { migrate } from "../../scripts/migrate.mjs";
import { SERVER_URL, databaseUrl } from "./database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  const name = `sb_template_${process.pid}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end();
    throw new Error(`Cannot reach Postgres at ${SERVER_URL} (set TEST_DATABASE_URL): ${(error as Error).message}`);
  }
  await migrate(databaseUrl(name), { bootstrap: true });
  // A template must have no open connections when it is cloned.
  project.provide("templateDatabase", name);
  return async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
}
