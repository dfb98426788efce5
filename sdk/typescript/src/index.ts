/**
 * The appdeck SDK: types generated from openapi.yaml, openapi-fetch, and a
 * thin layer over them (errors, pagination, idempotency keys, rate-limit waits).
 */
export { Appdeck, type AppdeckOptions, type Success } from "./appdeck.js";
export { AppdeckError } from "./error.js";
export type { components, operations, paths } from "./generated/schema.js";
