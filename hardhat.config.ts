import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";
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
  // Deployment targets (deploy/parameters/<name>.json holds each one's marketplace configuration).
  // RPC URLs and keys are configuration variables: read from the environment or from Hardhat's
  // encrypted keystore (`npx hardhat keystore set TAIKO_PRIVATE_KEY`), only when a task uses the
  // network, so the config loads without them. Never put them in a file of this repository.
  networks: {
    hardhatMainnet: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "shanghai",
    },
    // What `npx hardhat node` serves: Hardhat's chain id under Taiko's EVM rules (no Cancun).
    node: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "shanghai",
    },
    // `npx hardhat node --network taikoHoodiLocal`: a local chain with Taiko Hoodi's id and rules.
    taikoHoodiLocal: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 167013,
      hardfork: "shanghai",
    },
    // A `npx hardhat node` on this machine (its accounts are unlocked there).
    localhost: {
      type: "http",
      url: "http://127.0.0.1:8545",
      chainId: 31337,
    },
    taiko: {
      type: "http",
      chainType: "generic",
      chainId: 167000,
      url: configVariable("TAIKO_RPC_URL"),
      accounts: [configVariable("TAIKO_PRIVATE_KEY")],
    },
    taikoHoodi: {
      type: "http",
      chainType: "generic",
      chainId: 167013,
      url: configVariable("TAIKO_HOODI_RPC_URL"),
      accounts: [configVariable("TAIKO_HOODI_PRIVATE_KEY")],
    },
    taikoHekla: {
      type: "http",
      chainType: "generic",
      chainId: 167009,
      url: configVariable("TAIKO_HEKLA_RPC_URL"),
      accounts: [configVariable("TAIKO_HEKLA_PRIVATE_KEY")],
    },
  },
});
