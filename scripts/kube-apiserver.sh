#!/usr/bin/env bash
# Builds kube-apiserver once from Debian's `kubernetes` source package and keeps it in a cache
# outside the repository, with a kubectl beside it. Prints the cache's bin directory (holding
# kube-apiserver and kubectl) on stdout; progress goes to stderr. A second run finds the stamp
# and returns at once.
#
#   bash scripts/kube-apiserver.sh          build if needed, print the bin directory
#   bash scripts/kube-apiserver.sh --check  print the bin directory if built, else exit 1
#
# Debian ships no kube-apiserver binary; its 1.20 source builds one in about 150 s on 2 cores.
# The three steps Debian's tarball needs (GOPATH mode, generated OpenAPI code, a newer
# reflect2) are explained in place below. Everything comes from Debian's archive.
set -euo pipefail

# The source version this recipe was written and measured for. RECIPE changes when the build
# steps do, so an old cache is rebuilt rather than trusted.
readonly DEB_VERSION='1.20.5+really1.20.2-1.1+deb12u1'
readonly KUBE_VERSION='v1.20.2'
readonly RECIPE=1
readonly CACHE_ROOT="${WREN_CACHE_DIR:-/var/cache/wren}"
readonly DIR="$CACHE_ROOT/kube-apiserver-$KUBE_VERSION"
readonly STAMP="$DIR/stamp"
readonly WANT_STAMP="kubernetes $DEB_VERSION recipe $RECIPE"

say() { echo "wren: $*" >&2; }

