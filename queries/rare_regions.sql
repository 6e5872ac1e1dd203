-- id: rare_regions
-- title: Activity in rarely used regions
-- description: Regions holding at most max_share_pct percent of the events of their account (global services are
-- description: logged in us-east-1 and never count as rare): attackers spread to unused regions to avoid detection.
-- param: max_share_pct int 1 | A region is rare below this share of its account's events (percent)
-- columns: account, region, events, share_pct, actors, event_names, first_seen, last_seen
WITH per_region AS (
    SELECT recipient_account_id AS account, aws_region AS region, count(*) AS events,
           list_sort(list(DISTINCT actor))[1:10] AS actors,
           list_sort(list(DISTINCT event_name))[1:15] AS event_names,
           min(event_time) AS first_seen, max(event_time) AS last_seen
    FROM events
    WHERE aws_region IS NOT NULL
    GROUP BY ALL
)
SELECT account, region, events, round(100.0 * events / sum(events) OVER (PARTITION BY account), 3) AS share_pct,
       actors, event_names, first_seen, last_seen
FROM per_region
WHERE region <> 'us-east-1'
QUALIFY 100.0 * events / sum(events) OVER (PARTITION BY account) <= $max_share_pct
ORDER BY account, events
