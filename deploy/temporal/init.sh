#!/bin/sh
# Makes a fresh Temporal server ready for the worker: creates the namespace if it is missing and registers the
# AgentPhone search attributes (all Keyword). Runs on every `docker compose up`; both steps are idempotent.
#
#   TEMPORAL_ADDRESS                 host:port of the frontend
#   TEMPORAL_NAMESPACE               default: default
#   TEMPORAL_NAMESPACE_RETENTION     default: 72h (closed calls stay visible in the Web UI this long)
#   AGENTPHONE_SEARCH_ATTRIBUTES     space-separated names; docker-compose.yml lists those of src/search-attributes.ts
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be set}"
: "${AGENTPHONE_SEARCH_ATTRIBUTES:?AGENTPHONE_SEARCH_ATTRIBUTES must be set}"
namespace=${TEMPORAL_NAMESPACE:-default}
retention=${TEMPORAL_NAMESPACE_RETENTION:-72h}
attempts=${TEMPORAL_INIT_ATTEMPTS:-60}

# Retries a command every 2 s; the server answers health checks before every service inside it is ready.
retry() {
  what=$1
  shift
  n=1
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then
      echo "temporal-init: gave up on $what after $attempts attempts" >&2
      return 1
    fi
    n=$((n + 1))
    sleep 2
  done
}

retry 'cluster health' temporal operator cluster health --address "$TEMPORAL_ADDRESS"

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$namespace" >/dev/null 2>&1; then
  echo "temporal-init: namespace $namespace exists"
else
  retry "namespace $namespace" temporal operator namespace create --address "$TEMPORAL_ADDRESS" \
    --namespace "$namespace" --retention "$retention"
  echo "temporal-init: namespace $namespace created (retention $retention)"
fi

# One --name/--type pair per attribute. Registering an attribute that exists with the same type is a no-op, and a
# namespace just created may take a few seconds to be known to every service: hence the retry.
set --
for name in $AGENTPHONE_SEARCH_ATTRIBUTES; do
  set -- "$@" --name "$name" --type Keyword
done
retry 'search attributes' temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
  --namespace "$namespace" "$@"
echo "temporal-init: search attributes registered on $namespace: $AGENTPHONE_SEARCH_ATTRIBUTES"
