/**
 * Reaching a chain: a provider for an HTTP or WebSocket JSON-RPC URL and the node's account from a
 * raw private key or an encrypted JSON keystore (the format geth, Clef and ethers write).
 */
import { readFile } from "node:fs/promises";
import {
  JsonRpcProvider,
  type Provider,
  type Signer,
  Wallet,
  WebSocketProvider,
  isHexString,
} from "ethers";
import { HoldfastError } from "../errors.js";

/** A provider for `url` (http, https, ws or wss). Polls every `pollingIntervalMs` over HTTP. */
export function connectProvider(url: string, options: { pollingIntervalMs?: number } = {}) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HoldfastError(
      "ERR_INVALID_ARGUMENT",
      `eth provider "${url}" is not a URL (expected http(s):// or ws(s)://)`,
    );
  }
  if (parsed.protocol === "ws:" || parsed.protocol === "wss:") return new WebSocketProvider(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new HoldfastError(
      "ERR_INVALID_ARGUMENT",
      `eth provider "${url}" has protocol ${parsed.protocol}; use http(s):// or ws(s)://`,
    );
  }
  const provider = new JsonRpcProvider(url, undefined, {
    // Local chains mine quickly; public chains are polled at their own pace by the LogPoller.
    pollingInterval: options.pollingIntervalMs ?? 1_000,
  });
  return provider;
}

export interface AccountSource {
  /** 0x-prefixed 32-byte hex key. */
  privateKey?: string | undefined;
  /** Path of an encrypted JSON keystore, unlocked with the password in `passwordFile`. */
  keystore?: string | undefined;
  passwordFile?: string | undefined;
}

/** The node's signing account, connected to `provider`. */
export async function loadSigner(source: AccountSource, provider: Provider): Promise<Signer> {
  if (source.privateKey !== undefined && source.keystore !== undefined) {
    throw new HoldfastError(
      "ERR_INVALID_ARGUMENT",
      "give either an eth private key or an eth keystore, not both",
    );
  }
  if (source.privateKey !== undefined) {
    const key = source.privateKey.trim();
    if (!isHexString(key, 32)) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        "eth private key must be 0x followed by 64 hex digits",
      );
    }
    return new Wallet(key, provider);
  }
  if (source.keystore !== undefined) {
    if (source.passwordFile === undefined) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        "an eth keystore needs --eth-keystore-password-file",
      );
    }
    const [json, password] = await Promise.all([
      readFile(source.keystore, "utf8").catch((error: NodeJS.ErrnoException) => {
        throw new HoldfastError(
          "ERR_INVALID_ARGUMENT",
          `cannot read eth keystore ${source.keystore}: ${error.code ?? error.message}`,
        );
      }),
      readFile(source.passwordFile, "utf8").catch((error: NodeJS.ErrnoException) => {
        throw new HoldfastError(
          "ERR_INVALID_ARGUMENT",
          `cannot read eth keystore password file ${source.passwordFile}: ${error.code ?? error.message}`,
        );
      }),
    ]);
    try {
      // A trailing newline in the password file is an editor's, not part of the password.
      const wallet = await Wallet.fromEncryptedJson(json, password.replace(/\r?\n$/, ""));
      return wallet.connect(provider);
    } catch (error) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `cannot unlock eth keystore ${source.keystore}: ${(error as Error).message}`,
      );
    }
  }
  throw new HoldfastError(
    "ERR_INVALID_ARGUMENT",
    "this role signs transactions: give --eth-private-key or --eth-keystore",
  );
}
