/** The Durable Streams read modes; one module per mode lives in `durable/`. */
export { type DurableDeps, serveDurable } from "./durable/index.js";
