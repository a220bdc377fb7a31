#!/bin/sh
# One-shot job (docker-compose.yml `temporal-setup`, image temporalio/admin-tools): once the server
# answers, create the saga's namespace and register its custom search attributes there, so no
# workflow task ever fails on an unknown attribute.
# Idempotent: an existing namespace is kept as it is, and registering an attribute that already
# exists with the same type succeeds; the same name with another type fails the job (a person
# must decide). Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_NAMESPACE_RETENTION (e.g.
# 30d), SEARCH_ATTRIBUTES ("Name=Type ...", the list of workflows/search_attributes.py,
# kept equal to it by tests/deploy/test_compose.py), SETUP_ATTEMPTS (60 tries, 2 s apart).
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
: "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE is required}"
: "${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is required}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-30d}"
ATTEMPTS="${SETUP_ATTEMPTS:-60}"

# Retry a command until it succeeds or the attempts run out.
patiently() {
    what="$1"
    shift
    tries=0
    until "$@" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge "$ATTEMPTS" ]; then
            echo "setup: gave up waiting for $what" >&2
            return 1
        fi
        echo "setup: waiting for $what"
        sleep 2
    done
}

serving() {
    temporal operator cluster health --address "$TEMPORAL_ADDRESS" | grep -q SERVING
}

patiently "the Temporal server at $TEMPORAL_ADDRESS" serving

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" \
    --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    echo "setup: namespace $TEMPORAL_NAMESPACE exists"
else
    temporal operator namespace create --address "$TEMPORAL_ADDRESS" \
        --namespace "$TEMPORAL_NAMESPACE" --retention "$RETENTION" \
        --description "Upgrade activation sagas, one per paid order"
fi

# A new namespace reaches every frontend's cache a few seconds later.
patiently "namespace $TEMPORAL_NAMESPACE" temporal operator search-attribute list \
    --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE"

for attribute in $SEARCH_ATTRIBUTES; do
    name="${attribute%%=*}"
    type="${attribute#*=}"
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
        --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
    echo "setup: search attribute $name ($type)"
done
echo "setup: ready"
