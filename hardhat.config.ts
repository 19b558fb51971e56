import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";
import { exitGuard } from "./scripts/lib/exit-guard.js";

const require = createRequire(import.meta.url);

// The compiler comes from the exactly pinned npm package `solc` (soljson.js): Hardhat never downloads
// one. Taiko runs the Shanghai EVM rules, so nothing may use Cancun opcodes (TSTORE, MCOPY, ...).
const compiler = {
  version: "0.8.28",
  path: require.resolve("solc/soljson.js"),
  settings: {
    evmVersion: "shanghai",
    optimizer: { enabled: true, runs: 1000 },
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: compiler,
      production: compiler,
    },
  },
  paths: {
    tests: {
      mocha: "test",
      solidity: "test/solidity",
    },
    ignition: "deploy",
  },
  test: {
    // The exit guard ends a mocha run that finished but is held open by a leaked handle.
    mocha: { timeout: 60_000, rootHooks: { afterAll: exitGuard() } },
    // Solidity fuzz and invariant tests. `default` runs in `npm test`: about a minute of Solidity tests
    // on two cores (24,000 invariant calls). `deep` (`npm run fuzz`): 500,000 calls, about 16 minutes.
    solidity: {
      profiles: {
        default: { fuzz: { runs: 256 }, invariant: { runs: 96, depth: 250 } },
        deep: { fuzz: { runs: 10_000 }, invariant: { runs: 1_000, depth: 500 } },
      },
    },
  },
  typechain: {
    outDir: "node/src/chain/contracts",
  },
  networks: {
    hardhatMainnet: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "shanghai",
    },
  },
});
