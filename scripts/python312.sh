#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter (Django 6 needs ≥ 3.12): PATH first, then pyenv installs.
set -euo pipefail
for candidate in "${PYTHON:-}" python3.12 python3; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' 2>/dev/null; then
    echo "$path"; exit 0
  fi
done
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for path in $(ls -d "$root"/versions/3.12*/bin/python3.12 2>/dev/null | sort -V -r); do
  "$path" -c 'import sys' 2>/dev/null && { echo "$path"; exit 0; }
done
echo "Python 3.12 not found: install it (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12" >&2
exit 1
