import { runLocal } from "./cli.js";

// `make local` (and `stepstream local`, which calls runLocal itself): runs until Ctrl-C.
process.exit(await runLocal(process.argv.slice(2)));
