#!/usr/bin/env bash
# Regenerate BENCHMARKS-suite.md/.html from records/suite-core-0.5b (links made relative to the repo root).
set -euo pipefail
cd "$(dirname "$0")/../.."
R=records/suite-core-0.5b
.venv/bin/ratiocinator eval suite report $R > /dev/null
items=$(cat $R/*/results.jsonl | wc -l)
members=$(for f in $R/*/results.jsonl; do d=$(dirname $f); n=$(wc -l < $f); echo $n; done | wc -l)
stamp="$(date -u '+%Y-%m-%d %H:%M') UTC"
{ sed "s/COUNT_ITEMS/$items/; s/COUNT_MEMBERS/$members/; s/STAMP/$stamp/" records/benchmarks-suite/suite_preface.md
  cat records/benchmarks-suite/lost_rows.md
  echo
  sed -E 's#\]\(([A-Za-z0-9_.-]+)/\)#](records/suite-core-0.5b/\1/)#g' $R/report.md
  echo
  sed -E 's#\(\.\./([A-Za-z0-9_.-]+)/\)#(records/\1/)#g' records/benchmarks-suite/failures.md
} > BENCHMARKS-suite.md
sed -E 's#href="([A-Za-z0-9_.-]+)/"#href="records/suite-core-0.5b/\1/"#g' $R/report.html > BENCHMARKS-suite.html
echo "items=$items members=$members"
