#!/usr/bin/env bash
# Re-resolve crmql's dependencies to today's newest releases and pin them in constraints.txt.
#
# The README's commands (and so .ci/run) install with `-c constraints.txt`, so a dependency release
# cannot turn main red between two commits. Refresh on purpose: run this, run the whole suite on the
# new pins, and commit constraints.txt together with any fixes the new versions need.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q -e '.[dev,notebook]'
{
  echo "# Pinned versions for the README's install commands (pip install -c constraints.txt)."
  echo "# Regenerate with scripts/refresh_constraints.sh; made with $("$venv/bin/python" --version) on $(date -u +%Y-%m-%d)."
  "$venv/bin/pip" freeze --exclude-editable | grep -v '^-e ' | LC_ALL=C sort -f
} > constraints.txt
rm -rf "$(dirname "$venv")"
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins"