built() { [ -x "$DIR/bin/kube-apiserver" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT_STAMP" ]; }

# kubectl: the machine's own if it has one (any 1.20+ talks to this server), else Debian's
# kubernetes-client. A link, re-made on every run, so a kubectl removed later is noticed.
provide_kubectl() {
  local found
  found="$(command -v kubectl || true)"
  if [ -z "$found" ] || [ "$found" = "$DIR/bin/kubectl" ]; then
    [ -x /usr/bin/kubectl ] || install_debian kubernetes-client
    found=/usr/bin/kubectl
  fi
  ln -sfn "$found" "$DIR/bin/kubectl"
}

install_debian() {
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages ($*); run as root or install them: apt-get install $*"
    exit 1
  fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ "${1:-}" = "--check" ]; then
  built && [ -x "$DIR/bin/kubectl" ] && { echo "$DIR/bin"; exit 0; }
  exit 1
fi

mkdir -p "$CACHE_ROOT"
# One build at a time: the test suite's setup and a lab may both ask at once.
exec 9>"$CACHE_ROOT/kube-apiserver.lock"
flock 9

if built; then
  provide_kubectl
  echo "$DIR/bin"
  exit 0
fi

started=$SECONDS
say "building kube-apiserver $KUBE_VERSION from Debian's kubernetes source package, once;"
say "3 to 5 minutes on 2 cores (150-240 s of it compiling), about 2 GB in $DIR"

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v dpkg-source >/dev/null 2>&1 || need+=(dpkg-dev)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
[ -f /usr/share/gocode/src/github.com/modern-go/reflect2/go_above_118.go ] || need+=(golang-github-modern-go-reflect2-dev)
[ "${#need[@]}" -eq 0 ] || install_debian "${need[@]}"

# The source needs a deb-src entry for the suite the machine already uses.
if ! apt-cache showsrc kubernetes 2>/dev/null | grep -qx "Version: $DEB_VERSION"; then
  [ "$(id -u)" -eq 0 ] || { say "no deb-src entry for kubernetes $DEB_VERSION; run as root"; exit 1; }
  uri="$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  say "adding a deb-src entry (${uri:-http://deb.debian.org/debian} bookworm main)"
  cat >/etc/apt/sources.list.d/wren-deb-src.sources <<EOF
Types: deb-src
URIs: ${uri:-http://deb.debian.org/debian}
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -qq >/dev/null
fi

work="$CACHE_ROOT/kube-apiserver-build.$$"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work" "$DIR/bin"
say "[1/5] fetching and unpacking the source (34 MB)"
(cd "$work" && apt-get source --download-only -qq "kubernetes=$DEB_VERSION" >/dev/null 2>&1)
# apt checked the files against the archive's signed index; dpkg-source's own signature check
# only warns that the uploader's key is not on this machine, so its chatter goes to a log.
dpkg-source -x "$work"/kubernetes_*.dsc "$work/src" >"$work/unpack.log" 2>&1 \
  || { tail -20 "$work/unpack.log" >&2; exit 1; }
rm -f "$work"/kubernetes_*

# Pitfall 1: Kubernetes 1.20 builds in GOPATH mode (module mode with -mod=vendor fails with
# "updates to go.mod needed"), with its package path linked into a GOPATH.
mkdir -p "$work/gopath/src/k8s.io"
ln -s "$work/src" "$work/gopath/src/k8s.io/kubernetes"
export GOPATH="$work/gopath" GO111MODULE=off GOPROXY=off GOFLAGS= CGO_ENABLED=0
export GOCACHE="$DIR/go-build-cache"
cd "$work/gopath/src/k8s.io/kubernetes"

# Pitfall 3: the vendored reflect2 v1.0.1 crashes Go >= 1.18 programs ("fatal error: fault")
# on the first custom-resource create; Debian's v1.0.2 does not.
say "[2/5] replacing the vendored reflect2 with Debian's v1.0.2"
rm -f vendor/github.com/modern-go/reflect2/*.go vendor/github.com/modern-go/reflect2/*.s
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go /usr/share/gocode/src/github.com/modern-go/reflect2/*.s \
  vendor/github.com/modern-go/reflect2/

# Pitfall 2: pkg/generated/openapi is generated at build time and not in the tarball. Generate
# it as build/root/Makefile.generated_files does, from every package tagged +k8s:openapi-gen=.
say "[3/5] generating the OpenAPI definitions (about 10 s)"
go build -o "$work/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
# The trailing slashes make grep follow vendor/k8s.io's links into staging/.
dirs="$(grep -rl --include='*.go' '^// *+k8s:openapi-gen=' pkg cmd plugin vendor/k8s.io/*/ \
  | grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' \
  | xargs -n1 dirname | LC_ALL=C sort -u | sed 's|^|k8s.io/kubernetes/|' | paste -sd, -)"
"$work/openapi-gen" --logtostderr -v 0 -i "$dirs" -p k8s.io/kubernetes/pkg/generated/openapi \
  -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
  -r "$work/openapi-violations.report" 2>"$work/openapi-gen.log" \
  || { tail -20 "$work/openapi-gen.log" >&2; exit 1; }

say "[4/5] compiling ./cmd/kube-apiserver (the long part: 150-240 s cold, about 20 s with a warm Go cache)"
ldflags=""
for pkg in client-go/pkg/version component-base/version; do
  p="k8s.io/kubernetes/vendor/k8s.io/$pkg"
  ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=20"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done
(
  # A dot every 30 s, so a first-time user sees the build is alive. It holds neither the lock
  # nor stdout: its last `sleep` may outlive the script, and must not keep either open.
  while sleep 30; do printf '.' >&2; done
) 9>&- >/dev/null &
ticker=$!
trap 'kill $ticker 2>/dev/null || true; rm -rf "$work"' EXIT
# -trimpath: the build directory differs per run, and without it every path in the objects (and
# so every cache key) would too, leaving Go's cache useless for a rebuild.
go build -trimpath -tags selinux,notest -ldflags "-s -w $ldflags" -o "$DIR/bin/kube-apiserver.new" ./cmd/kube-apiserver
kill $ticker 2>/dev/null || true
echo >&2
mv "$DIR/bin/kube-apiserver.new" "$DIR/bin/kube-apiserver"

say "[5/5] kubectl"
provide_kubectl
echo "$WANT_STAMP" >"$STAMP"
say "kube-apiserver $("$DIR/bin/kube-apiserver" --version | awk '{print $2}') built in $((SECONDS - started)) s: $DIR/bin"
echo "$DIR/bin"
