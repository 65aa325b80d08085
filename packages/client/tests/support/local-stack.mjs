// Runs the local stack (apps/local's build, as `make local` does) in its own Node process for tests
// whose environment is a browser emulation (jsdom), and prints its endpoints as one JSON line.
// It stops on SIGTERM, or when its parent goes away (stdin closes).
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const entry = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../apps/local/dist/index.js");
const { startStack } = await import(pathToFileURL(entry).href);
const stack = await startStack({
  memory: true,
  port: 0,
  outputsFile: null,
  ...JSON.parse(process.argv[2] ?? "{}"),
});
process.stdout.write(
  `${JSON.stringify({
    apiEndpoint: stack.apiEndpoint,
    streamUrl: stack.streamUrl,
    region: stack.region,
    credentials: stack.credentials,
    webUrl: stack.webUrl ?? null,
  })}\n`,
);
let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await stack.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
