import { HoldfastError } from "../errors.js";

/**
 * Bytes on disk against the storage quota: `used` by committed data, `reserved` by writes in
 * flight. A write reserves before it writes, so concurrent uploads cannot overshoot together.
 */
export class Quota {
  private usedBytes = 0;
  private reservedBytes = 0;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.usedBytes;
  }

  get reserved(): number {
    return this.reservedBytes;
  }

  get available(): number {
    return Math.max(0, this.limit - this.usedBytes - this.reservedBytes);
  }

  reserve(bytes: number): void {
    if (this.usedBytes + this.reservedBytes + bytes > this.limit) {
      throw new HoldfastError(
        "ERR_QUOTA_EXCEEDED",
        `the storage quota of ${this.limit} bytes is full (${this.usedBytes} used, ` +
          `${this.reservedBytes} reserved by writes in progress); delete data or raise --storage-quota`,
      );
    }
    this.reservedBytes += bytes;
  }

  release(bytes: number): void {
    this.reservedBytes = Math.max(0, this.reservedBytes - bytes);
  }

  addUsed(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes + bytes);
  }
}
