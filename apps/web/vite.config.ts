import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The app lives in src/app and builds to dist/public, which the local stack's web front end serves.
// `vite` (dev server) proxies /api to a running `make local` web front end (STEPSTREAM_WEB_URL).
export default defineConfig({
  root: "src/app",
  plugins: [react()],
  resolve: { dedupe: ["react", "react-dom"] },
  build: { outDir: "../../dist/public", emptyOutDir: true, target: "es2022", sourcemap: true },
  server: {
    proxy: { "/api": process.env.STEPSTREAM_WEB_URL ?? "http://127.0.0.1:8754" },
  },
});
