#!/usr/bin/env bash
# Copy GOV.UK Frontend's built assets from node_modules into archive/web/static/govuk/.
#
# The copied files are committed, so `pip install .` gives styled pages without npm.
# Run `npm ci` first; this script never downloads anything itself.
#
# Two rewrites are applied to the precompiled CSS (docs/frontend.md explains both):
#   1. url(/assets/...) becomes url(assets/...), so fonts and images resolve next to the
#      stylesheet wherever Flask mounts /static, instead of at a site-root /assets/ we do not serve.
#   2. The GDS Transport @font-face rules are removed and the font stack becomes
#      var(--chorus-font-family, arial, sans-serif): the font is licensed for GOV.UK only
#      (Chorus runs on council domains), and phones should not download fonts before they can act.
#      The font files are therefore not copied.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo_root/node_modules/govuk-frontend"
dist="$src/dist/govuk"
dest="$repo_root/archive/web/static/govuk"

pinned="$(node -p "require('$repo_root/package.json').dependencies['govuk-frontend']")"
installed="$(node -p "require('$src/package.json').version" 2>/dev/null || true)"
if [[ -z "$installed" ]]; then
  echo "govuk-frontend is not installed; run 'npm ci' first" >&2
  exit 1
fi
# A stale node_modules would silently vendor the wrong release.
if [[ "$installed" != "$pinned" ]]; then
  echo "node_modules has govuk-frontend $installed but package.json pins $pinned; run 'npm ci'" >&2
  exit 1
fi

rm -rf "$dest"
mkdir -p "$dest/assets"
cp -R "$dist/assets/images" "$dest/assets/images"
cp "$dist/assets/manifest.json" "$dest/assets/manifest.json"
# Source maps are not shipped, so drop the comments that would make devtools request them.
sed -e 's#//\# sourceMappingURL=[^ ]*$##' "$dist/govuk-frontend.min.js" > "$dest/govuk-frontend.min.js"

node - "$dist/govuk-frontend.min.css" "$dest/govuk-frontend.min.css" <<'NODE'
const fs = require('fs')
const [input, output] = process.argv.slice(2)
let css = fs.readFileSync(input, 'utf8')
const before = css.length

css = css.replace(/url\(\/assets\//g, 'url(assets/')
css = css.replace(/\/\*![^*]*Margaret Calvert[^*]*\*\//g, '')
css = css.replace(/@font-face\{font-family:GDS Transport;[^}]*\}/g, '')
css = css.replace(/font-family:GDS Transport,arial,sans-serif/g,
  'font-family:var(--chorus-font-family,arial,sans-serif)')
css = css.replace(/\n?\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '\n')

// Fail loudly if an upstream change means a rewrite no longer matches.
for (const leftover of ['GDS Transport', 'url(/assets/', 'sourceMappingURL']) {
  if (css.includes(leftover)) {
    console.error(`rewrite incomplete: "${leftover}" still in the CSS; update this script`)
    process.exit(1)
  }
}
fs.writeFileSync(output, css)
console.log(`govuk-frontend.min.css: ${before} -> ${css.length} bytes`)
NODE

# The npm package ships no LICENSE file; its README carries the licence statement and the
# upstream repository's LICENSE.txt the MIT text. Record both, word for word.
{
  echo "GOV.UK Frontend $installed (npm package govuk-frontend), https://github.com/alphagov/govuk-frontend"
  echo
  echo "Licence statement from the package README.md:"
  echo
  sed -n '/^## Licence$/,/^## /{/^## Licence$/d;/^## /d;p}' "$src/README.md" | sed -e '/./,$!d'
  echo "LICENSE.txt from the upstream repository at tag v$installed:"
  echo
  cat <<'MIT'
The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
MIT
} > "$dest/LICENSE"

printf '%s\n' "$installed" > "$dest/VERSION"
echo "vendored govuk-frontend $installed into ${dest#"$repo_root"/}"
