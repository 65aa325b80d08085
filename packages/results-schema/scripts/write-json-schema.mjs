// Writes the JSON Schema of the stream record, generated from the same zod definition the code validates with.
import { writeFileSync } from "node:fs";
import { recordJsonSchema } from "../dist/index.js";

writeFileSync(
  new URL("../dist/record.schema.json", import.meta.url),
  `${JSON.stringify(recordJsonSchema(), null, 2)}\n`,
);
