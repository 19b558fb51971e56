import { type Interface, isCallException } from "ethers";

/**
 * Turns revert data into the contract's own words: `Marketplace_SlotNotFree(0x12…)` rather than
 * `execution reverted (unknown custom error)`. Interfaces are tried in order; Solidity's built-in
 * Error(string) and Panic(uint256) are decoded too.
 */
export function describeRevert(
  data: string | null | undefined,
  interfaces: readonly Interface[],
): string {
  if (!data || data === "0x") return "reverted without a reason";
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return `${parsed.name}(${parsed.args.map(formatArg).join(", ")})`;
    } catch {
      // not this interface's error: try the next
    }
  }
  const selector = data.slice(0, 10);
  if (selector === "0x08c379a0") return `Error(${decodeString(data)})`;
  if (selector === "0x4e487b71")
    return `Panic(0x${BigInt(`0x${data.slice(10, 74)}`).toString(16)})`;
  return `unknown custom error ${selector}`;
}

/** The revert data carried by an ethers error, wherever the provider put it. */
export function revertDataOf(error: unknown): string | undefined {
  if (isCallException(error) && error.data) return error.data;
  // JSON-RPC providers nest it in error.error or error.info.error; Hardhat's in-process network puts
  // it on the error itself.
  type Carrier = {
    data?: unknown;
    error?: { data?: unknown };
    info?: { error?: { data?: unknown } };
  };
  const e = (error ?? {}) as Carrier;
  for (const candidate of [e.data, e.error?.data, e.info?.error?.data]) {
    if (typeof candidate === "string" && candidate.startsWith("0x")) return candidate;
    if (candidate && typeof candidate === "object" && "data" in candidate) {
      const inner = (candidate as { data: unknown }).data;
      if (typeof inner === "string" && inner.startsWith("0x")) return inner;
    }
  }
  return undefined;
}

function formatArg(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(formatArg).join(", ")}]`;
  return String(value);
}

function decodeString(data: string): string {
  try {
    const bytes = Buffer.from(data.slice(10), "hex");
    const length = Number(BigInt(`0x${bytes.subarray(32, 64).toString("hex")}`));
    return JSON.stringify(bytes.subarray(64, 64 + length).toString("utf8"));
  } catch {
    return "<undecodable>";
  }
}
