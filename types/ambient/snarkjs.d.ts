// The parts of snarkjs 0.7 that Holdfast uses. snarkjs ships no type declarations.
declare module "snarkjs" {
  export interface Logger {
    /** Called by powersOfTau.newAccumulator for progress on large powers. */
    log?(msg: string): void;
    debug(msg: string): void;
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
  }

  export interface Groth16Proof {
    pi_a: [string, string, string];
    pi_b: [[string, string], [string, string], [string, string]];
    pi_c: [string, string, string];
    protocol: "groth16";
    curve: "bn128";
  }

  export interface Groth16VerificationKey {
    protocol: "groth16";
    curve: "bn128";
    nPublic: number;
    vk_alpha_1: [string, string, string];
    vk_beta_2: [[string, string], [string, string], [string, string]];
    vk_gamma_2: [[string, string], [string, string], [string, string]];
    vk_delta_2: [[string, string], [string, string], [string, string]];
    IC: [string, string, string][];
  }

  export type CircuitSignals = Record<string, unknown>;

  export const powersOfTau: {
    newAccumulator(
      curve: unknown,
      power: number,
      fileName: string,
      logger?: Logger,
    ): Promise<unknown>;
    contribute(
      oldPtau: string,
      newPtau: string,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<unknown>;
    beacon(
      oldPtau: string,
      newPtau: string,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<void>;
    verify(ptau: string, logger?: Logger): Promise<boolean>;
  };

  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
    contribute(
      oldZkey: string,
      newZkey: string,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<Uint8Array>;
    beacon(
      oldZkey: string,
      newZkey: string,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<Uint8Array>;
    exportVerificationKey(zkey: string, logger?: Logger): Promise<Groth16VerificationKey>;
    exportSolidityVerifier(
      zkey: string,
      templates: { groth16: string },
      logger?: Logger,
    ): Promise<string>;
  };

  export const groth16: {
    fullProve(
      input: CircuitSignals,
      wasm: string,
      zkey: string,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    prove(
      zkey: string,
      witness: string,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(
      vkey: Groth16VerificationKey,
      publicSignals: readonly (string | bigint)[],
      proof: Groth16Proof,
      logger?: Logger,
    ): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: readonly string[]): Promise<string>;
  };

  export const wtns: {
    calculate(input: CircuitSignals, wasm: string, wtnsFile: string): Promise<void>;
    check(r1cs: string, wtnsFile: string, logger?: Logger): Promise<boolean>;
  };

  export const curves: {
    getCurveFromName(name: "bn128" | "bls12381"): Promise<unknown>;
  };

  export const r1cs: {
    info(r1cs: string, logger?: Logger): Promise<{ nConstraints: number; nVars: number }>;
  };
}
