# Sourced by scripts/run (after _venv.sh, which sets $PY): collects the static files,
# unless nothing they come from changed since the last collection. Compressing them
# (whitenoise: gzip and brotli of the API reference bundles) costs about 20 s of CPU,
# more than a minute on a busy 2-core machine, and a restart needs none of it.
# What they come from: the installed packages (pyproject.toml), ./static and the
# storage backend. The stamp lives in STATIC_ROOT, so removing that folder recollects.
static_root="${STATIC_ROOT:-${PORTAL_VAR_DIR:-var}/staticfiles}"
static_stamp="$static_root/.collected-$(
  {
    sha256sum pyproject.toml
    echo "${STATICFILES_BACKEND:-}"
    find static -type f -printf '%P %s %T@\n' | sort
  } | sha256sum | cut -c1-16
)"
if [ -f "$static_stamp" ]; then
  echo "static files: unchanged since the last collection"
else
  "$PY" manage.py collectstatic --noinput --verbosity 0
  rm -f "$static_root"/.collected-*
  touch "$static_stamp"
fi
