#!/usr/bin/env bash
# Regenerate the invented demo media in archive/demo/media (see archive/demo/MEDIA.md).
#
# Needs: espeak-ng and sox (Debian: apt-get install espeak-ng sox), and the Python
# packages pillow, numpy and imageio-ffmpeg (whose bundled ffmpeg does the encoding, so
# no system ffmpeg is needed). With the same tool versions the output is byte-identical;
# the script prints a size/SHA-256 table for MEDIA.md.
set -euo pipefail

# Work from the repository root so every path written is relative to it.
cd "$(dirname "$0")/.."

missing=()
for tool in espeak-ng sox soxi; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "missing: ${missing[*]} (Debian: apt-get install espeak-ng sox)" >&2
    exit 1
fi
if ! python -c "import PIL, numpy, imageio_ffmpeg" 2>/dev/null; then
    echo "missing Python packages: pip install pillow numpy imageio-ffmpeg" >&2
    exit 1
fi

exec python scripts/make_demo_media.py "$@"
