/**
 * A small client of a node's REST API (/api/v1): what the `holdfast` user commands, the demo, the
 * end-to-end tests and the soak run talk to a node through. Errors say which of three things went
 * wrong: the node could not be reached (NodeUnreachableError), the node refused or failed the request
 * (ApiError with the node's { error: { code, message } }), or the node answered something that is not
 * the API (ApiError with code ERR_BAD_RESPONSE).
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

export const DEFAULT_API_URL = "http://127.0.0.1:8080";

export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    /** HTTP status, 0 when the response was not the API's. */
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class NodeUnreachableError extends Error {
  override readonly name = "NodeUnreachableError";

  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const reason = causeText(cause);
    super(`cannot reach the node at ${url}: ${reason}`, { cause });
  }
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** JSON as the API sends it: amounts are decimal strings. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
type RequestBody = NonNullable<RequestInit["body"]>;

export interface StorageRequestParams {
  duration: number | bigint;
  pricePerBytePerSecond: bigint | string;
  proofProbability: bigint | string;
  collateralPerByte: bigint | string;
  expiry: number | bigint;
  nodes: number;
  tolerance: number;
}

export interface AvailabilityParams {
  totalSize: number | bigint;
  duration: number | bigint;
  minPricePerBytePerSecond: bigint | string;
  totalCollateral: bigint | string;
  until?: number | bigint;
  enabled?: boolean;
}

/** Numbers and bigints the API takes as JSON numbers (sizes, seconds) or decimal strings (amounts). */
function body(
  fields: Record<string, unknown>,
  amounts: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (amounts.includes(key)) out[key] = String(value);
    else out[key] = typeof value === "bigint" ? Number(value) : value;
  }
  return out;
}

const REQUEST_AMOUNTS = ["pricePerBytePerSecond", "proofProbability", "collateralPerByte"] as const;
const AVAILABILITY_AMOUNTS = ["minPricePerBytePerSecond", "totalCollateral"] as const;

export class NodeApi {
  readonly url: string;

  constructor(
    url: string = DEFAULT_API_URL,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    this.url = url.replace(/\/+$/, "");
  }

  /** Sends one request; returns the response when it is 2xx, throws ApiError otherwise. */
  async fetch(
    method: string,
    path: string,
    init: { json?: unknown; body?: RequestBody; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = `${this.url}/api/v1${path}`;
    const headers: Record<string, string> = { ...init.headers };
    let requestBody: RequestBody | undefined = init.body;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      requestBody = JSON.stringify(init.json);
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: requestBody,
        // Node's fetch needs this for streamed request bodies.
        ...(requestBody instanceof ReadableStream ? { duplex: "half" } : {}),
        ...(this.options.timeoutMs ? { signal: AbortSignal.timeout(this.options.timeoutMs) } : {}),
      } as RequestInit);
    } catch (error) {
      throw new NodeUnreachableError(this.url, error);
    }
    if (response.ok) return response;
    const text = await response.text();
    let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    const code = parsed?.error?.code;
    const message = parsed?.error?.message;
    if (typeof code === "string" && typeof message === "string") {
      throw new ApiError(response.status, code, message);
    }
    throw new ApiError(
      response.status,
      "ERR_BAD_RESPONSE",
      `${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`,
    );
  }

  async json<T = JsonObject>(
    method: string,
    path: string,
    init: { json?: unknown; body?: RequestBody; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const response = await this.fetch(method, path, init);
    const text = await response.text();
    try {
      return (text === "" ? null : JSON.parse(text)) as T;
    } catch {
      throw new ApiError(0, "ERR_BAD_RESPONSE", `${method} ${path}: the answer is not JSON`);
    }
  }

  // ---- data ----

  /** Uploads bytes (a buffer or a Node stream); returns the manifest CID. */
  async upload(
    data: Uint8Array | Readable,
    meta: { filename?: string; mimetype?: string } = {},
  ): Promise<{ id: string; manifest: JsonObject }> {
    const headers: Record<string, string> = {
      "content-type": meta.mimetype ?? "application/octet-stream",
    };
    if (meta.filename) {
      headers["content-disposition"] =
        `attachment; filename*=UTF-8''${encodeURIComponent(meta.filename)}`;
    }
    const payload =
      data instanceof Uint8Array
        ? data
        : (Readable.toWeb(data) as unknown as ReadableStream<Uint8Array>);
    return this.json("POST", "/data", { body: payload as RequestBody, headers });
  }

  /**
   * The dataset's bytes as a stream: from the node's own store, or with `network` through the
   * network (fetching from the peers that hold it, rebuilding lost blocks).
   */
  async download(cid: string, options: { network?: boolean } = {}): Promise<Readable> {
    const path = `/data/${encodeURIComponent(cid)}${options.network ? "/network/stream" : ""}`;
    const response = await this.fetch("GET", path);
    if (!response.body) throw new ApiError(0, "ERR_BAD_RESPONSE", `GET ${path}: no body`);
    return Readable.fromWeb(response.body as WebReadableStream);
  }

  datasets(): Promise<{ datasets: JsonObject[] }> {
    return this.json("GET", "/data");
  }

  async deleteDataset(cid: string): Promise<void> {
    await this.fetch("DELETE", `/data/${encodeURIComponent(cid)}`);
  }

  // ---- node and network ----

  debugInfo(): Promise<JsonObject> {
    return this.json("GET", "/debug/info");
  }

  peer(): Promise<{ id: string; addrs: string[] }> {
    return this.json("GET", "/peer");
  }

  // ---- marketplace ----

  /** Asks for storage of the dataset `cid`; returns the node's answer (the request's id). */
  requestStorage(cid: string, params: StorageRequestParams): Promise<JsonObject> {
    return this.json("POST", `/storage/request/${encodeURIComponent(cid)}`, {
      json: body({ ...params }, REQUEST_AMOUNTS),
    });
  }

  purchases(): Promise<Json> {
    return this.json("GET", "/storage/purchases");
  }

  purchase(id: string): Promise<JsonObject> {
    return this.json("GET", `/storage/purchases/${encodeURIComponent(id)}`);
  }

  createAvailability(params: AvailabilityParams): Promise<JsonObject> {
    return this.json("POST", "/sales/availability", {
      json: body({ ...params }, AVAILABILITY_AMOUNTS),
    });
  }

  availabilities(): Promise<Json> {
    return this.json("GET", "/sales/availability");
  }

  updateAvailability(id: string, changes: Partial<AvailabilityParams>): Promise<Json> {
    return this.json("PATCH", `/sales/availability/${encodeURIComponent(id)}`, {
      json: body({ ...changes }, AVAILABILITY_AMOUNTS),
    });
  }

  slots(): Promise<Json> {
    return this.json("GET", "/sales/slots");
  }

  slot(id: string): Promise<JsonObject> {
    return this.json("GET", `/sales/slots/${encodeURIComponent(id)}`);
  }

  account(): Promise<{ address: string; token: string; tokenBalance: string; ethBalance: string }> {
    return this.json("GET", "/account");
  }

  validator(): Promise<JsonObject> {
    return this.json("GET", "/validator");
  }
}
