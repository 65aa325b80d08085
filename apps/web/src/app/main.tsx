import { StepstreamClient } from "@stepstream/client";
import { StepstreamProvider } from "@stepstream/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import "./styles.css";

// The page talks only to its own origin: the local stack's web front end signs each request to the
// API and the stream URL server-side, so no credential is ever in the browser.
const client = new StepstreamClient({
  apiEndpoint: new URL("/api/start", window.location.origin).href,
  streamUrl: new URL("/api/stream", window.location.origin).href,
  credentials: null,
});

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");
createRoot(root).render(
  <StrictMode>
    <StepstreamProvider client={client}>
      <App client={client} />
    </StepstreamProvider>
  </StrictMode>,
);
