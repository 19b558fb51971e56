import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { NetworkError } from "./errors.js";

/** File name of the node's libp2p identity inside the data directory. */
export const PEER_KEY_FILE = "peer.key";

/**
 * Loads the node's libp2p private key from `<dataDir>/peer.key`, creating an Ed25519 key there on
 * first start. The peer id is derived from this key, so it must survive restarts (peers and DHT
 * provider records refer to it) and must stay private: the file is created 0600 and refused when
 * others can read it. The key is written to a temporary file and renamed, so a crash never leaves
 * a half-written key behind.
 */
export async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const file = path.join(dataDir, PEER_KEY_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new NetworkError("ERR_INVALID_PEER_KEY", `cannot read the peer key ${file}`, {
        cause: error,
      });
    }
    return createPeerKey(dataDir, file);
  }
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new NetworkError(
      "ERR_INVALID_PEER_KEY",
      `the peer key ${file} is readable by others (mode ${mode.toString(8)}); ` +
        `run \`chmod 600 ${file}\``,
    );
  }
  try {
    return privateKeyFromProtobuf(bytes);
  } catch (error) {
    throw new NetworkError(
      "ERR_INVALID_PEER_KEY",
      `the peer key ${file} is corrupt; restore it from a backup, or delete it to start ` +
        "with a new peer id",
      { cause: error },
    );
  }
}

async function createPeerKey(dataDir: string, file: string): Promise<PrivateKey> {
  await mkdir(dataDir, { recursive: true });
  const key = await generateKeyPair("Ed25519");
  const temporary = path.join(dataDir, `.${PEER_KEY_FILE}.${randomBytes(6).toString("hex")}`);
  const handle = await open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(privateKeyToProtobuf(key));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(temporary, 0o600); // the umask may have narrowed it further, never widened; be exact
  await rename(temporary, file);
  return key;
}
