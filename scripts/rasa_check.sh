#!/usr/bin/env bash
# Optional check against a real Rasa 3.6 server: trains on nlu/data/ unchanged and serves /model/parse.
#
#   scripts/rasa_check.sh            # create venv (first time: several minutes), train, serve on :5005
#   TIENGDAN_TEST_RASA_URL=http://127.0.0.1:5005 .venv/bin/python -m pytest tests/nlu/test_nlu_real_rasa.py
#
# Rasa 3.6 needs Python <= 3.10; the pyenv 3.10 interpreter is used. Stop the server with Ctrl-C.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY310="${PY310:-/root/.pyenv/versions/3.10.13/bin/python}"
VENV="${RASA_VENV:-$ROOT/build/rasa-venv}"  # build/ is gitignored
WORK="${RASA_WORK:-$ROOT/build/rasa}"
PORT="${RASA_PORT:-5005}"

if [ ! -x "$VENV/bin/rasa" ]; then
  "$PY310" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "rasa==3.6.21"
fi

mkdir -p "$WORK"
cat > "$WORK/config.yml" <<'YAML'
recipe: default.v1
language: vi
assistant_id: tiengdan
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
    use_lookup_tables: false
  - name: RegexEntityExtractor
    use_lookup_tables: true
    use_regexes: true
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    entity_recognition: false
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.45
policies: []
YAML

cd "$WORK"
"$VENV/bin/rasa" train nlu --nlu "$ROOT/nlu/data" --config "$WORK/config.yml" --out "$WORK/models"
exec "$VENV/bin/rasa" run --enable-api --port "$PORT" --model "$WORK/models" --cors "*"
