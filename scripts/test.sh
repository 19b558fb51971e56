#!/usr/bin/env bash
# Every test: the Solidity tests (test/solidity/*.t.sol), then one mocha run over every
# test/**/*.test.ts. Only *.test.ts files are test files: test/ also holds helpers and fixture
# programs that tests start as child processes, which must not be loaded as tests.
# Extra arguments go to both runners (e.g. --grep is mocha's, so pass files instead).
set -euo pipefail
cd "$(dirname "$0")/.."
export HARDHAT_DISABLE_TELEMETRY_PROMPT=true
npx hardhat test solidity
mapfile -t files < <(find test -name '*.test.ts' -type f | sort)
npx hardhat test mocha --no-compile "${files[@]}"
