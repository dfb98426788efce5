// A strict decode for the TypeScript scenario. openapi-typescript's types
// are erased at run time, so a response the old spec does not describe
// would pass unnoticed; this checks each response body against the schema
// the released spec gives for its operation and status, as a strict
// generated client would: types, `nullable`, required properties, enum
// values, `uuid` and `date-time` formats, `allOf`, `$ref`s and
// `additionalProperties: false`. Properties the old spec does not name are
// allowed (every generated client ignores or keeps them).
import { readFileSync } from "node:fs";

type Schema = { [keyword: string]: unknown };

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const dateTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

export class Spec {
  private readonly document: Schema;

  constructor(path: string) {
    this.document = JSON.parse(readFileSync(path, "utf8")) as Schema;
  }

  /** The problems of `body` as the response of `method path` with `status`; empty when it conforms. */
  problems(method: string, path: string, status: number, body: unknown): string[] {
    const operation = this.at(["paths", path, method.toLowerCase()]);
    if (operation === undefined) return [`${method} ${path} is not in the released spec`];
    let response = this.at(["responses", String(status)], operation);
    if (response === undefined) return [`${method} ${path}: status ${status} is not in the released spec`];
    response = this.resolve(response);
    const schema = this.at(["content", "application/json", "schema"], response);
    if (schema === undefined) return [`${method} ${path} ${status}: no JSON schema in the released spec`];
    const problems: string[] = [];
    this.check(schema, body, "body", problems);
    return problems;
  }

  private at(keys: string[], from: unknown = this.document): Schema | undefined {
    let value: unknown = from;
    for (const key of keys) {
      if (typeof value !== "object" || value === null) return undefined;
      value = (value as Schema)[key];
    }
    return typeof value === "object" && value !== null ? (value as Schema) : undefined;
  }

  private resolve(schema: Schema): Schema {
    const reference = schema["$ref"];
    if (typeof reference !== "string") return schema;
    const target = this.at(reference.replace(/^#\//, "").split("/"));
    if (target === undefined) throw new Error(`unresolved ${reference}`);
    return this.resolve(target);
  }

  private check(given: Schema, value: unknown, where: string, problems: string[]): void {
    const schema = this.resolve(given);
    if (value === null) {
      if (schema["nullable"] !== true) problems.push(`${where}: null where the spec does not allow it`);
      return;
    }
    for (const part of (schema["allOf"] as Schema[] | undefined) ?? []) this.check(part, value, where, problems);
    const type = schema["type"];
    const enumeration = schema["enum"] as unknown[] | undefined;
    if (enumeration !== undefined && !enumeration.includes(value)) {
      problems.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(enumeration)}`);
    }
    switch (type) {
      case "object":
        return this.checkObject(schema, value, where, problems);
      case "array":
        if (!Array.isArray(value)) return void problems.push(`${where}: not an array`);
        value.forEach((item, index) => this.check(schema["items"] as Schema, item, `${where}[${index}]`, problems));
        return;
      case "string":
        if (typeof value !== "string") return void problems.push(`${where}: not a string`);
        if (schema["format"] === "uuid" && !uuid.test(value)) problems.push(`${where}: not a uuid`);
        if (schema["format"] === "date-time" && !dateTime.test(value)) problems.push(`${where}: not a date-time`);
        return;
      case "integer":
        if (!Number.isInteger(value)) problems.push(`${where}: not an integer`);
        return;
      case "number":
        if (typeof value !== "number") problems.push(`${where}: not a number`);
        return;
      case "boolean":
        if (typeof value !== "boolean") problems.push(`${where}: not a boolean`);
        return;
    }
  }

  private checkObject(schema: Schema, value: unknown, where: string, problems: string[]): void {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return void problems.push(`${where}: not an object`);
    }
    const record = value as Record<string, unknown>;
    for (const name of (schema["required"] as string[] | undefined) ?? []) {
      if (!(name in record)) problems.push(`${where}: required \`${name}\` is missing`);
    }
    const properties = (schema["properties"] as Record<string, Schema> | undefined) ?? {};
    const additional = schema["additionalProperties"];
    for (const [name, item] of Object.entries(record)) {
      const property = properties[name];
      if (property !== undefined) this.check(property, item, `${where}.${name}`, problems);
      else if (additional === false) problems.push(`${where}: \`${name}\` is not allowed`);
      else if (typeof additional === "object" && additional !== null) {
        this.check(additional as Schema, item, `${where}.${name}`, problems);
      }
    }
  }
}
