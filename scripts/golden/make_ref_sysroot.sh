#!/usr/bin/env bash
# Build (idempotently) a Debian sid sysroot containing Hugging Face transformers
# and CPU torch, and run the golden-value generator inside it.
#
# Usage (as root, from anywhere):
#   scripts/golden/make_ref_sysroot.sh          # create/update <repo>/.sysroot-ref
#   scripts/golden/make_ref_sysroot.sh run      # (create if needed, then) regenerate tests/data/golden/
#   scripts/golden/make_ref_sysroot.sh survey   # regenerate tests/data/survey/ (scripts/golden/survey.py)
#   scripts/golden/make_ref_sysroot.sh mrope    # regenerate tests/data/golden/mrope/ (make_mrope_golden.py)
#   scripts/golden/make_ref_sysroot.sh fp8      # regenerate tests/data/golden/fp8/ (make_fp8_golden.py)
#   scripts/golden/make_ref_sysroot.sh shell    # interactive shell inside the sysroot
#
# The Debian mirror is read at run time from the host's apt sources
# (/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list); it is never
# hard-coded here. sid's Release file may be past Valid-Until on a frozen
# mirror/snapshot, so validity checking is disabled inside the sysroot.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"
SYSROOT="${SYSROOT:-$REPO/.sysroot-ref}"
SUITE="${SUITE:-sid}"
PKGS="python3 python3-transformers python3-torch python3-numpy"
MODE="${1:-build}"

step() { printf '==> %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mount namespaces)"

host_mirror() {
    local m=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        # deb822: first URIs: line whose value ends in /debian (not -security)
        m="$(awk 'tolower($1)=="uris:" { for (i=2;i<=NF;i++) if ($i !~ /security/) { print $i; exit } }' \
              /etc/apt/sources.list.d/*.sources | head -n1)"
    fi
    if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
        m="$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } } }' \
              /etc/apt/sources.list | head -n1)"
    fi
    [ -n "$m" ] || die "could not read a Debian mirror from the host's apt sources"
    printf '%s\n' "${m%/}"
}

in_root() {  # run a bash command inside the sysroot with /proc mounted, private mount ns
    unshare --mount --fork chroot "$SYSROOT" /bin/bash -c "mount -t proc proc /proc; $1"
}

build() {
    local mirror
    mirror="$(host_mirror)"
    step "mirror (from host apt sources): $mirror"
    command -v debootstrap >/dev/null || die "debootstrap not installed on host"

    if [ ! -x "$SYSROOT/usr/bin/apt-get" ]; then
        step "debootstrap --variant=minbase $SUITE -> $SYSROOT"
        rm -rf "$SYSROOT"
        mkdir -p "$SYSROOT"
        debootstrap --variant=minbase "$SUITE" "$SYSROOT" "$mirror"
    else
        step "sysroot already bootstrapped: $SYSROOT"
    fi

    step "configuring apt inside sysroot"
    cp -L /etc/resolv.conf "$SYSROOT/etc/resolv.conf" 2>/dev/null || true
    rm -f "$SYSROOT/etc/apt/sources.list"
    cat > "$SYSROOT/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat > "$SYSROOT/etc/apt/apt.conf.d/99no-check-valid-until" <<'CONF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
CONF

    if in_root "python3 -c 'import transformers, torch, numpy' 2>/dev/null"; then
        step "transformers/torch/numpy already installed"
    else
        step "apt-get install $PKGS"
        in_root "export DEBIAN_FRONTEND=noninteractive; apt-get update && apt-get install -y $PKGS && apt-get clean"
    fi
    in_root "python3 -c 'import transformers, torch, numpy; print(\"transformers\", transformers.__version__, \"torch\", torch.__version__, \"numpy\", numpy.__version__)'" >&2
    step "sysroot ready: $SYSROOT"
}

run_script() {  # run_script <script> <command label> [args...]: run a generator inside the sysroot
    local script="$1" label="$2"; shift 2
    [ -x "$SYSROOT/usr/bin/python3" ] || build
    step "running $script inside sysroot (repo bind-mounted at $REPO)"
    mkdir -p "$SYSROOT$REPO"
    unshare --mount --fork bash -c "
        set -euo pipefail
        mount --bind '$REPO' '$SYSROOT$REPO'
        chroot '$SYSROOT' /bin/bash -c '
            mount -t proc proc /proc
            cd \"$REPO\"
            export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
            export GOLDEN_COMMAND=\"$label\" SURVEY_COMMAND=\"$label\"
            python3 $script \"\$@\"
        ' bash \"\$@\"
    " bash "$@"
}

case "$MODE" in
    build) build ;;
    run)   shift; run_script scripts/golden/make_golden.py "scripts/golden/make_ref_sysroot.sh run" "$@"
           step "golden files written to $REPO/tests/data/golden/" ;;
    survey) shift; run_script scripts/golden/survey.py "scripts/golden/make_ref_sysroot.sh survey" "$@"
            step "survey written to $REPO/tests/data/survey/" ;;
    mrope) shift; run_script scripts/golden/make_mrope_golden.py "scripts/golden/make_ref_sysroot.sh mrope" "$@"
           step "M-RoPE golden files written to $REPO/tests/data/golden/mrope/" ;;
    fp8) shift; run_script scripts/golden/make_fp8_golden.py "scripts/golden/make_ref_sysroot.sh fp8" "$@"
         step "FP8 golden table written to $REPO/tests/data/golden/fp8/" ;;
    shell) [ -x "$SYSROOT/bin/bash" ] || build
           mkdir -p "$SYSROOT$REPO"
           unshare --mount --fork bash -c "mount --bind '$REPO' '$SYSROOT$REPO'; chroot '$SYSROOT' /bin/bash -c 'mount -t proc proc /proc; cd \"$REPO\"; exec bash -i'" ;;
    *)     die "usage: $0 [build|run [generator args]|survey [args]|mrope [args]|fp8 [args]|shell]" ;;
esac
