import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { loadConfig } from "../../../node/src/config/load.js";
import { parseBytes } from "../../../node/src/config/options.js";
import { HoldfastError, isHoldfastError } from "../../../node/src/errors.js";

async function configError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(isHoldfastError(error, "ERR_INVALID_CONFIG"), String(error)).to.equal(true);
    return (error as Error).message;
  }
  return expect.fail("the configuration was accepted");
}

describe("node configuration", function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-config-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("has safe defaults: API on 127.0.0.1, 20 GiB quota, no metrics server", async function () {
    const config = await loadConfig({ flags: {}, env: {} });
    expect(config).to.deep.equal({
      dataDir: "holdfast-data",
      apiPort: 8080,
      apiBindAddress: "127.0.0.1",
      metricsPort: undefined,
      metricsBindAddress: "127.0.0.1",
      logLevel: "info",
      storageQuota: 20 * 2 ** 30,
      maxUploadSize: undefined,
      listenAddrs: ["/ip4/0.0.0.0/tcp/8070"],
      announceAddrs: [],
      bootstrapNodes: [],
      networkTimeout: 30_000,
      ethProvider: undefined,
      ethPrivateKey: undefined,
      ethKeystore: undefined,
      ethKeystorePasswordFile: undefined,
      marketplaceAddress: undefined,
      ethConfirmations: 1,
      ethPollInterval: 2_000,
      ethMaxLogRange: 2_000,
      persistence: false,
      circuitDir: undefined,
      salesWorkers: 2,
      validator: false,
      validatorGroups: undefined,
      validatorGroupIndex: 0,
    });
  });

  it("takes the marketplace settings and checks the rules between them", async function () {
    const key = `0x${"11".repeat(32)}`;
    const config = await loadConfig({
      flags: {
        "eth-provider": "http://127.0.0.1:8545",
        "eth-private-key": key,
        "marketplace-address": `0x${"ab".repeat(20)}`,
        persistence: true,
        "circuit-dir": "build/dev",
      },
      env: {
        HOLDFAST_VALIDATOR: "true",
        HOLDFAST_VALIDATOR_GROUPS: "4",
        HOLDFAST_VALIDATOR_GROUP_INDEX: "3",
      },
    });
    expect(config.persistence).to.equal(true);
    expect(config.validator).to.equal(true);
    expect([config.validatorGroups, config.validatorGroupIndex]).to.deep.equal([4, 3]);

    const refused = async (flags: Record<string, string | boolean>, env = {}) => {
      const error = await loadConfig({ flags, env }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HoldfastError);
      return (error as HoldfastError).message;
    };
    expect(await refused({ persistence: true })).to.match(/--persistence need --eth-provider/);
    expect(await refused({ "eth-provider": "http://127.0.0.1:8545" })).to.match(/needs an account/);
    expect(await refused({ "eth-provider": "ftp://x" })).to.match(
      /--eth-provider: must be an http/,
    );
    expect(await refused({ "eth-private-key": "0x12" })).to.match(/64 hex digits/);
    expect(await refused({ "marketplace-address": "0x12" })).to.match(/40 hex digits/);
    expect(
      await refused({
        "eth-provider": "http://127.0.0.1:8545",
        "eth-private-key": key,
        persistence: true,
      }),
    ).to.match(/--persistence needs --circuit-dir/);
    expect(await refused({ "validator-groups": "2", "validator-group-index": "2" })).to.match(
      /must be below --validator-groups \(2\)/,
    );
    expect(await refused({ "validator-group-index": "1" })).to.match(
      /--validator-group-index needs --validator-groups/,
    );
    expect(await refused({}, { HOLDFAST_PERSISTENCE: "maybe" })).to.match(
      /HOLDFAST_PERSISTENCE: must be true or false/,
    );
  });

  it("takes repeated, comma-separated or JSON-array multiaddrs and validates each", async function () {
    const peer = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
    const file = path.join(dir, "p2p.json");
    await writeFile(
      file,
      JSON.stringify({ bootstrapNodes: [`/ip4/10.0.0.1/tcp/1/p2p/${peer}`], networkTimeout: 500 }),
    );
    const config = await loadConfig({
      flags: {
        config: file,
        "listen-addrs": ["/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/0"],
      },
      env: { HOLDFAST_ANNOUNCE_ADDRS: "/dns4/a.example/tcp/8070, /ip4/1.2.3.4/tcp/8070" },
    });
    expect(config.listenAddrs).to.deep.equal(["/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/0"]);
    expect(config.announceAddrs).to.deep.equal([
      "/dns4/a.example/tcp/8070",
      "/ip4/1.2.3.4/tcp/8070",
    ]);
    expect(config.bootstrapNodes).to.deep.equal([`/ip4/10.0.0.1/tcp/1/p2p/${peer}`]);
    expect(config.networkTimeout).to.equal(500);
    try {
      await loadConfig({
        flags: {
          "bootstrap-node": ["/ip4/10.0.0.1/tcp/1"],
          "listen-addrs": ["/ip4/1.2.3.4/udp/1"],
        },
        env: {},
      });
      expect.fail("expected ERR_INVALID_CONFIG");
    } catch (error) {
      expect((error as { code?: string }).code).to.equal("ERR_INVALID_CONFIG");
      expect((error as Error).message).to.match(
        /--listen-addrs: listen address .* must have the form/,
      );
      expect((error as Error).message).to.match(
        /--bootstrap-node: bootstrap node .* \/p2p\/<peer id>/,
      );
    }
  });

  it("takes a flag over an environment variable over the config file", async function () {
    const file = path.join(dir, "precedence.json");
    await writeFile(
      file,
      JSON.stringify({
        apiPort: 1111,
        logLevel: "debug",
        dataDir: "/from/file",
        storageQuota: "1GiB",
      }),
    );
    const config = await loadConfig({
      flags: { config: file, "api-port": "3333" },
      env: { HOLDFAST_API_PORT: "2222", HOLDFAST_LOG_LEVEL: "warn", HOLDFAST_METRICS_PORT: "9100" },
    });
    expect(config).to.include({
      apiPort: 3333,
      logLevel: "warn",
      dataDir: "/from/file",
      storageQuota: 2 ** 30,
      metricsPort: 9100,
    });
  });

  it("reads the config file named by HOLDFAST_CONFIG", async function () {
    const file = path.join(dir, "env.json");
    await writeFile(file, JSON.stringify({ maxUploadSize: 1000 }));
    expect(
      (await loadConfig({ flags: {}, env: { HOLDFAST_CONFIG: file } })).maxUploadSize,
    ).to.equal(1000);
  });

  it("reports every invalid value with its source", async function () {
    const file = path.join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ metricsPort: 70000, colour: "blue" }));
    const message = await configError(
      loadConfig({
        flags: { config: file, "log-level": "loud" },
        env: { HOLDFAST_STORAGE_QUOTA: "-5" },
      }),
    );
    expect(message).to.include("--log-level: must be one of");
    expect(message).to.include("environment variable HOLDFAST_STORAGE_QUOTA");
    expect(message).to.include(`"metricsPort" in ${file}`);
    expect(message).to.include('unknown setting "colour"');
  });

  it("refuses a missing or malformed config file", async function () {
    expect(
      await configError(loadConfig({ flags: { config: path.join(dir, "nope.json") }, env: {} })),
    ).to.include("cannot be read");
    const file = path.join(dir, "broken.json");
    await writeFile(file, "{ not json");
    expect(await configError(loadConfig({ flags: { config: file }, env: {} }))).to.include(
      "not valid JSON",
    );
    await writeFile(file, "[1, 2]");
    expect(await configError(loadConfig({ flags: { config: file }, env: {} }))).to.include(
      "JSON object",
    );
  });

  it("parses sizes with units", function () {
    expect(parseBytes("20GiB")).to.deep.equal({ value: 20 * 2 ** 30 });
    expect(parseBytes("500 MB")).to.deep.equal({ value: 500e6 });
    expect(parseBytes("1.5KiB")).to.deep.equal({ value: 1536 });
    expect(parseBytes(4096)).to.deep.equal({ value: 4096 });
    for (const bad of ["", "0", "-1", "12XB", "GiB", 1.5, null])
      expect(parseBytes(bad)).to.have.property("error");
  });
});
