/**
 * What `gigareels api` sends, from its arguments, as `gh api` builds it:
 *  - `[METHOD] PATH`: the method defaults to GET, or POST when fields or --input are given;
 *  - `--field key=value` (`-F`): `true`, `false`, `null` and integers become JSON values,
 *    `@FILE` reads the value from a file (`@-`: stdin); `--raw-field key=value` (`-f`) is
 *    always a string; `key[sub]=v` nests, `key[]=v` appends to a list;
 *  - fields go in the query string of a GET (or HEAD/DELETE), else in a JSON body; with
 *    `--input FILE` (`-`: stdin) the body is that file and the fields go in the query string;
 *  - `--header 'Name: value'` (`-H`); `Idempotency-Key` also makes a POST retryable.
 * Every mistake is a UsageError (exit 2) naming the flag; no message repeats a header's value
 * (it could be a secret).
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "../sdk/errors.js";

export interface ApiArgs {
  /** The first positional argument: METHOD when a second one follows, else PATH. */
  first: string;
  second?: string;
  fields?: string[];
  rawFields?: string[];
  headers?: string[];
  /** --input FILE, "-" for stdin. */
  input?: string;
}

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: Record<string, string>;
  json?: unknown;
  body?: Uint8Array;
  idempotencyKey?: string;
}

export interface ReadSources {
  readFile(path: string): Promise<Uint8Array>;
  readStdin(): Promise<Uint8Array>;
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const QUERY_METHODS = new Set(["GET", "HEAD", "DELETE"]);
/** Headers the client sets itself: a key in argv would be in the shell history and `ps`. */
const FORBIDDEN_HEADERS = new Set(["authorization", "proxy-authorization", "host", "content-length"]);

export const defaultSources: ReadSources = {
  readFile: async (path) => new Uint8Array(await readFile(path)),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  },
};

function splitField(raw: string, flag: string): { key: string; value: string | undefined } {
  const i = raw.indexOf("=");
  if (i < 0) {
    // `key[]` alone is an empty list, as in gh
    if (/\[\]$/.test(raw)) return { key: raw, value: undefined };
    throw new UsageError(`${flag} expects key=value, not "${raw.slice(0, 40)}"`, [
      `e.g. ${flag} prompt="Explain black holes"`,
    ]);
  }
  const key = raw.slice(0, i);
  if (key === "") throw new UsageError(`${flag} has an empty key`, [`e.g. ${flag} name=value`]);
  return { key, value: raw.slice(i + 1) };
}

/** "a[b][]" -> ["a", "b", ""] ("" = append). */
function keyPath(key: string, flag: string): string[] {
  const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!m) throw new UsageError(`${flag}: "${key}" is not a valid key (use name, name[sub] or name[])`);
  const parts = [m[1]!];
  for (const p of m[2]!.matchAll(/\[([^[\]]*)\]/g)) parts.push(p[1]!);
  return parts;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown, flag: string): void {
  let node: unknown = target;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    const last = i === path.length - 1;
    const nextIsAppend = !last && path[i + 1] === "";
    if (Array.isArray(node)) {
      if (part !== "") throw new UsageError(`${flag}: cannot mix name[] and name[${part}]`);
      if (last) {
        if (value !== undefined) node.push(value);
        return;
      }
      const child = nextIsAppend ? [] : {};
      node.push(child);
      node = child;
      continue;
    }
    const obj = node as Record<string, unknown>;
    if (part === "") throw new UsageError(`${flag}: name[] must follow a name`);
    if (last) {
      obj[part] = value;
      return;
    }
    const existing = obj[part];
    if (existing === undefined) obj[part] = nextIsAppend ? [] : {};
    else if (nextIsAppend !== Array.isArray(existing) || typeof existing !== "object" || existing === null)
      throw new UsageError(
        `${flag}: "${path.slice(0, i + 1).join(".")}" is given both as a value and as a group`,
      );
    node = obj[part];
  }
}

