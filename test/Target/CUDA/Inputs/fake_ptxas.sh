#!/bin/sh
# Stands in for ptxas in ptxas_all_archs.onnxtxt: appends its -arch argument
# to $FAKE_PTXAS_LOG and rejects the architecture $FAKE_PTXAS_FAIL names.
echo "$1" >> "$FAKE_PTXAS_LOG"
if [ "$1" = "-arch=$FAKE_PTXAS_FAIL" ]; then
  echo "fake ptxas: no $FAKE_PTXAS_FAIL today" >&2
  exit 1
fi
