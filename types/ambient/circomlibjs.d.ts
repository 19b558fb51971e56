// The part of circomlibjs 0.1 that the Poseidon2 benchmark uses (as a speed peer). circomlibjs
// ships no type declarations.
declare module "circomlibjs" {
  export interface PoseidonField {
    /** A field element in circomlibjs's internal form back to a bigint. */
    toObject(element: Uint8Array): bigint;
  }
  /** Poseidon (the original, not Poseidon2) over BN254 with width inputs.length + 1. */
  export interface Poseidon {
    (inputs: readonly bigint[]): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
}