async function typedValue(raw: string, sources: ReadSources, flag: string): Promise<unknown> {
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (raw === "null") return null;
  if (/^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  if (raw.startsWith("@")) {
    const file = raw.slice(1);
    const bytes = await readSource(file, sources, flag);
    return new TextDecoder().decode(bytes);
  }
  return raw;
}

async function readSource(file: string, sources: ReadSources, flag: string): Promise<Uint8Array> {
  try {
    return file === "-" ? await sources.readStdin() : await sources.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (code ?? "unreadable");
    throw new UsageError(`${flag}: cannot read ${file} (${why})`, ["Check the file name"]);
  }
}

/** Builds the request; reads --input and @file values. */
export async function buildApiRequest(
  args: ApiArgs,
  sources: ReadSources = defaultSources,
): Promise<ApiRequest> {
  let method: string | undefined;
  let path: string;
  if (args.second !== undefined) {
    method = args.first.toUpperCase();
    path = args.second;
    if (!METHODS.includes(method)) {
      throw new UsageError(`"${args.first.slice(0, 20)}" is not an HTTP method`, [
        `Use one of ${METHODS.join(", ")}, e.g. gigareels api POST /api/render`,
      ]);
    }
  } else {
    path = args.first;
    if (METHODS.includes(path.toUpperCase()) && !path.includes("/")) {
      throw new UsageError(`Missing PATH after ${path.toUpperCase()}`, [
        `e.g. gigareels api ${path.toUpperCase()} /api/me`,
      ]);
    }
  }
  path = path.trim();
  if (path === "") throw new UsageError("PATH is empty", ["e.g. gigareels api /api/me"]);
  if (!/^https?:\/\//i.test(path) && !path.startsWith("/")) path = `/${path}`;

  const headers: Record<string, string> = {};
  let idempotencyKey: string | undefined;
  for (const h of args.headers ?? []) {
    const i = h.indexOf(":");
    const name = (i < 0 ? "" : h.slice(0, i)).trim().toLowerCase();
    if (!name) {
      throw new UsageError(`--header expects "Name: value"`, ['e.g. --header "Accept: application/json"']);
    }
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw new UsageError(
        `--header name "${visible(name)}" has a character that a header name cannot have (a space, a line break, a control character or one of "(),/:;<=>?@[\\]{}")`,
        ['e.g. --header "Accept: application/json"'],
      );
    }
    if (FORBIDDEN_HEADERS.has(name)) {
      throw new UsageError(`--header ${name} is set by gigareels itself and cannot be given`, [
        name === "authorization"
          ? "The key comes from GIGAREELS_API_KEY, GIGAREELS_API_KEY_FILE or gigareels login, never from argv"
          : "Leave it out",
      ]);
    }
    const value = h.slice(i + 1).trim();
    // RFC 9110 field-value: visible ASCII, spaces, tabs and obs-text. A CR or LF would split
    // the request (fetch refuses it, which read as a network failure).
    const bad = /[^\t\x20-\x7e\x80-\xff]/.exec(value);
    if (bad) {
      const what =
        bad[0] === "\r" || bad[0] === "\n"
          ? "a line break"
          : /[\x00-\x1f\x7f]/.test(bad[0])
            ? "a control character"
            : "a character outside Latin-1";
      throw new UsageError(`--header ${name} has ${what} in its value at position ${bad.index + 1}`, [
        "A header value is one line of printable text",
      ]);
    }
    if (name === "idempotency-key") idempotencyKey = value;
    else headers[name] = value;
  }

  const params: Record<string, unknown> = {};
  const fieldCount = (args.fields?.length ?? 0) + (args.rawFields?.length ?? 0);
  for (const raw of args.rawFields ?? []) {
    const { key, value } = splitField(raw, "--raw-field");
    setPath(params, keyPath(key, "--raw-field"), value, "--raw-field");
  }
  for (const raw of args.fields ?? []) {
    const { key, value } = splitField(raw, "--field");
    const typed = value === undefined ? undefined : await typedValue(value, sources, "--field");
    setPath(params, keyPath(key, "--field"), typed, "--field");
  }

  let body: Uint8Array | undefined;
  if (args.input !== undefined) body = await readSource(args.input, sources, "--input");
  method ??= fieldCount > 0 || body !== undefined ? "POST" : "GET";

  const query: Record<string, string[]> = {};
  let json: unknown;
  const fieldsInQuery = body !== undefined || QUERY_METHODS.has(method);
  if (fieldCount > 0) {
    if (fieldsInQuery) flattenQuery(params, "", query);
    else json = params;
  }
  if (body !== undefined) {
    if (QUERY_METHODS.has(method) && method !== "DELETE") {
      throw new UsageError(`--input sends a body, which a ${method} request cannot carry`, [
        "Use POST, PUT or PATCH",
      ]);
    }
    headers["content-type"] ??= "application/json";
  }
  return {
    method,
    path,
    query,
    headers,
    ...(json !== undefined ? { json } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  };
}

/** Query-string form of nested fields: a[b]=1, a[]=x, as gh sends them. */
function flattenQuery(value: unknown, prefix: string, out: Record<string, string[]>): void {
  if (Array.isArray(value)) {
    for (const v of value) flattenQuery(v, `${prefix}[]`, out);
    return;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flattenQuery(v, prefix ? `${prefix}[${k}]` : k, out);
    return;
  }
  const list = out[prefix] ?? [];
  list.push(value === null ? "" : String(value));
  out[prefix] = list;
}

/** A header name as it may be shown: control characters made visible, at most 40 characters. */
function visible(text: string): string {
  const shown = text.replace(
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  return shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
}
