export * from "./arn.js";
export * from "./errors.js";
export * from "./execution-name.js";
export * from "./offset.js";
export * from "./record.js";
export { described } from "./zod.js";
