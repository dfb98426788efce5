#!/usr/bin/env bash
# Refreshes the vendored Scalar API reference bundle from its npm package:
#
#     server/assets/scalar/refresh.sh            # the version in SOURCE again
#     server/assets/scalar/refresh.sh 1.77.0     # another version
#
# `npm pack` fetches the package through the ordinary npm client, which
# checks the tarball against the registry's integrity hash; this script then
# copies the browser bundle as it is (no edit), and rewrites SOURCE with the
# version, the package's integrity and the bundle's SHA-256, which the
# server's tests hold the embedded file to. LICENSE is not in the package:
# the script stops if the package's licence is no longer MIT, so that the
# copy next to it stays true.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
package="@scalar/api-reference"
bundle="dist/browser/standalone.js"
version="${1:-$(awk '$1 == "version" { print $2 }' "$here/SOURCE")}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"

licence=$(node -p "require('$work/package/package.json').license")
if [ "$licence" != "MIT" ]; then
    echo "refresh: $package@$version is licensed '$licence', not MIT: replace LICENSE and this check by hand" >&2
    exit 1
fi
integrity=$(cd "$work" && npm view "$package@$version" dist.integrity)

cp "$work/package/$bundle" "$here/standalone.js"
sha256=$(sha256sum "$here/standalone.js" | cut -d' ' -f1)
cat >"$here/SOURCE" <<SOURCE
package $package
version $version
file $bundle
integrity $integrity
sha256 $sha256
SOURCE
echo "refresh: $package@$version, $(wc -c <"$here/standalone.js") bytes, sha256 $sha256"
echo "refresh: now run tests/browser/run.sh, and update the version and size in README.md next to this script"
