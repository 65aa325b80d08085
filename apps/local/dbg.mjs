import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { putResult } from "@stepstream/steps";
import { startStack } from "./dist/index.js";

const stack = await startStack({ memory: true, port: 0, outputsFile: null, auth: false });
const ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
const codes = {};
const send = ddb.send.bind(ddb);
const tl = [];
ddb.send = async (cmd) => {
  const s = performance.now();
  try {
    return await send(cmd);
  } catch (e) {
    const k =
      cmd.constructor.name + ":" + e.name + ":" + (e.CancellationReasons ?? []).map((r) => r.Code).join(",");
    codes[k] = (codes[k] ?? 0) + 1;
    throw e;
  } finally {
    if (cmd.constructor.name.startsWith("Transact")) tl.push(performance.now() - s);
  }
};
const config = { tableName: stack.tableName, resultTtlDays: 1, client: ddb, retryForMs: 20000 };
const arn = `arn:aws:states:us-east-1:000000000000:express:stepstream-local:smoke-1:0`;
const t0 = Date.now();
const n = +process.argv[2],
  c = +process.argv[3];
let i = 0;
const lat = [];
await Promise.all(
  Array.from({ length: c }, async () => {
    while (i < n) {
      const k = i++;
      const s = Date.now();
      await putResult({ executionArn: arn, recordKey: `r${k}`, result: k }, config);
      lat.push(Date.now() - s);
    }
  }),
);
const ms = Date.now() - t0;
lat.sort((a, b) => a - b);
console.log(
  `${c} writers ${n} recs ms`,
  ms,
  "rec/s",
  Math.round((n / ms) * 1000),
  "p50",
  lat[lat.length >> 1],
  "p99",
  lat[Math.floor(lat.length * 0.99)],
  stack.dynamoCounts,
  codes,
);
tl.sort((a, b) => a - b);
console.log("txn p50", tl[tl.length >> 1].toFixed(1), "p99", tl[Math.floor(tl.length * 0.99)].toFixed(1));
ddb.destroy();
await stack.close();
