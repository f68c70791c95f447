// The agents' dashboard: a static build (dist/) for any static host. `base` is where it is served:
// /dashboard/ by `npm start`; set DASHBOARD_BASE for a host that serves it elsewhere (e.g. "/").
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

export default defineConfig({
  root: import.meta.dirname,
  base: process.env.DASHBOARD_BASE ?? "/dashboard/",
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: { port: 5173, proxy: { "/functions": "http://127.0.0.1:54321", "/auth": "http://127.0.0.1:54321" } },
});
