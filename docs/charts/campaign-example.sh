#!/bin/sh
# The README's campaign chart: a throwaway database with three weeks of one campaign's notes on
# two platforms (Instagram every day, LinkedIn on weekdays, one day not logged at all), dated
# back from today with date=, its targets, then `smx ask --chart ... notes spring-launch chart`.
# Run from the checkout:
#   sh docs/charts/campaign-example.sh [OUT.png]     (SMX=.venv/bin/smx if smx is not on PATH)
set -eu
SMX=${SMX:-smx}
OUT=${1:-docs/charts/campaign.png}
DB=$(mktemp -d)/example.db
export SMX_DB="$DB"
day() { date -u -d "$1 days ago" +%F; }
note() { "$SMX" ask note spring-launch "$@" >/dev/null; }
d=21
while [ "$d" -ge 1 ]; do
    if [ "$d" -ne 9 ]; then  # nobody logged that day
        n=$((21 - d))
        note platform=instagram spend="\$$((130 + (n * 37) % 50))" impressions=$((14000 + (n * 911) % 3000)) \
            clicks=$((150 + (n * 53) % 60)) conversions=$((4 + (n * 7) % 5)) date="$(day "$d")" Reels and stories
        if [ "$(date -u -d "$d days ago" +%u)" -le 5 ]; then  # LinkedIn runs on weekdays
            note platform=linkedin spend="\$$((160 + (n * 29) % 40))" impressions=$((4600 + (n * 613) % 900)) \
                clicks=$((24 + (n * 5) % 9)) conversions=$((1 + n % 3)) date="$(day "$d")" sponsored content
        fi
    fi
    d=$((d - 1))
done
"$SMX" ask target spring-launch 'cpa<=40' 'ctr>=0.8%' 'spend<=$7k' >/dev/null
"$SMX" ask --chart "$OUT" notes spring-launch chart >/dev/null
rm -f "$DB"
echo "wrote $OUT"
