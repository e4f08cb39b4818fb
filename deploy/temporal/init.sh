#!/bin/sh
# One-shot, in temporalio/admin-tools, once the server answers: the product's namespace and
# its custom search attributes. Idempotent: an existing namespace is kept, and creating an
# attribute that exists with the same type is a no-op (a different type fails loudly).
# The worker and API start only after this exits 0.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}" "${NAMESPACE:?NAMESPACE is required}"
RETENTION="${NAMESPACE_RETENTION:-30d}"
export TEMPORAL_ADDRESS  # every `temporal` command below reads it

retry() {  # retry <what> <command...>: up to $TRIES (60) tries, 2 s apart
  what="$1"
  shift
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "${TRIES:-60}" ]; then
      echo "gave up waiting for $what; last attempt:" >&2
      "$@" >&2 || true
      exit 1
    fi
    sleep 2
  done
}

retry "the Temporal cluster at $TEMPORAL_ADDRESS to be healthy" temporal operator cluster health

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "namespace $NAMESPACE created (retention $RETENTION)"
fi

# workflows/search_attributes.py, one call per attribute: the CLI registers only the first of
# several --name flags. tests/deploy/test_compose.py keeps this list in step with the code.
# Retried: a namespace just created takes a moment to reach the operator service's cache
# ("Namespace ... is not found"); a type conflict fails after the last try, with its message.
search_attribute() {
  TRIES=15 retry "search attribute $1 ($2)" \
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "$1" --type "$2"
  echo "search attribute $1 ($2) registered"
}
search_attribute OverdueState Keyword
search_attribute OverdueStage Keyword
search_attribute DaysPastDue Int
search_attribute AmountDueMinor Int
search_attribute NextActionAt Datetime
search_attribute Product Keyword
search_attribute PolicyId Keyword
search_attribute DueDate Datetime

# Ready when a query over every attribute is accepted: the namespace's attribute cache has
# caught up, so the first workflow the API starts can carry them.
retry "the search attributes to be queryable" temporal workflow count --namespace "$NAMESPACE" \
  --query "OverdueState = 'x' AND OverdueStage = 'x' AND DaysPastDue = 0 AND AmountDueMinor = 0 AND NextActionAt > '2000-01-01T00:00:00Z' AND Product = 'x' AND DueDate > '2000-01-01T00:00:00Z' AND PolicyId = 'x'"
echo "namespace $NAMESPACE is ready for overdue-reminders"
