#!/usr/bin/env node
// Entry point of the `holdfast` command. Kept in plain JavaScript so it can say clearly when Node is
// too old or the TypeScript has not been built, instead of failing on a syntax or import error.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `holdfast: Node >= 22.13 is required, this is ${process.versions.node}.\n` +
      "  Run `source scripts/bootstrap-node.sh` in the repository to put Node 22 on PATH.\n",
  );
  process.exit(1);
}

try {
  const { main } = await import("../dist/cli/main.js");
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (
    error?.code === "ERR_MODULE_NOT_FOUND" &&
    String(error.message).includes("dist/cli/main.js")
  ) {
    process.stderr.write("holdfast: the node is not built yet; run `npm run build` first.\n");
    process.exit(1);
  }
  throw error;
}
