#!/bin/sh
# tests/fuzz/seeds.sh write|check MKSEEDS CORPUS TMP -- the generated seeds
# (gen-* in CORPUS/TARGET, written by mkseeds.c from the real encoders).
#   write  replace every gen-* of CORPUS with what MKSEEDS writes now
#          (make fuzz-seeds; commit the result)
#   check  fail unless CORPUS's gen-* are exactly what MKSEEDS writes now
#          (make fuzz-smoke): an encoding changed, the seeds did not
# TMP is where MKSEEDS writes first (emptied).
set -eu
mode=$1 mkseeds=$2 corpus=$3 tmp=$4
rm -rf "$tmp"
mkdir -p "$tmp"
"$mkseeds" "$tmp"
if [ "$mode" = write ]; then
	rm -f "$corpus"/*/gen-*
	for d in "$tmp"/*/; do
		t=$(basename "$d")
		mkdir -p "$corpus/$t"
		cp "$d"gen-* "$corpus/$t/"
	done
	echo "seeds written: $(ls "$tmp"/*/gen-* | wc -l) in $corpus"
	exit 0
fi
stale=$( (cd "$tmp" && ls */gen-*; cd "$corpus" && ls */gen-*) | sort -u |
	while read -r f; do
		cmp -s "$tmp/$f" "$corpus/$f" || echo "$f"
	done)
if [ -n "$stale" ]; then
	echo "the committed seeds differ from what the encoders make now:" $stale
	echo "run make fuzz-seeds and commit tests/fuzz/corpus"
	exit 1
fi
echo "seeds: $(ls "$tmp"/*/gen-* | wc -l) generated seeds, as committed"
