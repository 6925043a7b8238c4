# Sourced by scripts/run and scripts/test: makes ./.venv and installs the project
# (with test extras) when pyproject.toml changed since the last install.
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$PY" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  "$PY" -m pip install --quiet -e ".[test]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
