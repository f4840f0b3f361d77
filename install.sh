#!/usr/bin/env bash
# Set up villageboard on this machine. Safe to run again at any time.
#   ./install.sh         the app: .venv with the package, and a Chinese font
#   ./install.sh --dev   also the test tools (pytest …, poppler-utils, zbar-tools)
set -euo pipefail
cd "$(dirname "$0")"

DEV=0
for arg in "$@"; do
    case "$arg" in
        --dev) DEV=1 ;;
        -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "未知参数 / unknown option: $arg" >&2; exit 2 ;;
    esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- Python ≥ 3.11 ------------------------------------------------------------
PY=""
for cand in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PY="$cand"; break
    fi
done
if [ -z "$PY" ]; then
    echo "需要 Python 3.11 或更新版本 / Python >= 3.11 is required." >&2
    echo "Debian/Ubuntu: sudo apt-get install python3 python3-venv" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
APT_UPDATED=0
APT_WAIT="${APT_WAIT:-300}"   # seconds to wait for another program holding the apt lock
apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    local lock_opt=(-o "DPkg::Lock::Timeout=$APT_WAIT")
    if [ "$APT_UPDATED" = 0 ]; then
        $SUDO apt-get "${lock_opt[@]}" update -qq >/dev/null 2>&1 || true
        APT_UPDATED=1
    fi
    if command -v fuser >/dev/null 2>&1 && $SUDO fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; then
        echo "系统的软件安装程序正在运行，最多等待 ${APT_WAIT} 秒 / waiting up to ${APT_WAIT}s for the apt lock" >&2
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${lock_opt[@]}" install -y -qq "$@" >/dev/null
}

# pip's own warnings and progress are shown only when it fails.
quiet_pip() {
    local log
    log="$(mktemp)"
    if ! .venv/bin/python -m pip "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "安装依赖失败（见上面的信息）/ installing the dependencies failed (see above)" >&2
        return 1
    fi
    rm -f "$log"
}

# --- the virtual environment -----------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    say "创建虚拟环境 .venv / creating .venv"
    if ! "$PY" -m venv .venv 2>/dev/null; then
        apt_install python3-venv || true
        rm -rf .venv
        "$PY" -m venv .venv
    fi
fi
EXTRA=""
[ "$DEV" = 1 ] && EXTRA="[dev]"
STAMP=".venv/.villageboard-installed${EXTRA}"
WANT="$(cat pyproject.toml | cksum)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    say "安装程序和依赖 / installing the package${EXTRA}"
    quiet_pip install --disable-pip-version-check -q --upgrade pip
    quiet_pip install --disable-pip-version-check -q -e ".${EXTRA}"
    echo "$WANT" > "$STAMP"
else
    say "依赖已是最新 / dependencies up to date"
fi

# --- a CJK font for the posters ---------------------------------------------------------
has_cjk_font() {
    .venv/bin/python - <<'PY' 2>/dev/null
import sys
try:
    from villageboard.render.fonts import primary_font
    primary_font()
except Exception:
    sys.exit(1)
PY
}
if ! has_cjk_font; then
    say "安装中文字体 / installing a CJK font"
    if apt_install fonts-wqy-microhei || apt_install fonts-noto-cjk; then
        command -v fc-cache >/dev/null 2>&1 && fc-cache -f >/dev/null 2>&1 || true
    else
        cat >&2 <<'MSG'
没有找到中文字体，打印公示需要一个。请安装其中之一，或在“设置”里指定字体文件：
No CJK font was found; the posters need one. Install one of these, or set
VILLAGEBOARD_FONT=/path/to/font.ttc:
  Debian/Ubuntu : sudo apt-get install fonts-wqy-microhei   (or fonts-noto-cjk)
  Fedora        : sudo dnf install wqy-microhei-fonts
  Arch          : sudo pacman -S wqy-microhei
  macOS         : PingFang / Songti are built in (nothing to do)
  Windows       : 微软雅黑 msyh.ttc / 宋体 simsun.ttc are built in (nothing to do)
MSG
    fi
fi

# --- test tools ------------------------------------------------------------------------
if [ "$DEV" = 1 ]; then
    need=()
    command -v pdftotext >/dev/null 2>&1 && command -v pdffonts >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
    command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
    command -v tmux >/dev/null 2>&1 || need+=(tmux)
    if [ ${#need[@]} -gt 0 ]; then
        say "安装测试工具 / installing test tools: ${need[*]}"
        apt_install "${need[@]}" || echo "请手动安装 / please install: ${need[*]}" >&2
    fi
fi

echo
if [ "$DEV" = 1 ]; then
    say "完成。运行测试 / done. Run the tests:  .venv/bin/python -m pytest"
else
    say "完成。打开演示乡镇 / done. Open the demo township:  .venv/bin/villageboard --demo"
fi
