#!/bin/bash
# usage: run_cases.sh PORT [CASES]
P=$1; F=${2:-cases.txt}; i=0
while read -r line; do i=$((i+1)); line=${line//:P\//:$P/}; echo "== $i: $line"; eval curl -s -i -H "'User-Agent: t'" $line | tr -d '\r' | grep -v '^Date:'; echo; done < $F
