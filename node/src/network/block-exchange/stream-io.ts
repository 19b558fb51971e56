import type { Stream } from "@libp2p/interface";
import type { Uint8ArrayList } from "uint8arraylist";
import type { FrameDecoder, Message } from "./wire.js";

/**
 * Feeds a stream's incoming bytes through a FrameDecoder and hands each message to `onMessage`.
 * A decoding error (a protocol violation) goes to `onError` and no further message is delivered.
 */
export function readMessages(
  stream: Stream,
  decoder: FrameDecoder,
  onMessage: (message: Message) => void,
  onError: (error: unknown) => void,
): void {
  let failed = false;
  stream.addEventListener("message", (event) => {
    if (failed) return;
    try {
      for (const message of decoder.push(event.data)) onMessage(message);
    } catch (error) {
      failed = true;
      onError(error);
    }
  });
}

/** Sends one frame, waiting for the stream to drain first when its write buffer is full. */
export async function sendFrame(
  stream: Stream,
  frame: Uint8Array | Uint8ArrayList,
  signal?: AbortSignal,
): Promise<void> {
  if (stream.writableNeedsDrain) await stream.onDrain({ signal });
  stream.send(frame);
}
