#!/bin/sh
# The README's digest chart: a throwaway database with three campaigns logged over four weeks
# (dated back from today with date=), then `smx digest preview --chart`. Run from the checkout:
#   sh docs/charts/digest-example.sh [OUT.png]     (SMX=.venv/bin/smx if smx is not on PATH)
set -eu
SMX=${SMX:-smx}
OUT=${1:-docs/charts/digest.png}
DB=$(mktemp -d)/example.db
export SMX_DB="$DB"
day() { date -u -d "$1 days ago" +%F; }
note() { "$SMX" ask note "$@" >/dev/null; }
note spring-launch platform=instagram spend='$420' impressions=52000 clicks=610 conversions=18 date="$(day 2)" carousel with the new hook
note spring-launch platform=instagram spend='$380' impressions=47000 clicks=540 conversions=15 date="$(day 9)"
note spring-launch platform=instagram spend='$300' impressions=40000 clicks=400 conversions=9 date="$(day 16)"
note webinar-q1 platform=linkedin spend='$900' impressions=24000 clicks=160 conversions=7 date="$(day 3)" sponsored post for the webinar
note webinar-q1 platform=linkedin spend='$650' impressions=18000 clicks=120 conversions=4 date="$(day 12)"
note tiktok-teasers platform=tiktok spend='$250' impressions=90000 clicks=700 date="$(day 1)" three teasers
note tiktok-teasers platform=tiktok spend='$200' impressions=70000 clicks=500 date="$(day 22)"
note newsletter-push organic: the newsletter link got shared date="$(day 4)"
"$SMX" digest preview --chart "$OUT" >/dev/null
rm -f "$DB"
echo "wrote $OUT"
