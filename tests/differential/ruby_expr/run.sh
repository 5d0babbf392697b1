#!/usr/bin/env bash
# Compare logferry's Ruby subset (crates/formats/src/ruby_expr.rs) with Ruby itself on random
# expressions: gen.py draws them, eval.rb evaluates each as Fluentd 1.16's record_transformer
# (enable_ruby) does, in a replica of its clean room, and the ignored test
# ruby_expr::tests::compare_with_ruby evaluates them with logferry and fails on any difference
# (an expression logferry refuses, or answers "not supported", is counted, not compared).
#
# usage: run.sh SEED [COUNT]      (needs `ruby`, Ruby 3.1 as Fluentd's reference; TZ=UTC)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
seed=${1:?usage: run.sh SEED [COUNT]}
count=${2:-3000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen.py" "$seed" "$count" > "$tmp/exprs"
TZ=UTC ruby -Eascii-8bit:ascii-8bit "$here/eval.rb" "$tmp/exprs" "$here/record.json" 2>/dev/null > "$tmp/ruby"
paste -d '\t' "$tmp/exprs" "$tmp/ruby" > "$tmp/cases.tsv"
cd "$here/../../.."
RUBY_EXPR_TSV="$tmp/cases.tsv" RUBY_EXPR_RECORD="$here/record.json" TZ=UTC \
  nice cargo test -p logferry-formats --lib ruby_expr::tests::compare_with_ruby -- --ignored --nocapture
