#!/usr/bin/env bash
# Puts a Node >= 22.13 first on PATH. Hardhat 3 and its native EDR package need it, and npm must run
# under it too (npm on Node 20 silently skips EDR's optional native package).
#
# Usage: source scripts/bootstrap-node.sh
# On a machine whose Node is already new enough this does nothing. Otherwise it installs the npm
# package `node@22` (which ships a Node 22 binary) once into a cache folder outside the repository,
# HOLDFAST_CACHE (default ~/.cache/holdfast), and prepends its bin folder to PATH.

holdfast_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=13)?0:1)'
}

if ! holdfast_node_ok; then
  _hf_cache="${HOLDFAST_CACHE:-$HOME/.cache/holdfast}"
  _hf_prefix="$_hf_cache/node22"
  _hf_bin="$_hf_prefix/node_modules/node/bin"
  if [ ! -x "$_hf_bin/node" ]; then
    echo "bootstrap-node: installing node@22 into $_hf_prefix" >&2
    mkdir -p "$_hf_prefix"
    npm install --prefix "$_hf_prefix" --no-save --no-audit --no-fund --loglevel=error node@22 >&2 || {
      echo "bootstrap-node: could not install node@22 from the npm registry" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  export PATH="$_hf_bin:$_hf_prefix/node_modules/.bin:$PATH"
  if ! holdfast_node_ok; then
    echo "bootstrap-node: $_hf_bin/node is not Node >= 22.13" >&2
    return 1 2>/dev/null || exit 1
  fi
  unset _hf_cache _hf_prefix _hf_bin
fi
unset -f holdfast_node_ok
